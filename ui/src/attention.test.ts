import { describe, expect, it } from "vitest";
import { describeAttention, type Attention } from "./attention";

const none: Attention = { notices: [], worker_faults: [], own_pid: 7 };

describe("the attention banner", () => {
  it("is empty when nothing needs attention", () => {
    expect(describeAttention(none)).toEqual([]);
  });

  it("shows a set-aside settings file in the core's words", () => {
    const lines = describeAttention({
      ...none,
      notices: [
        {
          code: "config_set_aside",
          message: "settings.json could not be read; it was set aside as settings.json.corrupt-20261124T153000Z and the defaults are used.",
          file: "/home/u/.config/upshot/settings.json",
          set_aside_as: "/home/u/.config/upshot/settings.json.corrupt-20261124T153000Z",
        },
      ],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text).toMatch(/set aside as settings\.json\.corrupt-/);
    expect(lines[0]!.dismissable).toBe(true);
  });

  it("names files, not their full paths, and leaves out dismissed notices", () => {
    const notice = {
      code: "config_set_aside",
      message:
        "/home/u/.config/upshot/watch.json could not be read (it ends too early); it was moved to /home/u/.config/upshot/watch.json.corrupt-20261124T162946Z and Upshot started from the defaults. No folder is watched until you add them again.",
      file: "/home/u/.config/upshot/watch.json",
      set_aside_as: "/home/u/.config/upshot/watch.json.corrupt-20261124T162946Z",
    };
    const [line] = describeAttention({ ...none, notices: [notice] });
    expect(line!.text).toBe(
      "watch.json could not be read (it ends too early); it was moved to watch.json.corrupt-20261124T162946Z and Upshot started from the defaults. No folder is watched until you add them again.",
    );
    expect(describeAttention({ ...none, notices: [notice] }, new Set([line!.key]))).toEqual([]);
    const windows = { ...notice, message: "C:\\u\\watch.json was moved", file: "C:\\u\\watch.json", set_aside_as: "" };
    expect(describeAttention({ ...none, notices: [windows] })[0]!.text).toBe("watch.json was moved");
  });

  it("says a worker fault is waiting, since when, and that nothing is lost", () => {
    const since = new Date(2026, 10, 24, 9, 5).getTime();
    const fault = {
      runner: "pid7-abc",
      pid: 7,
      code: "disk_full",
      message: "The disk holding Upshot's data is full; free some space.",
      since,
      updated_at: since + 1000,
    };
    const own = describeAttention({ ...none, worker_faults: [fault] })[0]!;
    expect(own.text).toBe(
      "Uploads are paused since 09:05: The disk holding Upshot's data is full; free some space. Nothing is lost; they carry on once this is fixed.",
    );
    const other = describeAttention({ ...none, worker_faults: [fault], own_pid: 8 })[0]!;
    expect(other.text).toMatch(/^Uploads of process 7 are paused/);
    expect(own.key).toBe(other.key);
    expect(own.dismissable).toBe(false);
  });

  it("lists notices before faults", () => {
    const lines = describeAttention({
      notices: [{ code: "config_set_aside", message: "watch.json was set aside.", file: "w", set_aside_as: "w2" }],
      worker_faults: [
        { runner: "r", pid: 1, code: "database_busy", message: "busy.", since: 0, updated_at: 0 },
      ],
      own_pid: 1,
    });
    expect(lines.map((line) => line.key)).toEqual(["notice:w:w2", "fault:r:database_busy"]);
  });
});
