import { describe, expect, it } from "vitest";
import { describeQuota, type Quota } from "./quota";

const quota = (over: Partial<Quota> = {}): Quota => ({
  uploads_left: 41,
  uploads_limit: 50,
  credits_left: 11_800,
  credits_limit: 12_500,
  resets_at: null,
  next_slot_at: null,
  reserve: 5,
  ...over,
});

describe("the quota meter", () => {
  it("shows what is left of today's budget", () => {
    const view = describeQuota(quota(), 0);
    expect(view.uploads).toBe("41 of 50 uploads left");
    expect(view.credits).toBe("11,800 of 12,500 credits left");
    expect(view.fraction).toBeCloseTo(0.82);
    expect(view.tone).toBe("idle");
  });

  it("says when nothing is known yet", () => {
    const view = describeQuota(quota({ uploads_left: null, uploads_limit: null }), 0);
    expect(view.uploads).toBe("uploads left: not known yet");
    expect(view.fraction).toBeNull();
  });

  it("warns as the reserve nears and says when uploads go again", () => {
    expect(describeQuota(quota({ uploads_left: 8 }), 0).tone).toBe("warning");
    const next = new Date(2026, 0, 1, 14, 5).getTime();
    const held = describeQuota(quota({ uploads_left: 5, next_slot_at: next }), next - 60_000);
    expect(held.tone).toBe("error");
    expect(held.detail).toBe("Uploads wait; the next goes at 14:05.");
  });
});
