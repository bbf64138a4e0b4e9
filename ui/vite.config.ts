// `vitest/config` re-exports Vite's defineConfig with the `test` key typed.
import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Tauri loads `dist/` in release builds and the dev server in `tauri dev`; the port is
// fixed so `devUrl` in src-tauri/tauri.conf.json can name it.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    // The Rust side rebuilds on its own; don't reload the page for its files.
    watch: { ignored: ["**/src-tauri/**"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK (Linux) and WKWebView (macOS) are Safari engines; WebView2 is Chromium.
    target: ["safari15", "chrome105"],
    sourcemap: false,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
