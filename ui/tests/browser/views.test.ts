/**
 * Each view of the window in Chromium, its shell mocked: the panels render what the shell
 * answers and react to its events and to the user.
 */
import { describe, expect, it } from "vitest";
import { calls, emit, open, sharedSession, show } from "./browser";
import { alice, full, noAttention, ok, today, uploaded } from "./fixtures";

const running = sharedSession();

describe("the uploads view", () => {
  it("shows the queue: progress, why a job waits, errors, links", async () => {
    const { page, errors, context } = await open(running(), full());
    const jobs = page.locator(".job");
    await expect.poll(() => jobs.count()).toBe(4);
    const uploading = page.locator('[data-job="j-up"]');
    await expect.poll(() => uploading.textContent()).toContain("1.0 MB of 4.0 MB · 512 KB/s · 6 s left");
    expect(await page.locator('[data-job="j-wait"]').textContent()).toContain("Today's uploads are used up. Until 16:00.");
    expect(await page.locator('[data-job="j-fail"]').textContent()).toContain("Trim it and add it again.");
    expect(await page.locator('[data-job="j-done"]').textContent()).toContain("https://i.imgur.com/aB3dE5f.png");
    expect(await page.locator(".queue").textContent()).toContain("4 files: 1 uploading, 1 waiting, 1 done, 1 failed");
    expect(await page.locator(".batch-summary").textContent()).toBe("Last drop: 4 files: 1 uploading, 1 waiting, 1 done, 1 failed");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("moves a progress bar with upload-progress events", async () => {
    const { page, errors, context } = await open(running(), full());
    const bar = page.locator('[data-job="j-up"] progress');
    await expect.poll(() => bar.evaluate((node) => (node as HTMLProgressElement).value)).toBe(1024 * 1024);
    await emit(page, "upload-progress", [{ job: "j-up", sent: 3 * 1024 * 1024, total: 4 * 1024 * 1024, bytes_per_second: 1024 * 1024 }]);
    await expect.poll(() => bar.evaluate((node) => (node as HTMLProgressElement).value)).toBe(3 * 1024 * 1024);
    expect(await page.locator('[data-job="j-up"]').textContent()).toContain("3.0 MB of 4.0 MB · 1.0 MB/s · 1 s left");
    // A job that ends replaces its row.
    await emit(page, "queue-changed", [{
      job: "j-up", batch: "b1", name: "holiday-beach.jpg", size: 4 * 1024 * 1024, state: "done",
      wait: null, progress: null, link: "https://i.imgur.com/Beach12.jpg", error: null, thumbnail: null,
    }]);
    await expect.poll(() => page.locator('[data-job="j-up"]').textContent()).toContain("https://i.imgur.com/Beach12.jpg");
    await emit(page, "queue-removed", { job: "j-done" });
    await expect.poll(() => page.locator(".job").count()).toBe(3);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("retries, cancels and removes jobs through the shell", async () => {
    const { page, errors, context } = await open(running(), full());
    await page.getByRole("button", { name: "Retry clip.mov" }).click();
    await page.getByRole("button", { name: "Cancel holiday-beach.jpg" }).click();
    await page.getByRole("button", { name: "Remove screenshot.png" }).click();
    await expect.poll(() => page.locator(".job").count()).toBe(3);
    const made = (await calls(page)).filter((call) => call.command.startsWith("queue_") && call.command !== "queue_list");
    expect(made).toEqual([
      { command: "queue_retry", args: { job: "j-fail" } },
      { command: "queue_cancel", args: { job: "j-up" } },
      { command: "queue_remove", args: { job: "j-done" } },
    ]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("makes the whole window a drop target and uploads what is dropped", async () => {
    const { page, errors, context } = await open(running(), full());
    const paths = ["/home/alice/a.png", "/home/alice/Holiday"];
    await emit(page, "tauri://drag-enter", { paths, position: { x: 40, y: 500 } });
    await page.locator(".drop-overlay").waitFor();
    expect(await page.locator(".app").getAttribute("class")).toContain("is-dragging");
    expect(await page.getByRole("status").first().textContent()).toBe("Release to add");
    await emit(page, "tauri://drag-over", { position: { x: 60, y: 520 } });
    await emit(page, "tauri://drag-drop", { paths, position: { x: 60, y: 520 } });
    await page.locator(".drop-overlay").waitFor({ state: "detached" });
    await expect.poll(async () => (await calls(page)).filter((call) => call.command === "upload_paths")).toEqual([
      { command: "upload_paths", args: { paths, confirmed: false } },
    ]);
    await expect.poll(() => page.locator(".status").textContent()).toBe("2 files queued");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("clears the target when a drag leaves", async () => {
    const { page, context } = await open(running(), full());
    await emit(page, "tauri://drag-enter", { paths: ["/tmp/a.png"], position: { x: 1, y: 1 } });
    await page.locator(".drop-overlay").waitFor();
    await emit(page, "tauri://drag-leave", null);
    await page.locator(".drop-overlay").waitFor({ state: "detached" });
    expect(await page.locator(".status").textContent()).toBe("Ready");
    expect((await calls(page)).some((call) => call.command === "upload_paths")).toBe(false);
    await context.close();
  });

  it("opens the picker with Files… and says what was skipped", async () => {
    const { page, context } = await open(
      running(),
      full({ upload_pick: ok({ status: "queued", batch: "b9", queued: 1, rejected: [{ path: "/tmp/a.txt", message: "Not an image or video." }] }) }),
    );
    await page.getByRole("button", { name: "Files…" }).click();
    await expect.poll(() => page.locator(".status").textContent()).toBe("1 file queued; not queued: Not an image or video.");
    expect((await calls(page)).filter((call) => call.command === "upload_pick")).toHaveLength(1);
    await context.close();
  });

  it("follows the quota with quota-changed events", async () => {
    const { page, context } = await open(running(), full());
    const meter = page.getByRole("region", { name: "Today's Imgur quota" });
    await expect.poll(() => meter.textContent()).toContain("41 of 50 uploads left");
    await emit(page, "quota-changed", {
      uploads_left: 5, uploads_limit: 50, credits_left: 11_700, credits_limit: 12_500,
      resets_at: null, next_slot_at: Date.UTC(2026, 2, 12, 14, 30), reserve: 5,
    });
    await expect.poll(() => meter.textContent()).toContain("5 of 50 uploads left");
    expect(await meter.textContent()).toContain("Uploads wait; the next goes at 14:30.");
    expect(await meter.getAttribute("data-tone")).toBe("error");
    await context.close();
  });

  it("says plainly when today's shell lacks the queue, quota and upload commands", async () => {
    const { page, errors, context } = await open(running(), today());
    await expect.poll(() => page.locator(".queue").textContent()).toContain("does not show the queue yet");
    await expect.poll(() => page.locator(".quota").textContent()).toContain("Quota not shown in this version");
    await emit(page, "tauri://drag-drop", { paths: ["/tmp/a.png"], position: { x: 1, y: 1 } });
    await expect.poll(() => page.locator(".status").textContent()).toContain("cannot upload from the window yet");
    expect(await page.locator(".status-dot").getAttribute("data-tone")).toBe("error");
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("the attention banner", () => {
  it("shows a set-aside config file, dismisses it, and keeps a worker fault", async () => {
    const attention = {
      notices: [
        {
          code: "config_unreadable",
          message: "/home/alice/.config/upshot/settings.json could not be read; it was set aside as /home/alice/.config/upshot/settings.json.bad-1 and defaults are used.",
          file: "/home/alice/.config/upshot/settings.json",
          set_aside_as: "/home/alice/.config/upshot/settings.json.bad-1",
        },
      ],
      worker_faults: [
        { runner: "r1", pid: 100, code: "disk_full", message: "The disk is full.", since: Date.UTC(2026, 2, 12, 13, 55), updated_at: Date.UTC(2026, 2, 12, 14, 0) },
      ],
      own_pid: 100,
    };
    const { page, errors, context } = await open(running(), full({ attention: ok(attention) }));
    const banner = page.getByRole("alert", { name: "Needs your attention" });
    await banner.waitFor();
    expect(await banner.textContent()).toContain("settings.json could not be read; it was set aside as settings.json.bad-1");
    expect(await banner.textContent()).toContain("Uploads are paused since 13:55: The disk is full.");
    await banner.getByRole("button", { name: "Dismiss" }).click();
    await expect.poll(() => banner.locator("li").count()).toBe(1);
    expect(await banner.getByRole("button").count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("stays hidden when nothing needs attention", async () => {
    const { page, context } = await open(running(), full({ attention: ok(noAttention) }));
    await expect.poll(async () => (await calls(page)).some((call) => call.command === "attention")).toBe(true);
    expect(await page.locator("#attention").isHidden()).toBe(true);
    await context.close();
  });
});

describe("the settings view", () => {
  it("shows the account and logs in through the browser or a pasted address", async () => {
    const { page, errors, context } = await open(
      running(),
      full({ account: ok(null), login_start: ok("https://api.imgur.com/oauth2/authorize?x=1"), login_complete: ok(alice) }),
    );
    await show(page, "Settings");
    const account = page.getByRole("region", { name: "Imgur account" });
    await expect.poll(() => account.textContent()).toContain("Uploading anonymously");
    await account.getByRole("button", { name: "Log in with Imgur" }).click();
    await expect.poll(() => account.textContent()).toContain("Waiting for Imgur");
    await account.getByLabel("Address the browser ended on").fill("upshot://oauth/callback#access_token=x");
    await account.getByRole("button", { name: "Finish login" }).click();
    await expect.poll(async () => (await calls(page)).find((call) => call.command === "login_complete")?.args).toEqual({
      callback: "upshot://oauth/callback#access_token=x",
    });
    await emit(page, "login-finished", { outcome: "logged_in", account: alice });
    await expect.poll(() => account.textContent()).toContain("Logged in as alice");
    expect(await account.getByRole("button", { name: "Log out" }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("shows an account Imgur logged out, after account-changed", async () => {
    const { page, context } = await open(running(), full());
    await show(page, "Settings");
    const account = page.getByRole("region", { name: "Imgur account" });
    await expect.poll(() => account.textContent()).toContain("Logged in as alice");
    await page.evaluate(() =>
      window.harness.reply("account", {
        ok: {
          username: "alice", account_id: 42, expires_at: 0, logged_in_at: 0, secret_store: "keychain",
          logged_out_reason: "Imgur ended the login.",
        },
      }),
    );
    await emit(page, "account-changed", null);
    await expect.poll(() => account.textContent()).toContain("alice needs to log in again");
    expect(await account.getAttribute("data-tone")).toBe("error");
    await context.close();
  });

  it("saves a before-upload setting on change, keeping exact byte limits", async () => {
    const { page, context } = await open(running(), full());
    await show(page, "Settings");
    const box = page.getByLabel(/Upload files again even if uploaded before/);
    await box.waitFor();
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await expect.poll(async () => (await calls(page)).find((call) => call.command === "set_preflight_settings")?.args).toEqual({
      settings: {
        strip_metadata: true,
        fit_captures: true,
        fit_files: false,
        upload_duplicates: true,
        limits: { max_image_bytes: 20 * 1024 * 1024, max_video_bytes: 200 * 1024 * 1024, max_video_seconds: 60 },
      },
    });
    await expect.poll(() => page.locator(".panel").filter({ hasText: "Before upload" }).textContent()).toContain("Saved.");
    await page.getByLabel(/Images up to/).fill("0");
    await page.getByLabel(/Images up to/).press("Tab");
    await expect.poll(() => page.locator(".panel").filter({ hasText: "Before upload" }).textContent()).toContain(
      "The image size limit must be a number above 0.",
    );
    await context.close();
  });

  it("lists watched folders, pauses one, adds one and removes one after asking", async () => {
    const { page, errors, context } = await open(running(), full());
    await show(page, "Settings");
    const panel = page.getByRole("region", { name: "Watched folders" });
    await expect.poll(() => panel.locator(".folder").count()).toBe(2);
    expect(await panel.textContent()).toContain("Paused · with subfolders · files are moved to uploaded");
    await panel.getByRole("button", { name: "Resume /home/alice/Camera" }).click();
    await panel.getByRole("button", { name: "Add folder…" }).click();
    const dialog = page.getByRole("dialog", { name: "Watch a folder" });
    await dialog.waitFor();
    await dialog.getByLabel("Folder", { exact: true }).fill("/home/alice/Drop");
    await dialog.getByLabel("Subfolders too").check();
    await dialog.getByLabel("Move it into a subfolder").check();
    await dialog.getByLabel("Subfolder", { exact: true }).fill("sent");
    await dialog.getByRole("button", { name: "Watch" }).click();
    await dialog.waitFor({ state: "hidden" });
    await panel.getByRole("button", { name: "Remove /home/alice/Pictures/Screenshots" }).click();
    const confirm = page.getByRole("dialog", { name: "Stop watching this folder?" });
    await confirm.getByRole("button", { name: "Stop watching" }).click();
    await confirm.waitFor({ state: "hidden" });
    await expect.poll(async () => (await calls(page)).filter((call) => /^watch_(add|remove|set)/.test(call.command))).toEqual([
      { command: "watch_set_enabled", args: { id: "2", enabled: true } },
      { command: "watch_add", args: { path: "/home/alice/Drop", recursive: true, after: "move:sent" } },
      { command: "watch_remove", args: { id: "1" } },
    ]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("refreshes the folders on watcher events", async () => {
    const { page, context } = await open(running(), full());
    await show(page, "Settings");
    const panel = page.getByRole("region", { name: "Watched folders" });
    await expect.poll(() => panel.locator(".folder").count()).toBe(2);
    await page.evaluate(() => window.harness.reply("watch_folders", { ok: [] }));
    await emit(page, "watch-event", { event: "folder_fault", folder: "/home/alice/Camera", message: "gone" });
    await expect.poll(() => panel.textContent()).toContain("No folder is watched.");
    await context.close();
  });
});

describe("the history view", () => {
  it("lists uploads, searches in the core and copies a link", async () => {
    const { page, errors, context } = await open(running(), full());
    await show(page, "History");
    await expect.poll(() => page.locator(".entry").count()).toBe(3);
    expect(await page.locator('[data-id="h1"]').textContent()).toContain("Today 13:55");
    expect(await page.locator('[data-id="h3"]').textContent()).toContain("3 Jan 2026");
    await page.getByLabel("Search").fill("diagram");
    await expect.poll(async () => (await calls(page)).filter((call) => call.command === "history_list").at(-1)?.args).toEqual({
      query: "diagram",
      limit: 200,
    });
    await page.getByRole("button", { name: "Copy link of cat.gif" }).click();
    await expect.poll(async () => (await calls(page)).filter((call) => call.command === "copy_text").map((call) => call.args)).toEqual([
      { text: "https://i.imgur.com/Qq1Rr2s.gif" },
    ]);
    expect(await page.locator(".history").textContent()).toContain("Copied the link of cat.gif.");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("deletes an upload only after asking, and Escape keeps it", async () => {
    const { page, errors, context } = await open(running(), full());
    await show(page, "History");
    await expect.poll(() => page.locator(".entry").count()).toBe(3);
    await page.getByRole("button", { name: "Delete diagram.png" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete this upload?" });
    await confirm.waitFor();
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "hidden" });
    expect((await calls(page)).some((call) => call.command === "history_delete")).toBe(false);
    await page.getByRole("button", { name: "Delete diagram.png" }).click();
    await confirm.getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => page.locator(".entry").count()).toBe(2);
    expect((await calls(page)).filter((call) => call.command === "history_delete")).toEqual([
      { command: "history_delete", args: { ids: ["h2"] } },
    ]);
    expect(await page.locator(".history").textContent()).toContain("Deleted diagram.png from Imgur and the history.");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("puts a new upload on top with history-added", async () => {
    const { page, context } = await open(running(), full());
    await show(page, "History");
    await expect.poll(() => page.locator(".entry").count()).toBe(3);
    await emit(page, "history-added", [uploaded("h4", "New1234", "new.png", "png", Date.UTC(2026, 2, 12, 14, 0))]);
    await expect.poll(() => page.locator(".entry").first().getAttribute("data-id")).toBe("h4");
    await context.close();
  });
});
