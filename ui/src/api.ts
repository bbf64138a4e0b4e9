/**
 * The one typed door to the shell: every command the UI calls and every event it listens to.
 * Their names, arguments, answers and payloads are generated from the Rust definitions
 * (`src-tauri/src/bindings.rs` writes `generated/bindings.ts`; a test fails when it is out of
 * date), so a renamed command or a changed shape is a compile error here, never a surprise at
 * run time. Components call `call`/`on` and never `invoke` or `listen` with a bare string.
 */
import { invoke, isTauri } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { asCommandError, type CommandError } from "./errors";
import type { Commands, Events } from "./generated/bindings";
export type { Commands, Events } from "./generated/bindings";

type ArgsOf<K extends keyof Commands> = Commands[K]["args"] extends undefined
  ? []
  : [Commands[K]["args"]];

/** Whether a shell is there to call (false in `npm run dev` in a plain browser). */
export function inShell(): boolean {
  return isTauri();
}

/** Calls a command; rejects with a [`CommandError`] (`{ code, message }`). */
export async function call<K extends keyof Commands>(
  command: K,
  ...args: ArgsOf<K>
): Promise<Commands[K]["result"]> {
  try {
    return await invoke<Commands[K]["result"]>(command, args[0] as Record<string, unknown> | undefined);
  } catch (error) {
    throw asCommandError(error);
  }
}

/** Listens to an event; resolves to the function that stops listening. */
export function on<K extends keyof Events>(
  event: K,
  handler: (payload: Events[K]) => void,
): Promise<UnlistenFn> {
  return listen<Events[K]>(event, (message) => handler(message.payload));
}

/** Whether an error means the shell does not offer the command yet (an older or newer app). */
export function isMissingCommand(error: CommandError): boolean {
  return /command .* not found|not allowed|unknown command/i.test(error.message);
}
