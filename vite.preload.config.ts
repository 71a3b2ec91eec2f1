import { defineConfig } from 'vite';

// The sandboxed preload may only require('electron'); Forge's plugin-vite bundles the
// rest into one CommonJS file (preload.cjs).
export default defineConfig({
  build: { sourcemap: true },
});
