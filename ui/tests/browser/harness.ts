/**
 * The browser tests' page: the real app (`src/main.ts`) with Tauri's IPC replaced by
 * `@tauri-apps/api/mocks`. The test sets `window.__scenario` (before the page loads) to say
 * what each command answers; a command the scenario does not name is rejected the way Tauri
 * rejects a command the shell does not register. Every call is recorded, and the test emits
 * events (drag-drop, progress, login-finished) through the mocked event plugin.
 */
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";

/** What a command answers: a value, one of its own arguments back (a save answering what
 * it saved), or an error (`{ code, message }`) it rejects with. */
export type Reply = { ok: unknown } | { echo: string } | { err: { code: string; message: string } };

export interface Scenario {
  replies: Record<string, Reply>;
}

export interface Harness {
  calls: { command: string; args: unknown }[];
  emit: (event: string, payload: unknown) => Promise<void>;
  reply: (command: string, reply: Reply) => void;
}

declare global {
  interface Window {
    __scenario?: Scenario;
    harness: Harness;
    isTauri?: boolean;
  }
}

const replies: Record<string, Reply> = { ...(window.__scenario?.replies ?? {}) };
const calls: Harness["calls"] = [];

mockWindows("main");
mockIPC(
  (command, args) => {
    calls.push({ command, args });
    const reply = replies[command];
    if (!reply) return Promise.reject(`Command ${command} not found`);
    if ("ok" in reply) return reply.ok;
    if ("echo" in reply) return (args as Record<string, unknown>)[reply.echo];
    return Promise.reject(reply.err);
  },
  { shouldMockEvents: true },
);
// What `isTauri()` reads: the app takes the shell's paths, not the plain-browser fallbacks.
window.isTauri = true;

window.harness = {
  calls,
  emit: (event, payload) => emit(event, payload),
  reply: (command, reply) => {
    replies[command] = reply;
  },
};

await import("../../src/main");
