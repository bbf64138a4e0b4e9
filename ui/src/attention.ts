/**
 * What needs the user's attention (the shell's `attention` command): config files the core set
 * aside at start, and upload workers retrying a database fault. Kept free of the DOM so it can
 * be unit-tested; `main.ts` only renders it.
 */

import type { Attention, ConfigNotice } from "./generated/bindings";
export type { Attention, ConfigNotice, WorkerFault } from "./generated/bindings";

/** One line to show, with a stable key so an unchanged line is not redrawn. */
export interface AttentionLine {
  key: string;
  text: string;
  /** A notice can be dismissed once read; a fault stays until it clears. */
  dismissable: boolean;
}

/** The last part of a path, whichever separator the platform uses. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** The core's sentence with its full paths shortened to file names: the banner stays small. */
function shortened(notice: ConfigNotice): string {
  return [notice.set_aside_as, notice.file]
    .filter((path) => path.length > 0)
    .reduce((text, path) => text.split(path).join(baseName(path)), notice.message);
}

function clock(ms: number): string {
  const at = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/**
 * The lines to show, notices first (those the user dismissed left out). A fault says what failed, since when, and that nothing is
 * lost: the workers keep retrying and carry on once the fault clears.
 */
export function describeAttention(
  attention: Attention,
  dismissed: ReadonlySet<string> = new Set(),
): AttentionLine[] {
  const lines: AttentionLine[] = attention.notices
    .map((notice) => ({
      key: `notice:${notice.file}:${notice.set_aside_as}`,
      text: shortened(notice),
      dismissable: true,
    }))
    .filter((line) => !dismissed.has(line.key));
  for (const fault of attention.worker_faults) {
    const who = fault.pid === attention.own_pid ? "Uploads" : `Uploads of process ${fault.pid}`;
    lines.push({
      key: `fault:${fault.runner}:${fault.code}`,
      text: `${who} are paused since ${clock(fault.since)}: ${fault.message} Nothing is lost; they carry on once this is fixed.`,
      dismissable: false,
    });
  }
  return lines;
}
