/**
 * Builds frontend/dist when it is missing or older than any source file, so `npm start` and the
 * end-to-end tests always serve the current dashboard. Run as a script (`npm start` runs it first)
 * or call ensureFrontendBuilt().
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
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

const LOCK = path.join(FRONTEND_DIR, '.build-lock');
/** A lock older than this is left over from a killed build. */
const STALE_LOCK_MS = 5 * 60_000;

/** One build at a time across processes (test runs started side by side share frontend/dist). */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds when stale; returns whether it built. */
export async function ensureFrontendBuilt(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<boolean> {
  if (!staleReason()) return false;
  return withLock(async () => {
    // Another process may have built it while this one waited.
    const reason = staleReason();
    if (!reason) return false;
    log(`building the dashboard (${reason}) …`);
    const started = Date.now();
    // Under a test runner NODE_ENV is 'test', which would make Vite pick Lit's development build.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const { build } = await import('vite');
      // vite.config.ts writes the stamp when the bundle is complete.
      await build({ configFile: path.join(FRONTEND_DIR, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    log(`dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return true;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureFrontendBuilt().catch((err) => {
    process.stderr.write(`could not build the dashboard: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
