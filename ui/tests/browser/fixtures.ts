/**
 * What the mocked shell answers in the browser tests. The shapes are the app's own types, so
 * a changed shape fails the type check here too. Times are fixed (the page's clock is fixed at
 * NOW, in UTC) so the screenshots do not change from run to run.
 */
import type { Account } from "../../src/account";
import type { Attention } from "../../src/attention";
import type { HistoryItem } from "../../src/history";
import type { PreflightSettings } from "../../src/preflight";
import type { QueueItem } from "../../src/queue";
import type { Quota } from "../../src/quota";
import type { FolderView } from "../../src/watch";
import type { Reply, Scenario } from "./harness";

export const NOW = Date.UTC(2026, 2, 12, 14, 0);
const MB = 1024 * 1024;

export const alice: Account = {
  username: "alice",
  account_id: 42,
  expires_at: NOW + 30 * 86_400_000,
  logged_in_at: NOW - 86_400_000,
  logged_out_reason: null,
  secret_store: "keychain",
};

export const preflight: PreflightSettings = {
  strip_metadata: true,
  fit_captures: true,
  fit_files: false,
  upload_duplicates: false,
  limits: { max_image_bytes: 20 * MB, max_video_bytes: 200 * MB, max_video_seconds: 60 },
};

export const folders: FolderView[] = [
  {
    id: "1",
    path: "/home/alice/Pictures/Screenshots",
    recursive: false,
    include: ["*.png", "*.jpg"],
    ignore: [".*"],
    album: null,
    after_upload: { then: "keep" },
    enabled: true,
    upload_copies: false,
    state: "watching",
    message: null,
    warnings: [],
  },
  {
    id: "2",
    path: "/home/alice/Camera",
    recursive: true,
    include: ["*.jpg"],
    ignore: [".*"],
    album: null,
    after_upload: { then: "move", subfolder: "uploaded" },
    enabled: false,
    upload_copies: false,
    state: "paused",
    message: null,
    warnings: [],
  },
];

export const queue: QueueItem[] = [
  {
    job: "j-up",
    batch: "b1",
    name: "holiday-beach.jpg",
    size: 4 * MB,
    state: "uploading",
    wait: null,
    progress: { job: "j-up", sent: 1 * MB, total: 4 * MB, bytes_per_second: 512 * 1024 },
    link: null,
    error: null,
    thumbnail: null,
  },
  {
    job: "j-wait",
    batch: "b1",
    name: "holiday-sunset.jpg",
    size: 3 * MB,
    state: "waiting",
    wait: { reason: "budget", message: "Today's uploads are used up.", until: NOW + 2 * 3_600_000 },
    progress: null,
    link: null,
    error: null,
    thumbnail: null,
  },
  {
    job: "j-fail",
    batch: "b1",
    name: "clip.mov",
    size: 300 * MB,
    state: "failed",
    wait: null,
    progress: null,
    link: null,
    error: { code: "too_large", message: "clip.mov is 300 MB; Imgur takes videos up to 200 MB. Trim it and add it again." },
    thumbnail: null,
  },
  {
    job: "j-done",
    batch: "b1",
    name: "screenshot.png",
    size: 812 * 1024,
    state: "done",
    wait: null,
    progress: null,
    link: "https://i.imgur.com/aB3dE5f.png",
    error: null,
    thumbnail: null,
  },
];

export const quota: Quota = {
  uploads_left: 41,
  uploads_limit: 50,
  credits_left: 11_800,
  credits_limit: 12_500,
  resets_at: NOW + 10 * 3_600_000,
  next_slot_at: null,
  reserve: 5,
};

/** An upload as the core lists it, with its link in every format. */
export function uploaded(row: string, id: string, name: string, extension: string, at: number): HistoryItem {
  const direct = `https://i.imgur.com/${id}.${extension}`;
  const page = `https://imgur.com/${id}`;
  return {
    id: row,
    name,
    link: direct,
    thumbnail: null,
    links: [
      { format: "direct", label: "Direct link", text: direct },
      { format: "page", label: "Page link", text: page },
      { format: "markdown", label: "Markdown", text: `![${name}](${direct})` },
      { format: "markdown-linked", label: "Markdown, linked thumbnail", text: `[![${name}](https://i.imgur.com/${id}m.jpg)](${page})` },
      { format: "bbcode", label: "BBCode", text: `[img]${direct}[/img]` },
      { format: "html", label: "HTML", text: `<img src="${direct}" alt="${name}">` },
      { format: "delete", label: "Deletion link", text: `https://imgur.com/delete/del${id}` },
    ],
    uploaded_at: at,
    deleted: false,
  };
}

export const history: HistoryItem[] = [
  uploaded("h1", "aB3dE5f", "screenshot.png", "png", NOW - 5 * 60_000),
  uploaded("h2", "Zx9Yw8v", "diagram.png", "png", NOW - 3 * 3_600_000),
  uploaded("h3", "Qq1Rr2s", "cat.gif", "gif", Date.UTC(2026, 0, 3, 10, 0)),
];

export const noAttention: Attention = { notices: [], worker_faults: [], own_pid: 100 };

export const ok = (value: unknown): Reply => ({ ok: value });

/** Every command answered: the app as it will be once the shell offers them all. */
export function full(over: Record<string, Reply> = {}): Scenario {
  return {
    replies: {
      attention: ok(noAttention),
      account: ok(alice),
      preflight_settings: ok(preflight),
      set_preflight_settings: { echo: "settings" },
      watch_folders: ok(folders),
      watch_add: ok(folders[0]),
      watch_remove: ok(null),
      watch_set_enabled: ok(null),
      queue_list: ok(queue),
      queue_retry: ok(null),
      queue_cancel: ok(null),
      queue_remove: ok(null),
      history_list: ok(history),
      history_delete: { echo: "ids" },
      quota: ok(quota),
      upload_paths: ok({ status: "queued", batch: "b2", queued: 2, rejected: [] }),
      upload_pick: ok({ status: "queued", batch: "b3", queued: 1, rejected: [] }),
      paste_clipboard: ok({ status: "queued", batch: "b4", queued: 1, rejected: [] }),
      history_export: ok(3),
      copy_text: ok(null),
      open_link: ok(null),
      desktop_prefs: ok({ copy_on_upload: true, notifications: true, last_view: "uploads" }),
      set_desktop_prefs: { echo: "prefs" },
      ...over,
    },
  };
}

/** Only the commands an app from before the upload window registered: the views must say
 * plainly what it lacks rather than fail. */
export function today(over: Record<string, Reply> = {}): Scenario {
  const { replies } = full();
  const offered = [
    "attention",
    "account",
    "preflight_settings",
    "set_preflight_settings",
    "watch_folders",
    "watch_add",
    "watch_remove",
    "watch_set_enabled",
  ];
  return {
    replies: { ...Object.fromEntries(offered.map((name) => [name, replies[name] as Reply])), ...over },
  };
}
