import { describe, expect, it } from "vitest";
import { actionsFor, applyChanges, describeJob, duration, latestBatchSummary, size, summary, type QueueItem, type UploadProgress } from "./queue";

const item = (over: Partial<QueueItem> = {}): QueueItem => ({
  job: "j1",
  batch: "b1",
  name: "cat.png",
  size: 2 * 1024 * 1024,
  state: "queued",
  wait: null,
  progress: null,
  link: null,
  error: null,
  thumbnail: null,
  ...over,
});

describe("sizes and durations", () => {
  it("reads like people write them", () => {
    expect(size(512)).toBe("512 B");
    expect(size(1536)).toBe("1.5 KB");
    expect(size(20 * 1024 * 1024)).toBe("20 MB");
    expect(duration(4_000)).toBe("4 s");
    expect(duration(180_000)).toBe("3 min");
    expect(duration(2 * 3_600_000 + 5 * 60_000)).toBe("2 h 5 min");
  });
});

describe("a job's line", () => {
  it("shows progress, speed and time left while uploading", () => {
    const line = describeJob(
      item({ state: "uploading", progress: { job: "j1", sent: 1024 * 1024, total: 2 * 1024 * 1024, bytes_per_second: 512 * 1024 } }),
      0,
    );
    expect(line).toBe("1.0 MB of 2.0 MB · 512 KB/s · 2 s left");
  });

  it("says why a job waits and until when", () => {
    const until = new Date(2026, 0, 1, 14, 5).getTime();
    const line = describeJob(item({ state: "waiting", wait: { reason: "budget", message: "Today's uploads are used up.", until } }), until - 1);
    expect(line).toBe("Today's uploads are used up. Until 14:05.");
  });

  it("shows the link when done and the error when failed", () => {
    expect(describeJob(item({ state: "done", link: "https://i.imgur.com/a.png" }), 0)).toBe("https://i.imgur.com/a.png");
    expect(describeJob(item({ state: "failed", error: { code: "too_large", message: "Too big." } }), 0)).toBe("Too big.");
  });

  it("offers retry, cancel and remove where they make sense", () => {
    expect(actionsFor(item({ state: "uploading" }))).toEqual({ retry: false, cancel: true, remove: false });
    expect(actionsFor(item({ state: "failed" }))).toEqual({ retry: true, cancel: false, remove: true });
    expect(actionsFor(item({ state: "done" }))).toEqual({ retry: false, cancel: false, remove: true });
  });
});

const upsert = (items: QueueItem[], changed: QueueItem) => applyChanges(items, [{ kind: "changed", item: changed }]);
const withProgress = (items: QueueItem[], progress: UploadProgress) => applyChanges(items, [{ kind: "progress", progress }]);

describe("the list", () => {
  it("replaces a job in place and appends a new one", () => {
    const list = [item(), item({ job: "j2" })];
    const next = upsert(list, item({ job: "j1", state: "done" }));
    expect(next.map((shown) => [shown.job, shown.state])).toEqual([["j1", "done"], ["j2", "queued"]]);
    expect(upsert(list, item({ job: "j3" })).map((shown) => shown.job)).toEqual(["j1", "j2", "j3"]);
  });

  it("applies progress to its job only", () => {
    const next = withProgress([item(), item({ job: "j2" })], { job: "j2", sent: 5, total: 10, bytes_per_second: 0 });
    expect(next[0]?.progress).toBeNull();
    expect(next[1]?.state).toBe("uploading");
  });

  it("sums a batch up", () => {
    expect(summary([])).toBe("Nothing in the queue");
    expect(summary([item({ state: "done" }), item({ state: "uploading" }), item({ state: "done" })])).toBe(
      "3 files: 1 uploading, 2 done",
    );
  });
});

describe("the newest batch's line", () => {
  it("sums up the last drop of several files only", () => {
    const older = item({ job: "j0", batch: "b1", state: "done" });
    const watched = item({ job: "w1", batch: null, state: "queued" });
    expect(latestBatchSummary([older, watched])).toBe("");
    const drop = [item({ job: "j2", batch: "b2", state: "done" }), item({ job: "j3", batch: "b2", state: "uploading" })];
    expect(latestBatchSummary([older, ...drop, watched])).toBe("Last drop: 2 files: 1 uploading, 1 done");
  });
});

describe("changes applied in one pass", () => {
  it("keeps order and thumbnails, leaves untouched items as they were, drops removed ones", () => {
    const a = item({ job: "a", thumbnail: "data:image/jpeg;base64,AAAA" });
    const b = item({ job: "b" });
    const c = item({ job: "c" });
    const next = applyChanges(
      [a, b, c],
      [
        { kind: "changed", item: item({ job: "a", state: "done", thumbnail: null }) },
        { kind: "progress", progress: { job: "c", sent: 5, total: 10, bytes_per_second: 0 } },
        { kind: "removed", job: "b" },
        { kind: "changed", item: item({ job: "d" }) },
        { kind: "progress", progress: { job: "gone", sent: 1, total: 2, bytes_per_second: 0 } },
      ],
    );
    expect(next.map((shown) => shown.job)).toEqual(["a", "c", "d"]);
    expect(next[0]?.state).toBe("done");
    expect(next[0]?.thumbnail).toBe("data:image/jpeg;base64,AAAA");
    expect(next[1]?.progress?.sent).toBe(5);
    const untouched = applyChanges(next, [{ kind: "changed", item: item({ job: "d", state: "done" }) }]);
    expect(untouched[0]).toBe(next[0]);
  });

  it("a job removed and queued again comes back at the end", () => {
    const next = applyChanges([item({ job: "a" }), item({ job: "b" })], [
      { kind: "removed", job: "a" },
      { kind: "changed", item: item({ job: "a" }) },
    ]);
    expect(next.map((shown) => shown.job)).toEqual(["b", "a"]);
  });
});
