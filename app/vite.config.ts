import { defineConfig } from "vitest/config";

// The app is served by `wattnet app` from app/dist; relative asset paths so it works under any
// mount point. No dev-only plugins: what the tests load is what `vite build` wrote.
export default defineConfig({
  base: "./",
  // The outline map (world-atlas countries-50m, about 750 kB of data) is its own chunk, loaded
  // after the page is ready (Leaflet too: about 155 kB; the app chunk, viem, about 475 kB).
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 800 },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
