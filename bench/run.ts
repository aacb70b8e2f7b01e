/**
 * `npm run bench` — measures the targets of issue 2 and writes BENCHMARKS.md.
 *
 *   ingest   readings through hub.report() into PostgreSQL, sustained, zero loss   target ≥ 50,000/s
 *   import   `joulehub import` path (importCsv → COPY)                              target ≥ 200,000 rows/s
 *   queries  energy over 1 year × 10 entities at 1-minute resolution              target < 50 ms p95
 *   stall    the hub's largest event-loop stall during ingest                       target < 20 ms
 *   idle     RSS of an idle hub process and of its embedded PostgreSQL
 *   mqtt     readings from Mosquitto through the hub (issue 3; bench/mqtt.ts)
 *   frontend the dashboard in Chromium: initial JS, first card, CPU under live updates (issue 5; bench/frontend.ts)
 *
 * Everything runs on the embedded PostgreSQL server the hub starts by default, in a throwaway data
 * directory, unless JOULEHUB_BENCH_DATABASE_URL names another server. `--quick` shrinks the data
 * (for a smoke run; its numbers are not written to BENCHMARKS.md).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { createHub, type JoulehubHub } from '../core/src/hub/hub.js';
import type { HubConfig } from '../core/src/hub/types.js';
import { importCsv } from '../core/src/import/csv-import.js';
import { recomputeAll } from '../core/src/storage/ledger.js';
import type { SampleRow } from '../core/src/storage/samples.js';
import { copySamples } from '../core/src/storage/samples-copy.js';
import { benchMqtt } from './mqtt.js';
import { benchFrontend } from './frontend.js';
import { fmt, median, percentile, say } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
/** `--skip-mqtt`: leave out the MQTT rows (run bench/mqtt.ts on its own and add them). */
const skipMqtt = process.argv.includes('--skip-mqtt');
const RUNS = quick ? 1 : 3;


function baseConfig(dataDir: string): HubConfig {
  return {
    port: 0, host: '127.0.0.1', dataDir, tz: 'Europe/Berlin', logLevel: 'silent',
    configDir: root, integrations: [], demo: false,
  };
}

async function freshHub(dataDir: string): Promise<JoulehubHub> {
  const hub = await createHub(baseConfig(dataDir), {
    log: pino({ level: 'silent' }),
    databaseUrl: process.env.JOULEHUB_BENCH_DATABASE_URL,
  });
  await hub.start();
  return hub;
}

async function wipe(hub: JoulehubHub): Promise<void> {
  for (const d of hub.devices.list()) await hub.devices.delete(d.id);
  await sql`vacuum analyze`.execute(hub.db).catch(() => undefined);
}

/** A throwaway directory the embedded server's unprivileged user can enter (mkdtemp makes it 0700). */
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

// --- ingest through report() ----------------------------------------------------------------

interface IngestResult { rate: number; lost: number; maxStallMs: number; p99StallMs: number; maxOnCpuMs: number }

/** Milliseconds the main thread has spent on a CPU (Linux schedstat), or NaN where that is not readable. */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

