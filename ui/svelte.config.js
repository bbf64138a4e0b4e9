import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

// `<script lang="ts">` in components goes through Vite's TypeScript transform.
export default {
  preprocess: vitePreprocess(),
};
