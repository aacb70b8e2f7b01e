/**
 * A throwaway embedded PostgreSQL server of a test's own (for tests that stop and restart their
 * database), in a temp dir the unprivileged `postgres` user can enter.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../src/storage/embedded.js';
import type { EmbeddedPostgres } from '../../src/storage/embedded.js';

export function testLogger(): Logger {
  return pino({ level: process.env.JOULEHUB_TEST_LOG ?? 'silent' }, pino.destination(2));
}

/** Why embedded PostgreSQL is unavailable in this run (undefined when it is). */
export function embeddedUnavailable(): string | undefined {
  const e = inject('joulehubEmbeddedPg');
  return e?.url ? undefined : `embedded PostgreSQL did not start in this run: ${e?.error ?? 'unknown reason'}`;
}

export async function makeTempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface OwnServer {
  dataDir: string;
  server: EmbeddedPostgres;
  /** Starts it again over the same data (same port unless taken). */
  restart(): Promise<EmbeddedPostgres>;
  dispose(): Promise<void>;
}

export async function startOwnServer(log: Logger = testLogger()): Promise<OwnServer> {
  const tmp = await makeTempDir('joulehub-test-own-pg-');
  const dataDir = path.join(tmp.dir, 'data');
  const own: OwnServer = {
    dataDir,
    server: await startEmbeddedPostgres({ dataDir, log }),
    async restart() {
      own.server = await startEmbeddedPostgres({ dataDir, log, port: own.server.port });
      return own.server;
    },
    async dispose() {
      await own.server.stop();
      await tmp.remove();
    },
  };
  return own;
}
