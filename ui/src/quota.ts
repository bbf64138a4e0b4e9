/**
 * The quota meter: what is left of today's Imgur budget and when it resets. The shape is
 * generated from Rust (the `quota` command, the `quota-changed` event); kept free of the DOM
 * so it can be unit-tested.
 */
import { clock } from "./queue";

import type { Quota } from "./generated/bindings";
export type { Quota } from "./generated/bindings";

/** What the meter shows. */
export interface QuotaView {
  /** "41 of 50 uploads left". */
  uploads: string;
  /** "11,800 of 12,500 credits left". */
  credits: string;
  /** 0..1 of uploads left, for the bar; `null` when unknown. */
  fraction: number | null;
  /** "Resets at 02:00", "Next upload at 14:05", or "". */
  detail: string;
  tone: "idle" | "warning" | "error";
}

function count(left: number | null, limit: number | null, what: string): string {
  if (left == null) return `${what} left: not known yet`;
  const shown = left.toLocaleString("en");
  return limit == null ? `${shown} ${what} left` : `${shown} of ${limit.toLocaleString("en")} ${what} left`;
}

/** Turns the budget into what the meter shows. */
export function describeQuota(quota: Quota, now: number): QuotaView {
  const fraction =
    quota.uploads_left != null && quota.uploads_limit
      ? Math.max(0, Math.min(1, quota.uploads_left / quota.uploads_limit))
      : null;
  const holding = quota.next_slot_at != null && quota.next_slot_at > now;
  const lowest = Math.min(quota.uploads_left ?? Infinity, quota.credits_left ?? Infinity);
  const tone = holding ? "error" : lowest <= quota.reserve * 2 ? "warning" : "idle";
  let detail = "";
  if (holding && quota.next_slot_at != null) detail = `Uploads wait; the next goes at ${clock(quota.next_slot_at)}.`;
  else if (tone === "warning") detail = "Close to the reserve: uploads will start to wait.";
  if (quota.resets_at != null) detail = `${detail} Resets at ${clock(quota.resets_at)}.`.trim();
  return {
    uploads: count(quota.uploads_left, quota.uploads_limit, "uploads"),
    credits: count(quota.credits_left, quota.credits_limit, "credits"),
    fraction,
    detail,
    tone,
  };
}
