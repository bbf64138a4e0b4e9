/**
 * What the status line says. Kept free of the DOM so it can be unit-tested; `main.ts` only
 * renders it. Each job's progress shows in the queue view; this line says what just happened.
 */
export type AppStatus =
  | { kind: "ready" }
  | { kind: "dragging" }
  | { kind: "pasting" }
  | { kind: "batch"; message: string }
  | { kind: "dropped"; count: number }
  | { kind: "queued"; count: number; rejected: number }
  | { kind: "error"; message: string };

/** How the status dot is coloured. */
export type StatusTone = "idle" | "active" | "error";

/** The text and tone shown for a status. */
export interface StatusView {
  text: string;
  tone: StatusTone;
}

/** Pluralises "file" the way the status line needs it. */
export function files(count: number): string {
  return count === 1 ? "1 file" : `${count} files`;
}

/** Turns an app status into what the status line shows. */
export function describeStatus(status: AppStatus): StatusView {
  switch (status.kind) {
    case "ready":
      return { text: "Ready", tone: "idle" };
    case "dragging":
      return { text: "Release to add", tone: "active" };
    case "pasting":
      return { text: "Reading the clipboard…", tone: "active" };
    case "batch":
      return { text: status.message, tone: "idle" };
    case "dropped":
      return status.count === 0
        ? { text: "Nothing to upload in that drop", tone: "idle" }
        : { text: `${files(status.count)} received; only the desktop app can upload dropped files`, tone: "active" };
    case "queued":
      if (status.count === 0 && status.rejected === 0) return { text: "Nothing to upload there", tone: "idle" };
      return {
        text: status.rejected === 0
          ? `${files(status.count)} queued`
          : `${files(status.count)} queued; ${files(status.rejected)} skipped`,
        tone: status.rejected === 0 ? "active" : "error",
      };
    case "error":
      return { text: status.message, tone: "error" };
  }
}
