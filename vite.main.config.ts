import { defineConfig } from 'vite';

// Forge's plugin-vite supplies entry, output name (main.cjs), Node/electron externals
// and the dev-server defines; this file only adds what Runtime Lab needs on top.
export default defineConfig({
  build: {
    sourcemap: true,
    rollupOptions: {
      // ssh2 loads optional native crypto with a guarded require(); leave it to Node.
      external: ['cpu-features', /\.node$/],
    },
  },
});
