/**
 * The upload window's own parts in Chromium, the shell mocked: a large folder drop asked about
 * first, Ctrl+V, a batch's report in the status line, the history's formats, several selected,
 * open and export, and the app's own preferences.
 */
import { describe, expect, it } from "vitest";
import { calls, emit, open, sharedSession, show } from "./browser";
import { full, ok } from "./fixtures";

const running = sharedSession();

const made = async (page: Parameters<typeof calls>[0], command: string) =>
  (await calls(page)).filter((call) => call.command === command).map((call) => call.args);

describe("dropping, picking and pasting", () => {
  it("asks before uploading a folder of more than 100 files, and uploads once confirmed", async () => {
    const { page, errors, context } = await open(running(), full({ upload_paths: ok({ status: "confirm", files: 340 }) }));
    const paths = ["/home/alice/Camera"];
    await emit(page, "tauri://drag-drop", { paths, position: { x: 60, y: 520 } });
    const ask = page.getByRole("dialog", { name: "Upload 340 files?" });
    await ask.waitFor();
    // "Don't upload" keeps them off the queue. (Escape closing a dialog is tested where a
    // click opened it: Chromium may hold back Escape for a dialog no user action opened.)
    await ask.getByRole("button", { name: "Don't upload" }).click();
    await ask.waitFor({ state: "hidden" });
    expect(await made(page, "upload_paths")).toEqual([{ paths, confirmed: false }]);
    await emit(page, "tauri://drag-drop", { paths, position: { x: 60, y: 520 } });
    await ask.waitFor();
    await page.evaluate(() =>
      window.harness.reply("upload_paths", { ok: { status: "queued", batch: "b7", queued: 340, rejected: [] } }),
    );
    await ask.getByRole("button", { name: "Upload 340 files" }).click();
    await expect.poll(() => made(page, "upload_paths")).toEqual([
      { paths, confirmed: false },
      { paths, confirmed: false },
      { paths, confirmed: true },
    ]);
    await expect.poll(() => page.locator(".status").textContent()).toBe("340 files queued");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("uploads the clipboard on Ctrl+V, but not while typing in a field", async () => {
    const { page, errors, context } = await open(running(), full());
    await page.locator("body").click();
    await page.keyboard.press("Control+V");
    await expect.poll(() => made(page, "paste_clipboard")).toHaveLength(1);
    await expect.poll(() => page.locator(".status").textContent()).toBe("1 file queued");
    // A checkbox with the focus does not take the paste: the window does.
    await show(page, "Settings");
    await page.getByLabel(/Copy the links to the clipboard/).focus();
    await page.keyboard.press("Control+V");
    await expect.poll(() => made(page, "paste_clipboard")).toHaveLength(2);
    // A text field does.
    await show(page, "History");
    await page.getByLabel("Search").focus();
    await page.keyboard.press("Control+V");
    await page.waitForTimeout(200);
    expect(await made(page, "paste_clipboard")).toHaveLength(2);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("says in plain words when the clipboard holds nothing to upload", async () => {
    const message =
      "The clipboard holds no image, no link to one and no copied files. Copy a picture, an image's address or files, then paste again.";
    const { page, context } = await open(running(), full({ paste_clipboard: { err: { code: "nothing_to_paste", message } } }));
    await page.locator("body").click();
    await page.keyboard.press("Control+V");
    await expect.poll(() => page.locator(".status").textContent()).toBe(message);
    await context.close();
  });

  it("shows a batch's report in the status line, failures in the error tone", async () => {
    const { page, context } = await open(running(), full());
    await emit(page, "batch-ended", {
      batch: "b2", uploaded: 12, links: "…", failed: [], waiting: [], title: "12 uploaded, links copied", uncopied_title: "12 uploaded", body: "",
    });
    await expect.poll(() => page.locator(".status").textContent()).toBe("12 uploaded, links copied");
    await emit(page, "batch-ended", {
      batch: "b3", uploaded: 1, links: "…", failed: [{ name: "big.mov", message: "over 200 MB", until: null }], waiting: [],
      title: "1 uploaded, link copied · 1 failed", uncopied_title: "1 uploaded · 1 failed", body: "big.mov: over 200 MB",
    });
    await expect.poll(() => page.locator(".status").textContent()).toBe("1 uploaded, link copied · 1 failed. big.mov: over 200 MB");
    expect(await page.locator(".status-dot").getAttribute("data-tone")).toBe("error");
    await context.close();
  });
});

describe("a big drop in the queue view", () => {
  it("builds a long list over a few updates and takes a burst of changes at once", async () => {
    const many = Array.from({ length: 120 }, (_, n) => ({
      job: `j${n}`, batch: "b5", name: `shot-${n}.png`, size: 1024, state: "queued" as const,
      wait: null, progress: null, link: null, error: null, thumbnail: null,
    }));
    const { page, errors, context } = await open(running(), full({ queue_list: ok(many) }));
    await expect.poll(() => page.locator(".job").count(), { timeout: 10_000 }).toBe(120);
    expect(await page.locator(".queue").textContent()).not.toContain("more…");
    // One burst: every file done at once, each row updated in place.
    await emit(page, "queue-changed", many.map((item) => ({ ...item, state: "done", link: `https://i.imgur.com/${item.job}.png` })));
    await expect.poll(() => page.locator('.job[data-state="done"]').count(), { timeout: 10_000 }).toBe(120);
    expect(await page.locator(".batch-summary").textContent()).toBe("Last drop: 120 files: 120 done");
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("the history's links", () => {
  it("copies a link in each format through the shell's clipboard", async () => {
    const { page, errors, context } = await open(running(), full());
    await show(page, "History");
    await expect.poll(() => page.locator(".entry").count()).toBe(3);
    const format = page.getByLabel("Format to copy for cat.gif");
    const copy = page.getByRole("button", { name: "Copy link of cat.gif" });
    const expected: [string, string][] = [
      ["direct", "https://i.imgur.com/Qq1Rr2s.gif"],
      ["page", "https://imgur.com/Qq1Rr2s"],
      ["markdown", "![cat.gif](https://i.imgur.com/Qq1Rr2s.gif)"],
      ["markdown-linked", "[![cat.gif](https://i.imgur.com/Qq1Rr2sm.jpg)](https://imgur.com/Qq1Rr2s)"],
      ["bbcode", "[img]https://i.imgur.com/Qq1Rr2s.gif[/img]"],
      ["html", '<img src="https://i.imgur.com/Qq1Rr2s.gif" alt="cat.gif">'],
      ["delete", "https://imgur.com/delete/delQq1Rr2s"],
    ];
    for (const [value] of expected) {
      await format.selectOption(value);
      await copy.click();
    }
    await expect.poll(() => made(page, "copy_text")).toEqual(expected.map(([, text]) => ({ text })));
    expect(await page.locator(".history").textContent()).toContain("Copied the Deletion link of cat.gif.");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("selects several to copy or delete together", async () => {
    const { page, errors, context } = await open(running(), full());
    await show(page, "History");
    await expect.poll(() => page.locator(".entry").count()).toBe(3);
    await page.getByLabel("Select screenshot.png").check();
    await page.getByLabel("Select cat.gif").check();
    const selection = page.getByRole("group", { name: "Selected uploads" });
    expect(await selection.textContent()).toContain("2 selected");
    await selection.getByLabel("Format for the selected links").selectOption("markdown");
    await selection.getByRole("button", { name: "Copy 2 links" }).click();
    await expect.poll(() => made(page, "copy_text")).toEqual([
      { text: "![screenshot.png](https://i.imgur.com/aB3dE5f.png)\n![cat.gif](https://i.imgur.com/Qq1Rr2s.gif)" },
    ]);
    await selection.getByRole("button", { name: "Delete 2…" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete 2 uploads?" });
    await confirm.getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => made(page, "history_delete")).toEqual([{ ids: ["h1", "h3"] }]);
    await expect.poll(() => page.locator(".entry").count()).toBe(1);
    expect(await page.locator(".history").textContent()).toContain("Deleted 2 uploads from Imgur and the history.");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("opens an upload's page and exports the history", async () => {
    const { page, context } = await open(running(), full());
    await show(page, "History");
    await page.getByRole("button", { name: "Open diagram.png in the browser" }).click();
    await expect.poll(() => made(page, "open_link")).toEqual([{ url: "https://imgur.com/Zx9Yw8v" }]);
    await page.getByRole("button", { name: "Export…" }).click();
    await expect.poll(() => page.locator(".history").textContent()).toContain("Exported 3 uploads.");
    await context.close();
  });
});

describe("the app's own preferences", () => {
  it("saves copy-on-upload and notifications to desktop.json through the shell", async () => {
    const { page, errors, context } = await open(running(), full());
    await show(page, "Settings");
    const copy = page.getByLabel(/Copy the links to the clipboard/);
    await expect.poll(() => copy.isChecked()).toBe(true);
    await copy.uncheck();
    await page.getByLabel(/Show a notification/).uncheck();
    await expect.poll(() => made(page, "set_desktop_prefs")).toContainEqual({
      prefs: { copy_on_upload: false, notifications: false, last_view: "uploads" },
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("opens on the view used last", async () => {
    const { page, context } = await open(
      running(),
      full({ desktop_prefs: ok({ copy_on_upload: true, notifications: true, last_view: "history" }) }),
    );
    await expect.poll(() => page.locator(".app").getAttribute("data-view")).toBe("history");
    await show(page, "Uploads");
    await expect.poll(() => made(page, "set_desktop_prefs")).toContainEqual({
      prefs: { copy_on_upload: true, notifications: true, last_view: "uploads" },
    });
    await context.close();
  });
});
