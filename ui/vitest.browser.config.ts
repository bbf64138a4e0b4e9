// The browser tests (tests/browser): the real UI in Debian's Chromium with Tauri's IPC mocked.
// Kept apart from `npm test` (pure logic, no browser) so that stays instant.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["tests/browser/**/*.test.ts"],
    // One Chromium and one Vite server for the run; files do not race for them.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
