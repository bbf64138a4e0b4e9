/**
 * The "Before upload" settings: what Upshot checks, removes and fits before a file spends a
 * request. The shapes are generated from the core's `PreflightSettings` (generated/bindings.ts).
 * Kept free of the DOM so it can be unit-tested; `main.ts` renders it and calls the shell.
 */
import type { PreflightSettings } from "./generated/bindings";
export type { Limits, PreflightSettings } from "./generated/bindings";

/** What the form shows: sizes in megabytes, as people think of them. */
export interface PreflightForm {
  stripMetadata: boolean;
  fitCaptures: boolean;
  fitFiles: boolean;
  uploadDuplicates: boolean;
  maxImageMb: string;
  maxVideoMb: string;
  maxVideoSeconds: string;
}

const MB = 1024 * 1024;

/** Megabytes with at most one decimal, without a trailing ".0". */
export function megabytes(bytes: number): string {
  const value = Math.round((bytes / MB) * 10) / 10;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function toForm(settings: PreflightSettings): PreflightForm {
  return {
    stripMetadata: settings.strip_metadata,
    fitCaptures: settings.fit_captures,
    fitFiles: settings.fit_files,
    uploadDuplicates: settings.upload_duplicates,
    maxImageMb: megabytes(settings.limits.max_image_bytes),
    maxVideoMb: megabytes(settings.limits.max_video_bytes),
    maxVideoSeconds: String(settings.limits.max_video_seconds),
  };
}

/**
 * The settings a form asks for, or a sentence saying which field to fix. A size left as shown
 * keeps `previous`'s exact bytes: the MB shown are rounded, and toggling a switch must not
 * change a limit set to the byte elsewhere (`upshot config set max-image-bytes …`).
 */
export function fromForm(
  form: PreflightForm,
  previous?: PreflightSettings,
): PreflightSettings | { error: string } {
  const positive = (text: string, what: string): number | string => {
    const value = Number(text.trim());
    if (!text.trim() || !Number.isFinite(value) || value <= 0) {
      return `${what} must be a number above 0.`;
    }
    return value;
  };
  const image = positive(form.maxImageMb, "The image size limit");
  if (typeof image === "string") return { error: image };
  const video = positive(form.maxVideoMb, "The video size limit");
  if (typeof video === "string") return { error: video };
  const seconds = positive(form.maxVideoSeconds, "The video length limit");
  if (typeof seconds === "string") return { error: seconds };
  return {
    strip_metadata: form.stripMetadata,
    fit_captures: form.fitCaptures,
    fit_files: form.fitFiles,
    upload_duplicates: form.uploadDuplicates,
    limits: {
      max_image_bytes: unchanged(form.maxImageMb, previous?.limits.max_image_bytes) ?? Math.round(image * MB),
      max_video_bytes: unchanged(form.maxVideoMb, previous?.limits.max_video_bytes) ?? Math.round(video * MB),
      max_video_seconds: Math.max(1, Math.round(seconds)),
    },
  };
}

/** `bytes` when `shown` is still what the form showed for them. */
function unchanged(shown: string, bytes: number | undefined): number | undefined {
  return bytes !== undefined && shown.trim() === megabytes(bytes) ? bytes : undefined;
}

/** One line under the panel's title saying what happens now. */
export function describePreflight(settings: PreflightSettings): string {
  const parts = [
    settings.strip_metadata
      ? "Location, camera and owner data are removed from photos"
      : "Photos are sent with their metadata",
  ];
  if (settings.upload_duplicates) parts.push("files uploaded before are sent again");
  else parts.push("files uploaded before get their existing link");
  return `${parts.join("; ")}.`;
}
