import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

// Built into frontend/dist, which the hub serves at `/` (core/src/api/static.ts). In `npm run dev`
// the API and WebSocket are proxied to a hub on JOULEHUB_URL (default http://127.0.0.1:8910).
const hub = process.env.JOULEHUB_URL ?? 'http://127.0.0.1:8910';

/**
 * Writes .gz and .br next to each text asset, so the hub sends them compressed without work per
 * request, and `.build-stamp` last (scripts/build-if-stale.ts compares sources against it).
 */
function precompress(): Plugin {
  return {
    name: 'joulehub-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist';
      for (const file of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
        const full = path.join(dir, file);
        const data = readFileSync(full);
        if (data.length < 1024) continue;
        writeFileSync(`${full}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(`${full}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
      writeFileSync(path.join(dir, '.build-stamp'), new Date().toISOString());
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    // ECharts chunks are large but loaded only by the pages and cards that draw charts.
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      '/api': { target: hub, ws: true },
      '/cards': { target: hub },
    },
  },
});
