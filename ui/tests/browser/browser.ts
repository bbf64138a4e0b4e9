import { afterAll, beforeAll } from "vitest";
/// <reference types="node" />
/**
 * The browser tests' set-up: Vite serves the app and the harness page, Debian's Chromium
 * (never a downloaded one) runs it through playwright-core, axe-core checks it.
 */
import { createServer, type ViteDevServer } from "vite";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NOW } from "./fixtures";
import type { Scenario } from "./harness";

const here = dirname(fileURLToPath(import.meta.url));
const ui = resolve(here, "../..");
export const SCREENSHOTS = resolve(ui, "../docs/screenshots");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** The Tauri window's size (src-tauri/tauri.conf.json). */
export const WINDOW = { width: 520, height: 600 };

export type Scheme = "light" | "dark";

export interface Session {
  server: ViteDevServer;
  browser: Browser;
  url: string;
}

export async function start(): Promise<Session> {
  const server = await createServer({
    root: ui,
    configFile: resolve(ui, "vite.config.ts"),
    logLevel: "warn",
    server: { port: 0, strictPort: false, host: "127.0.0.1", hmr: false },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === "string") throw new Error("Vite did not say its port");
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // Containers and CI run as root, where Chromium's sandbox cannot start, and often with a
    // small /dev/shm.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return { server, browser, url: `http://127.0.0.1:${address.port}/tests/browser/harness.html` };
}

export async function stop(session: Session | undefined): Promise<void> {
  await session?.browser.close();
  await session?.server.close();
}

export interface Opened {
  context: BrowserContext;
  page: Page;
  /** Errors thrown in the page; a test ends by checking there were none. */
  errors: string[];
}

/** A fresh page on the harness with `scenario`'s answers, in a fixed clock and time zone. */
export async function open(
  session: Session,
  scenario: Scenario,
  options: { scheme?: Scheme; viewport?: { width: number; height: number }; scale?: number } = {},
): Promise<Opened> {
  const context = await session.browser.newContext({
    viewport: options.viewport ?? WINDOW,
    deviceScaleFactor: options.scale ?? 1,
    colorScheme: options.scheme ?? "light",
    timezoneId: "UTC",
    locale: "en-GB",
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.clock.setFixedTime(NOW);
  await page.addInitScript((given) => {
    (window as unknown as { __scenario: unknown }).__scenario = given;
  }, scenario);
  await page.goto(session.url);
  await page.locator(".app").waitFor();
  return { context, page, errors };
}

/** The commands the page called, with their arguments. */
export async function calls(page: Page): Promise<{ command: string; args: unknown }[]> {
  return page.evaluate(() => window.harness.calls.filter((call) => !call.command.startsWith("plugin:")));
}

/** Emits a shell event into the page. */
export async function emit(page: Page, event: string, payload: unknown): Promise<void> {
  await page.evaluate(([name, body]) => window.harness.emit(name as string, body), [event, payload] as const);
}

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
    }
    const results = await axe.run(document);
    return results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.map((node) => node.target.join(" ")),
      }));
  });
}

/** Switches the window to a view by its tab. */
export async function show(page: Page, view: "Uploads" | "History" | "Settings"): Promise<void> {
  await page.getByRole("navigation", { name: "Views" }).getByRole("button", { name: view }).click();
  await page.locator(`#view-${view.toLowerCase()}`).waitFor();
}

/** One Chromium for a test file: started before its tests, stopped after them. Answers the
 * getter its tests open pages with. */
export function sharedSession(): () => Session {
  let session: Session | undefined;
  beforeAll(async () => {
    session = await start();
  });
  afterAll(async () => {
    await stop(session);
  });
  return () => {
    if (!session) throw new Error("the browser did not start");
    return session;
  };
}
