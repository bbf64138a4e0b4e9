/**
 * What the account panel shows, from what the shell says (`account`, `login-finished`).
 * Kept free of the DOM so it can be unit-tested; `main.ts` only renders it.
 */

import type { CommandError } from "./errors";
export type { CommandError } from "./errors";

import type { Account, LoginFinished } from "./generated/bindings";
export type { Account, LoginFinished } from "./generated/bindings";

/** Where the panel is. */
export type AccountState =
  | { kind: "anonymous" }
  | { kind: "waiting"; url: string }
  | { kind: "logged_in"; account: Account }
  | { kind: "logged_out_by_imgur"; account: Account }
  | { kind: "error"; error: CommandError; previous: AccountState };

/** What the panel renders. */
export interface AccountView {
  /** The headline. */
  title: string;
  /** A sentence under it. */
  detail: string;
  /** Which controls are shown. */
  showLogin: boolean;
  showPaste: boolean;
  showLogout: boolean;
  tone: "idle" | "active" | "error";
}

/** The state for what `account` returned. */
export function fromAccount(account: Account | null): AccountState {
  if (!account) return { kind: "anonymous" };
  return account.logged_out_reason
    ? { kind: "logged_out_by_imgur", account }
    : { kind: "logged_in", account };
}

/** The state after a `login-finished` event. */
export function afterLogin(event: LoginFinished, previous: AccountState): AccountState {
  return event.outcome === "logged_in"
    ? { kind: "logged_in", account: event.account }
    : { kind: "error", error: event.error, previous };
}

function storeNote(account: Account): string {
  return account.secret_store === "file"
    ? " No system keychain answered, so the login is kept in a file only you can read."
    : "";
}

/** Turns the state into what the panel shows. */
export function describeAccount(state: AccountState): AccountView {
  switch (state.kind) {
    case "anonymous":
      return {
        title: "Uploading anonymously",
        detail: "Log in with Imgur to upload into your account and albums.",
        showLogin: true,
        showPaste: false,
        showLogout: false,
        tone: "idle",
      };
    case "waiting":
      return {
        title: "Waiting for Imgur",
        detail:
          "Approve Upshot in the browser. If the browser does not come back here, paste the address it ends on.",
        showLogin: true,
        showPaste: true,
        showLogout: false,
        tone: "active",
      };
    case "logged_in":
      return {
        title: `Logged in as ${state.account.username}`,
        detail: `Uploads go to your account.${storeNote(state.account)}`,
        showLogin: false,
        showPaste: false,
        showLogout: true,
        tone: "idle",
      };
    case "logged_out_by_imgur":
      return {
        title: `${state.account.username} needs to log in again`,
        detail: `${state.account.logged_out_reason ?? ""} Its uploads wait in the queue until then.`.trim(),
        showLogin: true,
        showPaste: false,
        showLogout: true,
        tone: "error",
      };
    case "error": {
      const base = describeAccount(state.previous);
      return {
        ...base,
        detail: state.error.message,
        showPaste: base.showPaste || state.previous.kind === "waiting",
        tone: "error",
      };
    }
  }
}
