/**
 * Each view for people: axe-core finds no serious or critical violation in light and dark,
 * the keyboard alone reaches every control with its focus visible, Escape closes dialogs, and
 * the window is usable at 200% zoom. The screenshots in docs/screenshots are written here.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { emit, open, SCREENSHOTS, seriousViolations, sharedSession, show, WINDOW, type Scheme } from "./browser";
import { full, ok } from "./fixtures";

const running = sharedSession();

type View = "Uploads" | "History" | "Settings";
const VIEWS: View[] = ["Uploads", "History", "Settings"];
const SCHEMES: Scheme[] = ["light", "dark"];

/** Shows `view` and waits until its panels have what the shell answered. */
async function ready(page: Page, view: View): Promise<void> {
  await show(page, view);
  const filled = { Uploads: ".job", History: ".entry", Settings: ".folder" }[view];
  await page.locator(filled).first().waitFor();
  await page.locator(".quota-line").waitFor();
}

describe.each(SCHEMES)("in %s mode", (scheme) => {
  it.each(VIEWS)("the %s view has no serious or critical axe violation, and is photographed", async (view) => {
    const { page, errors, context } = await open(running(), full(), { scheme });
    await ready(page, view);
    expect(await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches)).toBe(scheme === "dark");
    await page.screenshot({
      path: resolve(SCREENSHOTS, `${view.toLowerCase()}-${scheme}.png`),
      animations: "disabled",
      caret: "hide",
    });
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("the drop target, the attention banner and a dialog have no serious or critical axe violation", async () => {
    const attention = {
      notices: [{ code: "config_unreadable", message: "settings.json could not be read; defaults are used.", file: "settings.json", set_aside_as: "" }],
      worker_faults: [],
      own_pid: 1,
    };
    const { page, context } = await open(running(), full({ attention: ok(attention) }), { scheme });
    await ready(page, "Uploads");
    await page.locator(".attention").waitFor();
    await emit(page, "tauri://drag-enter", { paths: ["/home/alice/a.png"], position: { x: 10, y: 10 } });
    await page.locator(".drop-overlay").waitFor();
    await page.screenshot({ path: resolve(SCREENSHOTS, `dragging-${scheme}.png`), animations: "disabled", caret: "hide" });
    expect(await seriousViolations(page)).toEqual([]);
    await emit(page, "tauri://drag-leave", null);
    await ready(page, "Settings");
    await page.getByRole("button", { name: "Add folder…" }).click();
    await page.getByRole("dialog", { name: "Watch a folder" }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});

/** Marks every control a keyboard user must reach; returns how many. */
async function markControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll<HTMLElement>("button, input, select, textarea, a[href], [tabindex]")].filter(
      (element) =>
        element.tabIndex >= 0 &&
        !element.matches(":disabled") &&
        element.getClientRects().length > 0 &&
        !element.closest("dialog:not([open])") &&
        // Arrow keys move within a radio group; Tab stops on its checked one.
        !(element instanceof HTMLInputElement && element.type === "radio" && !element.checked),
    );
    return controls.map((element, index) => {
      element.dataset.kb = String(index);
      return (element.getAttribute("aria-label") ?? element.textContent ?? element.tagName).trim();
    });
  });
}

interface Focused {
  kb: string | null;
  label: string;
  outlined: boolean;
}

async function tab(page: Page, key = "Tab"): Promise<Focused> {
  await page.keyboard.press(key);
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return { kb: null, label: "body", outlined: false };
    const style = getComputedStyle(element);
    return {
      kb: element.dataset.kb ?? null,
      label: (element.getAttribute("aria-label") ?? element.textContent ?? element.tagName).trim(),
      outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    };
  });
}

describe("keyboard only", () => {
  it.each(VIEWS)("Tab reaches every control of the %s view, each with a visible focus", async (view) => {
    const { page, context } = await open(running(), full());
    await ready(page, view);
    const controls = await markControls(page);
    expect(controls.length).toBeGreaterThan(3);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const reached = new Set<string>();
    for (let i = 0; i < controls.length + 2; i += 1) {
      const focused = await tab(page);
      if (focused.kb === null) continue;
      reached.add(focused.kb);
      expect(focused.outlined, `focus ring on "${focused.label}"`).toBe(true);
    }
    const missed = controls.filter((_, index) => !reached.has(String(index)));
    expect(missed).toEqual([]);
    await context.close();
  });

  it("switches views and opens and closes a dialog without a mouse", async () => {
    const { page, context } = await open(running(), full());
    await page.locator(".job").first().waitFor();
    // From the top: the view buttons come first after the quota meter.
    let focused = await tab(page);
    while (focused.label !== "Settings") focused = await tab(page);
    await page.keyboard.press("Enter");
    await page.locator("#view-settings").waitFor();
    await page.locator(".folder").first().waitFor();
    while (focused.label !== "Add folder…") focused = await tab(page);
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Watch a folder" });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest("dialog") !== null)).toBe(true);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Add folder…");
    // The removal's confirmation closes with Escape too, and nothing is removed.
    while (focused.label !== "Remove /home/alice/Camera") focused = await tab(page);
    await page.keyboard.press("Enter");
    const confirm = page.getByRole("dialog", { name: "Stop watching this folder?" });
    await confirm.waitFor();
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "hidden" });
    const removed = await page.evaluate(() => window.harness.calls.some((call) => call.command === "watch_remove"));
    expect(removed).toBe(false);
    await context.close();
  });
});

describe("at 200% zoom", () => {
  it.each(VIEWS)("the %s view fits the window's width and keeps every control on screen", async (view) => {
    // The app's window at 200%: half as many CSS pixels, each two device pixels.
    const { page, context } = await open(running(), full(), {
      viewport: { width: WINDOW.width / 2, height: WINDOW.height / 2 },
      scale: 2,
    });
    await ready(page, view);
    const width = WINDOW.width / 2;
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await markControls(page);
    const outside = await page.evaluate((limit) => {
      return [...document.querySelectorAll<HTMLElement>("[data-kb]")]
        .filter((element) => {
          const box = element.getBoundingClientRect();
          return box.left < 0 || box.right > limit + 0.5;
        })
        .map((element) => (element.getAttribute("aria-label") ?? element.textContent ?? "").trim());
    }, width);
    expect(outside).toEqual([]);
    // Text is not shrunk to fit: the body stays at its 15 px.
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe("15px");
    await context.close();
  });
});
