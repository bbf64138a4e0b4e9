import "./style.css";
import { invoke, isTauri } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import {
  afterLogin,
  describeAccount,
  fromAccount,
  type Account,
  type AccountState,
  type LoginFinished,
} from "./account";
import { asCommandError } from "./errors";
import { describeStatus, type AppStatus } from "./status";
import { describeAttention, type Attention } from "./attention";
import { describePreflight, fromForm, toForm, type PreflightForm, type PreflightSettings } from "./preflight";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found as T;
}

const dropZone = element<HTMLElement>("drop-zone");
const statusText = element<HTMLElement>("status");
const statusDot = element<HTMLElement>("status-dot");

function show(status: AppStatus): void {
  const view = describeStatus(status);
  statusText.textContent = view.text;
  statusDot.dataset.tone = view.tone;
  dropZone.classList.toggle("is-dragging", status.kind === "dragging");
}

// Browser drag and drop, for `npm run dev` in a browser. Inside Tauri the window's native
// drop handler takes file drops (it gives real paths); a later issue wires its events here.
// `dragenter`/`dragleave` fire for every child element, so count the nesting.
let depth = 0;
dropZone.addEventListener("dragenter", (event) => {
  event.preventDefault();
  depth += 1;
  show({ kind: "dragging" });
});
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
});
dropZone.addEventListener("dragleave", () => {
  depth = Math.max(0, depth - 1);
  if (depth === 0) show({ kind: "ready" });
});
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  depth = 0;
  show({ kind: "dropped", count: event.dataTransfer?.files.length ?? 0 });
});

show({ kind: "ready" });

// --- The Imgur account ------------------------------------------------------------------
const accountPanel = element<HTMLElement>("account");
const accountTitle = element<HTMLElement>("account-title");
const accountDetail = element<HTMLElement>("account-detail");
const loginButton = element<HTMLButtonElement>("login");
const logoutButton = element<HTMLButtonElement>("logout");
const pasteForm = element<HTMLFormElement>("paste-form");
const pasteInput = element<HTMLInputElement>("paste");

let accountState: AccountState = { kind: "anonymous" };

function showAccount(state: AccountState): void {
  accountState = state;
  const view = describeAccount(state);
  accountTitle.textContent = view.title;
  accountDetail.textContent = view.detail;
  loginButton.hidden = !view.showLogin;
  logoutButton.hidden = !view.showLogout;
  pasteForm.hidden = !view.showPaste;
  accountPanel.dataset.tone = view.tone;
}

if (isTauri()) {
  loginButton.addEventListener("click", async () => {
    try {
      const url = await invoke<string>("login_start");
      showAccount({ kind: "waiting", url });
    } catch (error) {
      showAccount({ kind: "error", error: asCommandError(error), previous: accountState });
    }
  });
  logoutButton.addEventListener("click", async () => {
    try {
      await invoke("logout");
      showAccount({ kind: "anonymous" });
    } catch (error) {
      showAccount({ kind: "error", error: asCommandError(error), previous: accountState });
    }
  });
  pasteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const callback = pasteInput.value.trim();
    if (!callback) return;
    try {
      // The outcome also arrives as `login-finished`, which updates the panel.
      await invoke<Account>("login_complete", { callback });
      pasteInput.value = "";
    } catch {
      // Shown through `login-finished`.
    }
  });
  void listen<LoginFinished>("login-finished", (event) => {
    showAccount(afterLogin(event.payload, accountState));
  });
  const refreshAccount = (): void => {
    invoke<Account | null>("account")
      .then((account) => showAccount(fromAccount(account)))
      .catch((error) => showAccount({ kind: "error", error: asCommandError(error), previous: accountState }));
  };
  // Imgur logged the account out during an upload: say so now, not at the next start.
  void listen("account-changed", refreshAccount);
  // A login or logout made with the CLI meanwhile shows when the window comes back.
  window.addEventListener("focus", refreshAccount);
  refreshAccount();
} else {
  // `npm run dev` in a plain browser: no shell to log in through.
  showAccount({ kind: "anonymous" });
  loginButton.disabled = true;
}

