import { defineConfig } from "vitest/config";

// The app is served by `wattnet app` from app/dist; relative asset paths so it works under any
// mount point. No dev-only plugins: what the tests load is what `vite build` wrote.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 600 },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
