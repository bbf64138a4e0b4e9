import { describe, expect, it } from "vitest";
import { afterLogin, describeAccount, fromAccount, type Account } from "./account";

const alice: Account = {
  username: "alice",
  account_id: 42,
  expires_at: 2_000_000_000_000,
  logged_in_at: 1_900_000_000_000,
  logged_out_reason: null,
  secret_store: "keychain",
};

describe("the account panel", () => {
  it("offers a login when nobody is logged in", () => {
    const view = describeAccount(fromAccount(null));
    expect(view.title).toBe("Uploading anonymously");
    expect(view.showLogin).toBe(true);
    expect(view.showLogout).toBe(false);
  });

  it("offers the paste field while waiting for the browser", () => {
    const view = describeAccount({ kind: "waiting", url: "https://api.imgur.com/oauth2/authorize" });
    expect(view.showPaste).toBe(true);
    expect(view.tone).toBe("active");
  });

  it("names the account and says where its login is kept", () => {
    expect(describeAccount(fromAccount(alice)).title).toBe("Logged in as alice");
    const inFile = describeAccount(fromAccount({ ...alice, secret_store: "file" }));
    expect(inFile.detail).toMatch(/file only you can read/);
    expect(describeAccount(fromAccount(alice)).detail).not.toMatch(/file/);
  });

  it("says when Imgur logged the account out and that uploads wait", () => {
    const view = describeAccount(
      fromAccount({ ...alice, logged_out_reason: "Imgur no longer accepts this login; log in again" }),
    );
    expect(view.title).toBe("alice needs to log in again");
    expect(view.detail).toMatch(/wait in the queue/);
    expect(view.showLogin).toBe(true);
    expect(view.tone).toBe("error");
  });

  it("shows a refused callback's message and keeps the paste field", () => {
    const waiting = { kind: "waiting" as const, url: "u" };
    const state = afterLogin(
      { outcome: "failed", error: { code: "reused_state", message: "this login was already completed" } },
      waiting,
    );
    const view = describeAccount(state);
    expect(view.detail).toBe("this login was already completed");
    expect(view.showPaste).toBe(true);
    expect(view.tone).toBe("error");
    expect(afterLogin({ outcome: "logged_in", account: alice }, waiting)).toEqual({
      kind: "logged_in",
      account: alice,
    });
  });
});
