import { describe, expect, it } from "vitest";
import { describePreflight, fromForm, megabytes, toForm, type PreflightSettings } from "./preflight";

const defaults: PreflightSettings = {
  strip_metadata: true,
  fit_captures: true,
  fit_files: false,
  upload_duplicates: false,
  limits: { max_image_bytes: 10 * 1024 * 1024, max_video_bytes: 200 * 1024 * 1024, max_video_seconds: 60 },
};

describe("preflight form", () => {
  it("shows sizes in megabytes and round-trips the settings", () => {
    const form = toForm(defaults);
    expect(form.maxImageMb).toBe("10");
    expect(form.maxVideoMb).toBe("200");
    expect(form.maxVideoSeconds).toBe("60");
    expect(fromForm(form)).toEqual(defaults);
  });

  it("takes fractional megabytes", () => {
    const settings = fromForm({ ...toForm(defaults), maxImageMb: "19.5" });
    expect(settings).toMatchObject({ limits: { max_image_bytes: Math.round(19.5 * 1024 * 1024) } });
    expect(megabytes(Math.round(19.5 * 1024 * 1024))).toBe("19.5");
  });

  it("keeps a limit set to the byte while other fields change", () => {
    const exact = { ...defaults, limits: { ...defaults.limits, max_image_bytes: 10_000_000 } };
    const form = { ...toForm(exact), fitFiles: true };
    expect(form.maxImageMb).toBe("9.5");
    expect(fromForm(form, exact)).toMatchObject({ fit_files: true, limits: { max_image_bytes: 10_000_000 } });
    expect(fromForm({ ...form, maxImageMb: "12" }, exact)).toMatchObject({
      limits: { max_image_bytes: 12 * 1024 * 1024 },
    });
  });

  it("says which field to fix", () => {
    expect(fromForm({ ...toForm(defaults), maxVideoSeconds: "0" })).toEqual({
      error: "The video length limit must be a number above 0.",
    });
    expect(fromForm({ ...toForm(defaults), maxImageMb: "ten" })).toEqual({
      error: "The image size limit must be a number above 0.",
    });
  });

  it("describes what happens", () => {
    expect(describePreflight(defaults)).toBe(
      "Location, camera and owner data are removed from photos; files uploaded before get their existing link.",
    );
    expect(describePreflight({ ...defaults, strip_metadata: false, upload_duplicates: true })).toBe(
      "Photos are sent with their metadata; files uploaded before are sent again.",
    );
  });
});
