/**
 * Builds frontend/dist when it is missing or older than any source file, so `npm start` and the
 * end-to-end tests always serve the current dashboard. Run as a script (`npm start` runs it first)
 * or call ensureFrontendBuilt().
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST_DIR = path.join(FRONTEND_DIR, 'dist');
const STAMP = path.join(DIST_DIR, '.build-stamp');
const INPUTS = ['src', 'index.html', 'vite.config.ts', 'package.json', 'public'];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Why dist must be rebuilt, or undefined when it is current. */
export function staleReason(): string | undefined {
  if (!existsSync(path.join(DIST_DIR, 'index.html')) || !existsSync(STAMP)) return 'frontend/dist is missing';
  const built = statSync(STAMP).mtimeMs;
  const newest = Math.max(...INPUTS.map((i) => newestMtime(path.join(FRONTEND_DIR, i))));
  return newest > built ? 'a frontend source file is newer than frontend/dist' : undefined;
}

/** Builds when stale; returns whether it built. */
export async function ensureFrontendBuilt(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<boolean> {
  const reason = staleReason();
  if (!reason) return false;
  log(`building the dashboard (${reason}) …`);
  const started = Date.now();
  const { build } = await import('vite');
  // vite.config.ts writes the stamp when the bundle is complete.
  await build({ configFile: path.join(FRONTEND_DIR, 'vite.config.ts'), logLevel: 'warn' });
  log(`dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureFrontendBuilt().catch((err) => {
    process.stderr.write(`could not build the dashboard: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
