/**
 * Profiling aid for the ingest and event-loop stall targets (not part of `npm run bench`): the
 * benchmark's report() load on a fresh hub, printing rate, stalls (max, p99, and the count of
 * gaps over 10 and 20 ms) and CPU of this process and of the database server.
 *
 *   node --import tsx bench/profile-ingest.ts [readings=600000]
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { createHub } from '../core/src/hub/hub.js';
import { fmt, say } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const total = Number(process.argv[2] ?? 600_000);

const perProcess = new Map<number, { cmd: string; ticks: number }>();

async function pgCpu(needle: string): Promise<number> {
  const roots: number[] = [];
  const all: { pid: number; ppid: number; ticks: number }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    all.push({ pid: Number(entry), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) roots.push(Number(entry));
  }
  const mine = all.filter((p) => roots.includes(p.pid) || roots.includes(p.ppid));
  if (process.env.PROF_PER_PROCESS) {
    for (const p of mine) {
      const before = perProcess.get(p.pid);
      const cmd = (await readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').slice(0, 60);
      say(`  ${p.pid} ${cmd}: ${fmt((p.ticks - (before?.ticks ?? 0)) / 100, 2)} s${before ? "" : " (new)"}`);
      perProcess.set(p.pid, { cmd, ticks: p.ticks });
    }
  }
  return mine.reduce((a, p) => a + p.ticks, 0) / 100;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'joulehub-prof-'));
  await chmod(dataDir, 0o755);
  const needle = process.env.PROF_PG_DIR ?? path.join(dataDir, 'postgres');
  const hub = await createHub({
    port: 0, host: '127.0.0.1', dataDir, tz: 'Europe/Berlin', logLevel: 'silent', configDir: root, integrations: [], demo: false,
  }, { log: pino({ level: 'silent' }), databaseUrl: process.env.JOULEHUB_BENCH_DATABASE_URL });
  await hub.start();
  try {
    const entities: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = `bench_plug_${i}`;
      await hub.devices.upsert({ id, name: `Bench plug ${i}` }, null);
      await hub.entities.register(id, { key: 'power', kind: 'power', unit: 'W' });
      entities.push(`${id}.power`);
    }
    const t0 = Date.UTC(2025, 0, 1);
    // Each timer gap, and how much of it the main thread spent on a CPU (schedstat, ns): on a busy
    // machine a gap can be time spent waiting for a CPU; the on-CPU part is what our code costs.
    const gaps: number[] = [];
    const onCpu: number[] = [];
    const ends: number[] = [];
    const gcs: { start: number; duration: number; kind: number }[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcs.push({ start: e.startTime, duration: e.duration, kind: (e as unknown as { detail?: { kind: number } }).detail?.kind ?? 0 });
    });
    obs.observe({ entryTypes: ['gc'] });
    const runtime = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
    let last = performance.now();
    let lastCpu = runtime();
    const ticker = setInterval(() => {
      const now = performance.now();
      const cpu = runtime();
      gaps.push(now - last);
      onCpu.push(cpu - lastCpu);
      ends.push(now);
      last = now;
      lastCpu = cpu;
    }, 1);
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const pg0 = await pgCpu(needle);
    const c0 = process.cpuUsage();
    const start = performance.now();
    for (let n = 0; n < total; n += 1000) {
      for (let k = n; k < Math.min(total, n + 1000); k++) {
        const e = k % 10;
        const step = Math.floor(k / 10);
        hub.report(entities[e], 200 + ((step * 7 + e * 13) % 1800), t0 + step * 1000);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await hub.flush();
    const seconds = (performance.now() - start) / 1000;
    const c = process.cpuUsage(c0);
    h.disable();
    clearInterval(ticker);
    obs.disconnect();
    const order = onCpu.map((c, i) => i).sort((a, b) => onCpu[b] - onCpu[a]).slice(0, 8);
    for (const i of order) {
      const from = ends[i] - gaps[i];
      const inGap = gcs.filter((g) => g.start < ends[i] && g.start + g.duration > from);
      say(`  gap ${fmt(gaps[i], 1)} ms, on CPU ${fmt(onCpu[i], 1)} ms; GC inside: ${inGap.map((g) => `kind ${g.kind} ${fmt(g.duration, 1)} ms`).join(', ') || 'none'}`);
    }
    const scav = gcs.filter((g) => g.kind === 1).map((g) => g.duration).sort((a, b) => b - a);
    say(`  GC: ${gcs.length} (scavenges ${scav.length}, largest ${scav.slice(0, 5).map((x) => fmt(x, 1)).join(', ')} ms; total ${fmt(gcs.reduce((a, g) => a + g.duration, 0), 0)} ms)`);
    const pg1 = await pgCpu(needle);
    const stored = (await sql<{ n: number }>`select count(*)::int as n from samples where entity_id like 'bench_plug_%'`.execute(hub.db)).rows[0].n;
    say(`ingest: ${fmt(total / seconds)} /s, lost ${total - stored}; stall max ${fmt(h.max / 1e6, 1)} ms, p99 ${fmt(h.percentile(99) / 1e6, 1)} ms; gaps >10 ms: ${gaps.filter((g) => g > 10).length}, >20 ms: ${gaps.filter((g) => g > 20).length} (largest ${fmt(Math.max(...gaps), 1)}); on-CPU per gap: largest ${[...onCpu].sort((a, b) => b - a).slice(0, 5).map((x) => fmt(x, 1)).join(', ')} ms, >10 ms: ${onCpu.filter((g) => g > 10).length}; node CPU ${fmt((c.user + c.system) / 1e6, 2)} s, PG CPU ${fmt(pg1 - pg0, 2)} s`);
  } finally {
    await hub.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  say(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
