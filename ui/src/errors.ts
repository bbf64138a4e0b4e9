/**
 * Errors from the shell's commands. Every error of Upshot arrives as `{ code, message }`: the
 * code is stable snake_case (docs/ERROR_CODES.md) and is that of the layer where the failure
 * happened (`disk_full`, not the code of a layer that passed it on); the message is for people.
 */

import type { CommandError } from "./generated/bindings";
/** An error from a command: `{ code, message }` (the shell's `Error`). */
export type { CommandError } from "./generated/bindings";

/** Whatever a command rejected with, as a `CommandError` (a bare string or a JS error is `internal`). */
export function asCommandError(error: unknown): CommandError {
  if (error && typeof error === "object" && "message" in error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { code: typeof code === "string" && code ? code : "internal", message: String(message) };
  }
  return { code: "internal", message: String(error) };
}
