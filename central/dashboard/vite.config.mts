// Builds the dashboard into dist/dashboard, which the central serves at / (central/web/dashboard.ts).
// Everything is bundled (no CDN: the centres run on intranets); file names carry a content hash so
// the central can let browsers cache them for a year. No inline script or style ends up in
// index.html, so the page runs under a CSP without 'unsafe-inline'.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inlined assets would be data: URLs inside the CSS; files keep the policy simple and cacheable.
    assetsInlineLimit: 0,
    // The module preload polyfill is an inline script in index.html otherwise.
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite --config central/dashboard/vite.config.mts` against a central on its default port.
    proxy: { '/api': 'http://127.0.0.1:8090' },
  },
});
