import { defineConfig } from 'vite';

// Forge's plugin-vite supplies entry, output name (main.cjs), Node/electron externals
// and the dev-server defines; this file only adds what Runtime Lab needs on top.
export default defineConfig({
  // services/agent/agent-bundle.ts reads import.meta.url only on the esbuild path, which the
  // app never takes (it uploads the prebuilt agent); an empty object is right for CommonJS.
  define: { 'import.meta': '{}' },
  build: {
    sourcemap: true,
    rollupOptions: {
      // ssh2 loads optional native crypto with a guarded require(); leave it to Node.
      external: ['cpu-features', /\.node$/],
    },
  },
});
