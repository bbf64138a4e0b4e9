/**
 * The history view's entries. The shape is generated from Rust (the `history_list` command, the
 * `history-added` event); kept free of the DOM so it can be unit-tested.
 */

import type { HistoryItem } from "./generated/bindings";
export type { FormattedLink, HistoryItem } from "./generated/bindings";

/** "Today 14:05", "12 Mar 2026". */
export function when(ms: number, now: number): string {
  const at = new Date(ms);
  const today = new Date(now);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (at.toDateString() === today.toDateString()) {
    return `Today ${pad(at.getHours())}:${pad(at.getMinutes())}`;
  }
  return at.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

/** The list with a new entry on top (an entry already shown is not doubled). */
export function prepend(items: readonly HistoryItem[], item: HistoryItem): HistoryItem[] {
  return [item, ...items.filter((shown) => shown.id !== item.id)];
}

/** Whether an entry matches the search box (name or link, any case). */
export function matches(item: HistoryItem, query: string): boolean {
  const wanted = query.trim().toLowerCase();
  return wanted === "" || item.name.toLowerCase().includes(wanted) || item.link.toLowerCase().includes(wanted);
}
