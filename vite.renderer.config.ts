import path from 'node:path';
import { defineConfig } from 'vite';

// The renderer's build. Electron Forge's plugin-vite merges its own defaults (mode,
// server port, outDir when it has one) with this file, so it stays a plain
// `defineConfig({...})`. The browser e2e harness builds with it too (overriding outDir).
//
// No @vitejs/plugin-react: its dev preamble is an inline <script>, which the CSP in
// index.html forbids (script-src 'self'). Vite 8's built-in Oxc transform compiles JSX
// with React's automatic runtime (imports from react/jsx-runtime) instead; we give up
// Fast Refresh, and a change reloads the page.
const projectRoot = import.meta.dirname;

export default defineConfig({
  root: path.join(projectRoot, 'renderer'),
  // Relative asset URLs: the built index.html is loaded from file:// in the packaged app.
  base: './',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'react' },
  },
  build: {
    outDir: path.join(projectRoot, '.vite/renderer/main_window'),
    emptyOutDir: true,
    // Electron 45's Chromium is far newer than this: nothing to down-level for old browsers.
    target: 'chrome130',
    // No inline <script>/<style> anywhere (the CSP forbids them): keep the modulepreload
    // polyfill off (Chromium does not need it) and never inline assets as data: in scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: { strictPort: false },
  clearScreen: false,
});