async function benchIngest(hub: JoulehubHub, total: number): Promise<IngestResult> {
  const entities: string[] = [];
  for (let i = 0; i < 10; i++) {
    const id = `bench_plug_${i}`;
    await hub.devices.upsert({ id, name: `Bench plug ${i}` }, null);
    await hub.entities.register(id, { key: 'power', kind: 'power', unit: 'W' });
    entities.push(`${id}.power`);
  }
  const t0 = Date.UTC(2025, 0, 1);
  const perTick = 1_000; // readings handed over per event-loop turn, like a busy broker delivering messages
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // On a shared machine a stall can be time spent waiting for a CPU: the on-CPU part of the longest
  // timer gap is what the hub's own work held the loop for.
  let maxOnCpuMs = 0;
  let lastCpu = mainThreadCpuMs();
  const ticker = setInterval(() => {
    const cpu = mainThreadCpuMs();
    if (cpu - lastCpu > maxOnCpuMs) maxOnCpuMs = cpu - lastCpu;
    lastCpu = cpu;
  }, 1);
  const start = performance.now();
  for (let n = 0; n < total; n += perTick) {
    for (let k = n; k < Math.min(total, n + perTick); k++) {
      const e = k % 10;
      const step = Math.floor(k / 10);
      hub.report(entities[e], 200 + ((step * 7 + e * 13) % 1800), t0 + step * 1000);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await hub.flush();
  const seconds = (performance.now() - start) / 1000;
  h.disable();
  clearInterval(ticker);
  const row = await sql<{ n: number }>`select count(*)::int as n from samples where entity_id like 'bench_plug_%'`.execute(hub.db);
  const stored = row.rows[0].n;
  return { rate: total / seconds, lost: total - stored, maxStallMs: h.max / 1e6, p99StallMs: h.percentile(99) / 1e6, maxOnCpuMs };
}

// --- import ----------------------------------------------------------------------------------

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('datetime,value\n');
  const t0 = Date.UTC(2024, 0, 1);
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `${new Date(t0 + i * 60_000).toISOString()},${(0.1 + ((i * 37) % 300) / 100).toFixed(3)}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function benchImport(hub: JoulehubHub, file: string, rows: number): Promise<{ rate: number; secondRunChanged: boolean }> {
  await hub.devices.upsert({ id: 'bench_import', name: 'Import target' }, null);
  const deps = { db: hub.db, devices: hub.devices, entities: hub.entities, log: hub.log };
  const start = performance.now();
  const res = await importCsv(deps, file, { deviceId: 'bench_import', units: 'kW' });
  const seconds = (performance.now() - start) / 1000;
  if (res.rows !== rows) throw new Error(`import stored ${res.rows} of ${rows} rows`);
  const total = async () => (await sql<{ s: number }>`select coalesce(sum(kwh), 0)::float8 as s from energy_15m where entity_id = 'bench_import.power'`.execute(hub.db)).rows[0].s;
  const before = await total();
  await importCsv(deps, file, { deviceId: 'bench_import', units: 'kW' });
  const after = await total();
  return { rate: rows / seconds, secondRunChanged: Math.abs(before - after) > 1e-9 };
}

// --- energy queries --------------------------------------------------------------------------

interface QueryCase { name: string; run: () => Promise<unknown> }

async function loadYear(hub: JoulehubHub, minutes: number): Promise<number> {
  const t0 = Date.UTC(2025, 0, 1);
  for (let d = 0; d < 10; d++) {
    const id = `year_${d}`;
    await hub.devices.upsert({ id, name: `Year device ${d}` }, null);
    await hub.entities.register(id, { key: 'power', kind: 'power', unit: 'W' });
  }
  function* rows(): Generator<SampleRow> {
    for (let d = 0; d < 10; d++) {
      for (let i = 0; i < minutes; i++) {
        // A daily shape plus a per-device offset, so sums differ between devices.
        const hour = (i / 60) % 24;
        yield { entityId: `year_${d}.power`, t: t0 + i * 60_000, v: 150 + d * 40 + 900 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI)) };
      }
    }
  }
  const start = performance.now();
  await copySamples(hub.db, rows());
  for (let d = 0; d < 10; d++) await recomputeAll(hub.db, hub.entities.get(`year_${d}.power`)!);
  await sql`vacuum analyze`.execute(hub.db);
  return (performance.now() - start) / 1000;
}

async function benchQueries(hub: JoulehubHub, reps: number): Promise<{ name: string; p50: number; p95: number; rows: number }[]> {
  // The quick run loads only January; the full run a year, of which June is the sample month.
  const month = quick ? 0 : 5;
  const y = (m: number, d = 1) => new Date(Date.UTC(2025, m, d));
  const tz = 'Europe/Berlin';
  const cases: QueryCase[] = [
    { name: 'one device, one day, 15-minute rows', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(month, 12), end: y(month, 13), interval: '15m', tz }) },
    { name: 'one device, one day, hourly rows', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(month, 12), end: y(month, 13), interval: 'hour', tz }) },
    { name: 'one device, one month, daily rows', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(month), end: y(month + 1), interval: 'day', tz }) },
    { name: 'one device, one month, hourly rows', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(month), end: y(month + 1), interval: 'hour', tz }) },
    { name: 'one device, one year, monthly rows', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(0), end: y(12), interval: 'month', tz }) },
    { name: 'one device, one year, daily rows', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(0), end: y(12), interval: 'day', tz }) },
    { name: 'all devices, one month, daily fleet rows', run: () => hub.energy.fleet({ start: y(month), end: y(month + 1), interval: 'day', tz }) },
    { name: 'all devices, one month, top 3', run: () => hub.energy.top({ start: y(month), end: y(month + 1), count: 3 }) },
    { name: 'one device, one year, daily rows (Asia/Kathmandu, 15-minute path)', run: () => hub.energy.energy({ deviceId: 'year_3', start: y(0), end: y(12), interval: 'day', tz: 'Asia/Kathmandu' }) },
  ];
  const out = [];
  for (const c of cases) {
    const first = (await c.run()) as unknown[];
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const s = performance.now();
      await c.run();
      times.push(performance.now() - s);
    }
    out.push({ name: c.name, p50: percentile(times, 50), p95: percentile(times, 95), rows: first.length });
  }
  return out;
}

// --- idle memory -----------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Processes whose command line mentions `needle` (the embedded server's data directory). */
async function pidsMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

async function benchIdle(): Promise<{ hubMb: number; dbMb: number; dbProcesses: number; startSeconds: number; stoppedCleanly: boolean }> {
  const dataDir = await tempDir('joulehub-bench-idle-');
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'core/src/cli.ts', 'start'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', JOULEHUB_DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    let up = false;
    for (let i = 0; i < 240 && !up; i++) {
      await new Promise((r) => setTimeout(r, 250));
      up = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.ok, () => false);
    }
    if (!up) throw new Error('the hub did not become healthy within 60 s');
    const startSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 10_000)); // let start-up garbage settle
    const hubKb = await rssKb(child.pid!);
    const pg = await pidsMentioning(path.join(dataDir, 'postgres'));
    // The postmaster's children share its memory; summed RSS overstates, so this is an upper bound.
    let dbKb = 0;
    const all = new Set(pg);
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (pg.includes(ppid)) all.add(Number(entry));
    }
    for (const pid of all) dbKb += await rssKb(pid);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    await new Promise((r) => setTimeout(r, 500));
    const left = await pidsMentioning(path.join(dataDir, 'postgres'));
    return { hubMb: hubKb / 1024, dbMb: dbKb / 1024, dbProcesses: all.size, startSeconds, stoppedCleanly: code === 0 && left.length === 0 };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

// --- main ------------------------------------------------------------------------------------

async function machine(): Promise<string> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0];
  const ingestTotal = quick ? 50_000 : 600_000;
  const importRows = quick ? 100_000 : 1_000_000;
  const yearMinutes = quick ? 30 * 24 * 60 : 365 * 24 * 60;
  const dataDir = await tempDir('joulehub-bench-');
  const csv = path.join(dataDir, 'import.csv');
  const hub = await freshHub(dataDir);
  const pgVersion = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(hub.db)).rows[0].v;
  try {
    const ingest: IngestResult[] = [];
    for (let r = 0; r < RUNS; r++) {
      say(`ingest run ${r + 1}/${RUNS}: ${fmt(ingestTotal)} readings through report()`);
      ingest.push(await benchIngest(hub, ingestTotal));
      say(`  ${fmt(ingest[r].rate)} /s, lost ${ingest[r].lost}, stall max ${fmt(ingest[r].maxStallMs, 1)} ms (on CPU ${fmt(ingest[r].maxOnCpuMs, 1)} ms)`);
      await wipe(hub);
    }
    await writeCsv(csv, importRows);
    const imports: { rate: number; secondRunChanged: boolean }[] = [];
    for (let r = 0; r < RUNS; r++) {
      say(`import run ${r + 1}/${RUNS}: ${fmt(importRows)} rows`);
      imports.push(await benchImport(hub, csv, importRows));
      say(`  ${fmt(imports[r].rate)} rows/s, second import changed totals: ${imports[r].secondRunChanged}`);
      await wipe(hub);
    }
    say(`loading ${quick ? 'a month' : 'a year'} × 10 entities at 1-minute resolution`);
    const loadSeconds = await loadYear(hub, yearMinutes);
    say('energy queries');
    const queries = await benchQueries(hub, quick ? 10 : 40);
    await hub.stop();
    say('idle hub');
    const idle = await benchIdle();
    const mqttRows = skipMqtt ? [] : (say('MQTT'), await benchMqtt({ quick }));
    say('dashboard (Chromium)');
    const frontendRows = await benchFrontend({ quick });

    const ingestRate = median(ingest.map((x) => x.rate));
    const importRate = median(imports.map((x) => x.rate));
    const lines = [
      '# Benchmarks',
      '',
      `Written by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.`,
      '',
      `**Machine:** ${await machine()}. **Database:** ${process.env.JOULEHUB_BENCH_DATABASE_URL ? 'the server named by JOULEHUB_BENCH_DATABASE_URL' : 'the embedded PostgreSQL the hub starts by default'} (PostgreSQL ${pgVersion}), with the settings core/src/storage/embedded.ts gives it (fsync and synchronous_commit on). Throughput figures are medians of ${RUNS} runs; absolute numbers drift on a shared machine. 1-minute load average when the run started: ${fmt(loadAtStart, 2)} on ${os.cpus().length} CPUs (anything else running then shares the ${os.cpus().length} cores with the hub, its database and the load generators).`,
      '',
      '| what | result | target | method |',
      '| --- | --- | --- | --- |',
      `| readings through \`report()\` into PostgreSQL | **${fmt(ingestRate)} /s** (runs: ${ingest.map((x) => fmt(x.rate)).join(', ')}); lost: ${ingest.map((x) => x.lost).join(', ')} | ≥ 50,000 /s, zero loss | ${fmt(ingestTotal)} readings of 10 power entities handed to \`hub.report()\` 1,000 per event-loop turn, timed until \`hub.flush()\` (recorder bulk writes and ledger recompute done); loss = reported − rows in \`samples\` |`,
      `| largest event-loop stall during that ingest | **${fmt(median(ingest.map((x) => x.maxStallMs)), 1)} ms** (p99 ${fmt(median(ingest.map((x) => x.p99StallMs)), 1)} ms; runs: ${ingest.map((x) => fmt(x.maxStallMs, 1)).join(', ')}); within any one gap the main thread was on a CPU for at most (per run) ${ingest.map((x) => fmt(x.maxOnCpuMs, 1)).join(', ')} ms | < 20 ms | \`perf_hooks.monitorEventLoopDelay\` at 1 ms resolution over the ingest run; includes the benchmark's own 1,000-reading turns. The on-CPU figure: the largest main-thread CPU time (Linux schedstat) between two ticks of a 1 ms timer — what the hub's own work (including garbage collection) held the loop for; the rest of a stall is waiting for a CPU on the shared machine |`,
      `| \`joulehub import\` (importCsv → COPY) | **${fmt(importRate)} rows/s** (runs: ${imports.map((x) => fmt(x.rate)).join(', ')}); second import changed totals: ${imports.some((x) => x.secondRunChanged) ? 'YES' : 'no'} | ≥ 200,000 rows/s | a ${fmt(importRows)}-row CSV of 1-minute kW values: parse, validate, COPY, ledger recompute; the same file imported again must leave every total unchanged |`,
      ...queries.map((q) => `| energy query: ${q.name} (${q.rows} rows) | **p95 ${fmt(q.p95, 1)} ms** (p50 ${fmt(q.p50, 1)} ms) | < 50 ms p95 | ${quick ? 'a month' : 'a year'} × 10 entities at 1-minute resolution (${fmt(10 * yearMinutes)} samples; loaded by COPY and ledger rebuild in ${fmt(loadSeconds, 1)} s); ${quick ? 10 : 40} timed runs after one warm-up, through \`hub.energy\` (the API's service) |`),
      `| idle hub process RSS | **${fmt(idle.hubMb)} MB** | — | \`npm start\` equivalent on an empty data directory, healthy after ${fmt(idle.startSeconds, 1)} s, VmRSS 10 s later |`,
      `| idle embedded PostgreSQL RSS | **${fmt(idle.dbMb)} MB** over ${idle.dbProcesses} processes | — | summed VmRSS of the postmaster and its children (shared memory is counted in each, so an upper bound); clean stop on SIGTERM: ${idle.stoppedCleanly ? 'yes' : 'NO'} |`,
      ...mqttRows,
      ...frontendRows,
      '',
    ];
    if (quick) {
      process.stdout.write(lines.join('\n'));
    } else {
      await writeFile(path.join(root, 'BENCHMARKS.md'), lines.join('\n'));
      say('wrote BENCHMARKS.md');
    }
  } finally {
    await hub.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

main().then(() => process.exit(0), (err) => {
  say(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
