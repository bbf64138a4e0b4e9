import "./style.css";
import { describeStatus, type AppStatus } from "./status";

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
