/** Shared helpers for the hub suites: a captured logger and a config for a hub on a test database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { HubConfig } from '../../src/hub/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/integrations/', import.meta.url));

export interface Captured {
  log: Logger;
  lines: Record<string, unknown>[];
}

/** A pino logger whose lines land in `lines` (parsed), at debug level. */
export function captureLog(): Captured {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

export function tempDir(prefix = 'jh-hub-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function baseConfig(dataDir: string, over: Partial<HubConfig> = {}): HubConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    tz: 'Europe/Berlin',
    logLevel: 'debug',
    configDir: FIXTURES,
    integrations: [],
    demo: false,
    ...over,
  };
}
