import { defineConfig } from 'vite';

// Built into frontend/dist, which the hub serves at `/` (core/src/api/static.ts). In `npm run dev`
// the API and WebSocket are proxied to a hub on JOULEHUB_URL (default http://127.0.0.1:8080).
const hub = process.env.JOULEHUB_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': { target: hub, ws: true },
      '/cards': { target: hub },
    },
  },
});
