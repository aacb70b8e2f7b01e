/**
 * vitest globalSetup: one embedded PostgreSQL server per test run, in a throwaway directory on a
 * free loopback port (several runs may share this machine), provided to the suites as a URL.
 * If it cannot start (no binaries for this platform …) the run goes on and the suites print why
 * they skip (JOULEHUB_TEST_NO_EMBEDDED=1 does that on purpose). JOULEHUB_TEST_DATABASE_URL, when
 * set, must be reachable: CI must never skip silently.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { isAlive, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/storage/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's embedded PostgreSQL server, or why it could not start. */
    joulehubEmbeddedPg: { url: string; error?: undefined } | { url?: undefined; error: string };
  }
}

const DIR_PREFIX = 'joulehub-test-pg-';
/** Temp dirs made by this harness and the storage tests (support/embedded-server.ts). */
const LEFTOVER_PREFIXES = [DIR_PREFIX, 'joulehub-test-own-pg-', 'joulehub-test-embedded-', 'joulehub-test-spool-'];
/** Databases made by createTestDatabase are named jh_test_<epoch seconds>_<random>. */
const STALE_AFTER_S = 6 * 3600;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serviceUrl = process.env.JOULEHUB_TEST_DATABASE_URL;
  if (serviceUrl) await checkService(serviceUrl);

  await removeLeftovers();
  const log = pino({ level: process.env.JOULEHUB_TEST_PG_LOG ?? 'error' }, pino.destination(2));
  // Under the system temp dir and mode 755: as root the server runs as `postgres`, which must be
  // able to enter every parent directory (mkdtemp makes 700).
  const dir = await mkdtemp(path.join(os.tmpdir(), DIR_PREFIX));
  await chmod(dir, 0o755);
  let server: EmbeddedPostgres | undefined;
  try {
    if (process.env.JOULEHUB_TEST_NO_EMBEDDED) throw new Error('disabled by JOULEHUB_TEST_NO_EMBEDDED');
    server = await startEmbeddedPostgres({ dataDir: dir, log });
    project.provide('joulehubEmbeddedPg', { url: server.url });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`\n[joulehub tests] embedded PostgreSQL could not start, its suites skip: ${reason}\n`);
    project.provide('joulehubEmbeddedPg', { error: reason });
  }

  return async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

async function checkService(url: string): Promise<void> {
  let client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    try {
      await client.connect();
    } catch (err) {
      // 3D000: the server runs but the URL's database does not exist; test databases are made from `postgres`.
      if ((err as { code?: string }).code !== '3D000') throw err;
      const u = new URL(url);
      u.pathname = '/postgres';
      client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5_000 });
      client.on('error', () => undefined);
      await client.connect();
    }
  } catch (err) {
    throw new Error(`JOULEHUB_TEST_DATABASE_URL is set (${redact(url)}) but that PostgreSQL server is unreachable: ${(err as Error).message}`);
  }
  try {
    // Drop databases left by runs that were killed before their teardown (old enough not to be a concurrent run's).
    await client.query("set statement_timeout = '10s'"); // a stuck session elsewhere must not hang the run
    const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like 'jh\\_test\\_%'");
    const now = Date.now() / 1000;
    for (const { datname } of rows) {
      const created = Number(datname.split('_')[2]);
      if (Number.isFinite(created) && now - created > STALE_AFTER_S) {
        await client.query(`drop database if exists ${client.escapeIdentifier(datname)} with (force)`).catch(() => undefined);
      }
    }
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Directories of runs killed before their teardown (their server was stopped by the exit safety net,
 * the files stay). A directory whose server still runs, or that is young, may be a concurrent run's.
 */
async function removeLeftovers(): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    if (!LEFTOVER_PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = path.join(tmp, name);
    try {
      if (Date.now() - (await stat(dir)).mtimeMs < 10 * 60_000) continue;
      const pid = Number((await readFile(await postmasterPidFile(dir), 'utf8').catch(() => '')).split('\n')[0]);
      if (pid > 0 && isAlive(pid)) continue;
      await rm(dir, { recursive: true, force: true });
    } catch {
      // another run removed it meanwhile
    }
  }
}

/** The cluster sits at <dir>/postgres (the run's server) or <dir>/data/postgres (a test's own). */
async function postmasterPidFile(dir: string): Promise<string> {
  const direct = path.join(dir, 'postgres', 'postmaster.pid');
  return (await stat(direct).then(() => true, () => false)) ? direct : path.join(dir, 'data', 'postgres', 'postmaster.pid');
}
