/**
 * Profiling aid for the import target (not part of `npm run bench`): imports a CSV into a fresh
 * hub and prints wall time and CPU per phase — this process (process.cpuUsage) and the embedded
 * PostgreSQL server (all its processes, from /proc/<pid>/stat) — so changes can be compared on a
 * busy machine where wall time is noise.
 *
 *   node --import tsx bench/profile-import.ts [rows=1000000] [--cpu-prof-ish flags go to node]
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { createHub } from '../core/src/hub/hub.js';
import { importCsv } from '../core/src/import/csv-import.js';
import { recomputeLedger } from '../core/src/storage/ledger.js';
import { fmt, say } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rows = Number(process.argv[2] ?? 1_000_000);
const TICK = 100; // USER_HZ

async function pgPids(dataDir: string): Promise<number[]> {
  // PROF_PG_DIR: the data directory of the server JOULEHUB_BENCH_DATABASE_URL names.
  const needle = process.env.PROF_PG_DIR ?? path.join(dataDir, 'postgres');
  const roots: number[] = [];
  const all: { pid: number; ppid: number }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    all.push({ pid: Number(entry), ppid });
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) roots.push(Number(entry));
  }
  return [...roots, ...all.filter((p) => roots.includes(p.ppid)).map((p) => p.pid)];
}

/** CPU seconds of the embedded server's processes (exited backends are not counted: the pool keeps them). */
async function pgCpu(dataDir: string): Promise<number> {
  let ticks = 0;
  for (const pid of await pgPids(dataDir)) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]); // utime, stime
  }
  return ticks / TICK;
}

async function writeCsv(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('datetime,value\n');
  const t0 = Date.UTC(2024, 0, 1);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += `${new Date(t0 + i * 60_000).toISOString()},${(0.1 + ((i * 37) % 300) / 100).toFixed(3)}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'joulehub-prof-'));
  await chmod(dataDir, 0o755);
  const csv = path.join(dataDir, 'import.csv');
  await writeCsv(csv, rows);
  const hub = await createHub({
    port: 0, host: '127.0.0.1', dataDir, tz: 'Europe/Berlin', logLevel: 'silent', configDir: root, integrations: [], demo: false,
  }, { log: pino({ level: process.env.PROF_LOG ?? 'silent' }), databaseUrl: process.env.JOULEHUB_BENCH_DATABASE_URL });
  await hub.start();
  try {
    await hub.devices.upsert({ id: 'prof', name: 'prof' }, null);
    const deps = { db: hub.db, devices: hub.devices, entities: hub.entities, log: hub.log };
    // Open the pool's connections first, so their backends are counted from the start.
    await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`.execute(hub.db)));
    const phase = async (name: string, fn: () => Promise<unknown>) => {
      say(`--- ${name} starts`);
      const wal0 = (await sql<{ l: string }>`select pg_current_wal_lsn()::text as l`.execute(hub.db)).rows[0].l;
      const pg0 = await pgCpu(dataDir);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const pg1 = await pgCpu(dataDir);
      const wal = (await sql<{ b: number }>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${wal0}::pg_lsn)::float8 as b`.execute(hub.db)).rows[0].b;
      say(`${name}: wall ${fmt(wall, 2)} s (${fmt(rows / wall)} rows/s), node CPU ${fmt((c.user + c.system) / 1e6, 2)} s, PG CPU ${fmt(pg1 - pg0, 2)} s, WAL ${fmt(wal / 2 ** 20)} MB`);
    };
    await phase('import', () => importCsv(deps, csv, { deviceId: 'prof', units: 'kW' }));
    if (process.env.PROF_ONLY_IMPORT) return;
    const entity = hub.entities.get('prof.power')!;
    await phase('ledger recompute of that range', () => recomputeLedger(hub.db, entity, { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1) + (rows - 1) * 60_000 }));
    await phase('second import', () => importCsv(deps, csv, { deviceId: 'prof', units: 'kW' }));
  } finally {
    await hub.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  say(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
