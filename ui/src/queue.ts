/**
 * The queue view's words and numbers: a job's state, why it waits, its progress and a batch's
 * summary line. The shapes are generated from Rust (generated/bindings.ts); this module is kept
 * free of the DOM so it can be unit-tested.
 */
import type { ItemState, QueueItem, UploadProgress } from "./generated/bindings";
import { files } from "./status";

export type { BatchQueued, DropOutcome, QueueItem, QueueRemoved, UploadProgress, Wait } from "./generated/bindings";

/** Where a job is. */
export type JobState = ItemState;

const UNITS = ["B", "KB", "MB", "GB"] as const;

/** A size as people read it: "812 KB", "4.2 MB". */
export function size(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${UNITS[unit]}`;
}

/** A duration as "5 s", "3 min", "2 h 5 min". */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** A wall-clock time, "14:05". */
export function clock(ms: number): string {
  const at = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** The line under a job's name. */
export function describeJob(item: QueueItem, now: number): string {
  switch (item.state) {
    case "queued":
      return `${size(item.size)} · queued`;
    case "waiting": {
      const why = item.wait?.message ?? "Waiting";
      const until = item.wait?.until;
      return until != null && until > now ? `${why} Until ${clock(until)}.` : why;
    }
    case "uploading": {
      const progress = item.progress;
      if (!progress || progress.total === 0) return `${size(item.size)} · starting`;
      const parts = [`${size(progress.sent)} of ${size(progress.total)}`];
      if (progress.bytes_per_second > 0) {
        parts.push(`${size(progress.bytes_per_second)}/s`);
        const left = ((progress.total - progress.sent) / progress.bytes_per_second) * 1000;
        parts.push(`${duration(left)} left`);
      }
      return parts.join(" · ");
    }
    case "done":
      return item.link ?? "Uploaded";
    case "failed":
      return item.error?.message ?? "Failed";
    case "cancelled":
      return "Cancelled";
  }
}

/** Which actions a job offers. */
export function actionsFor(item: QueueItem): { retry: boolean; cancel: boolean; remove: boolean } {
  return {
    retry: item.state === "failed" || item.state === "waiting",
    cancel: item.state === "queued" || item.state === "waiting" || item.state === "uploading",
    remove: item.state === "done" || item.state === "failed" || item.state === "cancelled",
  };
}

/** What the queue view is told, in the order it was told. */
export type QueueChange =
  | { kind: "changed"; item: QueueItem }
  | { kind: "removed"; job: string }
  | { kind: "progress"; progress: UploadProgress };

/** The list with a run of changes applied at once (the view applies what came in a frame):
 * one pass, and items that did not change keep their identity so they are not redrawn. */
export function applyChanges(items: readonly QueueItem[], changes: readonly QueueChange[]): QueueItem[] {
  const byJob = new Map(items.map((item) => [item.job, item] as const));
  const order = items.map((item) => item.job);
  for (const change of changes) {
    switch (change.kind) {
      case "changed": {
        const shown = byJob.get(change.item.job);
        if (!shown) order.push(change.item.job);
        byJob.set(change.item.job, { ...change.item, thumbnail: change.item.thumbnail ?? shown?.thumbnail ?? null });
        break;
      }
      case "removed": {
        // Rare: the one change that costs a pass over the order.
        if (byJob.delete(change.job)) order.splice(order.indexOf(change.job), 1);
        break;
      }
      case "progress": {
        const shown = byJob.get(change.progress.job);
        if (shown) byJob.set(shown.job, { ...shown, state: "uploading", progress: change.progress });
        break;
      }
    }
  }
  return order.flatMap((job) => {
    const item = byJob.get(job);
    if (!item) return [];
    byJob.delete(job);
    return [item];
  });
}

/** The summary line over the list: "3 uploading, 2 waiting, 10 done". */
export function summary(items: readonly QueueItem[]): string {
  if (items.length === 0) return "Nothing in the queue";
  const order: [JobState, string][] = [
    ["uploading", "uploading"],
    ["queued", "queued"],
    ["waiting", "waiting"],
    ["done", "done"],
    ["failed", "failed"],
    ["cancelled", "cancelled"],
  ];
  const parts = order
    .map(([state, word]) => [items.filter((item) => item.state === state).length, word] as const)
    .filter(([count]) => count > 0)
    .map(([count, word]) => `${count} ${word}`);
  return `${files(items.length)}: ${parts.join(", ")}`;
}

/** The summary line of the newest batch (one drop, pick or paste) when it has several files:
 * "Last drop: 12 files: 3 uploading, 9 done"; "" otherwise. */
export function latestBatchSummary(items: readonly QueueItem[]): string {
  const batch = [...items].reverse().find((item) => item.batch != null)?.batch;
  if (batch == null) return "";
  const files = items.filter((item) => item.batch === batch);
  if (files.length < 2) return "";
  return `Last drop: ${summary(files)}`;
}