// --- Before upload (preflight settings) ----------------------------------------------------
const preflightPanel = element<HTMLElement>("preflight");
const preflightForm = element<HTMLFormElement>("preflight-form");
const preflightSummary = element<HTMLElement>("preflight-summary");
const preflightMessage = element<HTMLElement>("preflight-message");
const checkboxes = {
  stripMetadata: element<HTMLInputElement>("strip-metadata"),
  fitCaptures: element<HTMLInputElement>("fit-captures"),
  fitFiles: element<HTMLInputElement>("fit-files"),
  uploadDuplicates: element<HTMLInputElement>("upload-duplicates"),
};
const numbers = {
  maxImageMb: element<HTMLInputElement>("max-image-mb"),
  maxVideoMb: element<HTMLInputElement>("max-video-mb"),
  maxVideoSeconds: element<HTMLInputElement>("max-video-seconds"),
};

let shownPreflight: PreflightSettings | undefined;
// Each save is numbered: an answer that arrives after a later change is not shown over it.
let preflightSaves = 0;

function showPreflight(settings: PreflightSettings): void {
  shownPreflight = settings;
  const form = toForm(settings);
  for (const [key, input] of Object.entries(checkboxes)) {
    input.checked = form[key as keyof typeof checkboxes];
  }
  for (const [key, input] of Object.entries(numbers)) {
    input.value = form[key as keyof typeof numbers];
  }
  preflightSummary.textContent = describePreflight(settings);
}

function readPreflightForm(): PreflightForm {
  return {
    stripMetadata: checkboxes.stripMetadata.checked,
    fitCaptures: checkboxes.fitCaptures.checked,
    fitFiles: checkboxes.fitFiles.checked,
    uploadDuplicates: checkboxes.uploadDuplicates.checked,
    maxImageMb: numbers.maxImageMb.value,
    maxVideoMb: numbers.maxVideoMb.value,
    maxVideoSeconds: numbers.maxVideoSeconds.value,
  };
}

function sayPreflight(text: string, tone: "idle" | "error"): void {
  preflightMessage.textContent = text;
  preflightMessage.dataset.tone = tone;
}

if (isTauri()) {
  preflightPanel.hidden = false;
  invoke<PreflightSettings>("preflight_settings")
    .then(showPreflight)
    .catch((error) => sayPreflight(asCommandError(error).message, "error"));
  // Saved on every change: there is no "Apply" to forget.
  preflightForm.addEventListener("change", async () => {
    const settings = fromForm(readPreflightForm(), shownPreflight);
    if ("error" in settings) {
      sayPreflight(settings.error, "error");
      return;
    }
    const save = ++preflightSaves;
    try {
      const saved = await invoke<PreflightSettings>("set_preflight_settings", { settings });
      if (save !== preflightSaves) return;
      showPreflight(saved);
      sayPreflight("Saved. Files queued from now on use these settings.", "idle");
    } catch (error) {
      if (save !== preflightSaves) return;
      sayPreflight(asCommandError(error).message, "error");
    }
  });
  preflightForm.addEventListener("submit", (event) => event.preventDefault());
}

// --- Needs attention (config files set aside, upload workers retrying a fault) --------------
const attentionPanel = element<HTMLElement>("attention");
const attentionList = element<HTMLUListElement>("attention-list");
let shownAttention = "";
let lastAttention: Attention | undefined;
// Notices the user dismissed in this window; a fault cannot be dismissed (it clears itself).
const dismissedNotices = new Set<string>();

function showAttention(attention: Attention): void {
  lastAttention = attention;
  const lines = describeAttention(attention, dismissedNotices);
  const signature = JSON.stringify(lines);
  if (signature === shownAttention) return;
  shownAttention = signature;
  attentionList.replaceChildren(
    ...lines.map((line) => {
      const item = document.createElement("li");
      item.dataset.key = line.key;
      const text = document.createElement("span");
      text.textContent = line.text;
      item.append(text);
      if (line.dismissable) {
        const dismiss = document.createElement("button");
        dismiss.type = "button";
        dismiss.className = "button button-quiet attention-dismiss";
        dismiss.textContent = "Dismiss";
        dismiss.addEventListener("click", () => {
          dismissedNotices.add(line.key);
          if (lastAttention) showAttention(lastAttention);
        });
        item.append(dismiss);
      }
      return item;
    }),
  );
  attentionPanel.hidden = lines.length === 0;
}

if (isTauri()) {
  const refreshAttention = () => {
    invoke<Attention>("attention")
      .then(showAttention)
      .catch((error) => console.warn("attention:", asCommandError(error).message));
  };
  refreshAttention();
  // A fault may start or clear in any process (the CLI too): look again every few seconds.
  window.setInterval(refreshAttention, 5000);
  window.addEventListener("focus", refreshAttention);
}
