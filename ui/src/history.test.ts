import { describe, expect, it } from "vitest";
import { matches, prepend, when, type HistoryItem } from "./history";

const entry = (id: string, name = "cat.png"): HistoryItem => ({
  id,
  name,
  link: `https://i.imgur.com/${id}.png`,
  thumbnail: null,
  links: [],
  uploaded_at: 0,
  deleted: false,
});

describe("the history list", () => {
  it("puts a new upload on top once", () => {
    expect(prepend([entry("a"), entry("b")], entry("b")).map((item) => item.id)).toEqual(["b", "a"]);
  });

  it("searches names and links", () => {
    expect(matches(entry("abc", "Holiday.JPG"), "holiday")).toBe(true);
    expect(matches(entry("abc"), "ABC")).toBe(true);
    expect(matches(entry("abc"), "dog")).toBe(false);
    expect(matches(entry("abc"), "  ")).toBe(true);
  });

  it("dates today's uploads by the clock", () => {
    const now = new Date(2026, 2, 12, 18, 0).getTime();
    expect(when(new Date(2026, 2, 12, 9, 7).getTime(), now)).toBe("Today 09:07");
    expect(when(new Date(2025, 0, 3).getTime(), now)).toBe("3 Jan 2025");
  });
});
