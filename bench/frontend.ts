/**
 * Dashboard benchmark (issue 5): a real hub (embedded PostgreSQL or JOULEHUB_BENCH_DATABASE_URL)
 * serving the built dashboard on localhost, driven by Debian's Chromium through playwright-core.
 *
 *   initial JS      JavaScript the browser loads until the first card shows, gzip   target ≤ 300 KB
 *   first card      navigation → first card with a value, fresh browser profile     target < 1.5 s
 *   browser CPU     30 cards, 100 entities each updating 10×/s (1,000 readings/s)  target ≤ 20% of one core
 *
 * `benchFrontend({ quick })` returns BENCHMARKS.md table rows. Standalone:
 * `node --import tsx bench/frontend.ts [--quick] [--cpu-only]` prints them (--cpu-only: the CPU row
 * alone, without the first-card runs); JOULEHUB_BENCH_DEBUG=1 adds CDP metrics per second and
 * JOULEHUB_BENCH_TRACE=<file> writes a Chromium trace of the measured window.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createHub, type JoulehubHub } from '../core/src/hub/hub.js';
import { buildServer } from '../core/src/api/server.js';
import { ensureFrontendBuilt, DIST_DIR } from '../frontend/scripts/build-if-stale.js';
import { fmt, median, say } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const DEVICES = 100;
const GAUGES = 25;
const LISTS = 5;
const UPDATE_HZ = 10;
const EMAIL = 'bench@example.org';
const PASSWORD = 'bench-password-1';

/** Size of an asset as the hub sends it gzipped (its precompressed twin, else gzip -9 of it). */
function gzipSize(urlPath: string): number {
  const file = path.join(DIST_DIR, decodeURIComponent(urlPath));
  if (existsSync(`${file}.gz`)) return readFileSync(`${file}.gz`).length;
  return gzipSync(readFileSync(file), { level: 9 }).length;
}

/** utime + stime, in seconds, of the Chromium processes this process started and their children. */
function chromiumCpuSeconds(): number {
  const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stats = new Map<number, { ppid: number; cpu: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / tick });
    } catch {
      // the process ended while being read
    }
  }
  let total = 0;
  const todo: number[] = [];
  for (const [pid, st] of stats) {
    if (st.ppid !== process.pid) continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
      continue;
    }
    if (/chrom/i.test(comm)) todo.push(pid);
  }
  const seen = new Set<number>();
  while (todo.length > 0) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += stats.get(pid)?.cpu ?? 0;
    for (const [child, s] of stats) if (s.ppid === pid) todo.push(child);
  }
  return total;
}

async function startHub(dataDir: string) {
  const hub: JoulehubHub = await createHub({
    port: 0, host: '127.0.0.1', dataDir, tz: 'Europe/Berlin', logLevel: 'silent', configDir: root, integrations: [], demo: false,
  }, { log: pino({ level: 'silent' }), databaseUrl: process.env.JOULEHUB_BENCH_DATABASE_URL });
  await hub.start();
  const app = await buildServer(hub, { frontendDir: DIST_DIR });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { hub, app, base };
}

async function loggedInContext(browser: Browser, base: string, state?: Awaited<ReturnType<BrowserContext['storageState']>>): Promise<BrowserContext> {
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Berlin', viewport: { width: 1600, height: 1000 }, ...(state ? { storageState: state } : {}) });
  if (!state) {
    const res = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: EMAIL, password: PASSWORD } });
    if (!res.ok()) throw new Error(`login failed: ${res.status()} ${await res.text()}`);
  }
  return context;
}

export async function benchFrontend(opts: { quick?: boolean; cpuOnly?: boolean } = {}): Promise<string[]> {
  if (!existsSync(CHROMIUM)) {
    say(`dashboard bench skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
    return [`| dashboard (browser) | not measured: ${CHROMIUM} missing | — | — |`];
  }
  await ensureFrontendBuilt(say);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'joulehub-bench-fe-'));
  await chmod(dataDir, 0o755);
  const { hub, app, base } = await startHub(dataDir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const runs = opts.quick ? 2 : 5;
  const windowS = opts.quick ? 4 : 10;
  try {
    await hub.auth.users.create({ email: EMAIL, password: PASSWORD, role: 'admin' });
    for (let i = 0; i < DEVICES; i++) {
      const id = `plug_${String(i).padStart(3, '0')}`;
      await hub.devices.upsert({ id, name: `Plug ${i}`, maxPowerW: 3000 }, null);
      await hub.entities.register(id, { key: 'power', kind: 'power' });
      hub.report(`${id}.power`, 100 + i, Date.now());
    }
    const ids = hub.devices.list().map((d) => d.id).sort();
    const setup = await loggedInContext(browser, base);
    const state = await setup.storageState();
    const list = await (await setup.request.get(`${base}/api/v1/dashboards`)).json() as { data: { id: string; version: number }[] };
    const first = list.data[0]!;
    const cards = [
      ...ids.slice(0, GAUGES).map((id, i) => ({ id: `g${i}`, w: 3, config: { type: 'gauge', entity: `${id}.power`, name: `Plug ${i}`, max: 3000 } })),
      ...Array.from({ length: LISTS }, (_, i) => ({ id: `l${i}`, w: 6, config: { type: 'device-list', devices: ids.slice(i * 20, i * 20 + 20) } })),
    ];
    const put = await setup.request.put(`${base}/api/v1/dashboards/${first.id}`, { data: { title: 'Bench', cards, version: first.version } });
    if (!put.ok()) throw new Error(`saving the bench dashboard failed: ${put.status()} ${await put.text()}`);
    await setup.close();

    // First card and initial JavaScript, each run in a fresh profile (empty cache).
    const firstCard: number[] = [];
    const shellShown: number[] = [];
    let initialJs = 0;
    let entryJs = 0;
    let jsFiles = 0;
    // --cpu-only (standalone) skips these, for quick measurements of the CPU row alone.
    for (let r = 0; r < (opts.cpuOnly ? 0 : runs + 1); r++) {
      const context = await loggedInContext(browser, base, state);
      const page = await context.newPage();
      const js = new Set<string>();
      page.on('response', (res) => {
        const u = new URL(res.url());
        if (u.pathname.endsWith('.js')) js.add(u.pathname);
      });
      const t0 = performance.now();
      await page.goto(`${base}/`);
      await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 20_000 });
      const shell = performance.now() - t0;
      await page.locator('jh-gauge-card .value-text').first().waitFor({ timeout: 20_000 });
      const ms = performance.now() - t0;
      // The first run warms the hub (dashboard read, statistics).
      if (r > 0) {
        firstCard.push(ms);
        shellShown.push(shell);
      }
      if (r === 1) {
        jsFiles = js.size;
        initialJs = [...js].reduce((a, p) => a + gzipSize(p), 0);
        const html = readFileSync(path.join(DIST_DIR, 'index.html'), 'utf8');
        const entry = /<script type="module"[^>]*src="([^"]+)"/.exec(html)?.[1];
        entryJs = entry ? gzipSize(entry) : 0;
      }
      await context.close();
    }

    // CPU with 30 cards while 100 entities update 10×/s.
    const context = await loggedInContext(browser, base, state);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('jh-gauge-card .value-text').first().waitFor({ timeout: 20_000 });
    await page.locator('jh-device-list-card').nth(LISTS - 1).waitFor();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    // Baseline: the same page with nothing changing.
    await page.waitForTimeout(1000);
    const idle0 = chromiumCpuSeconds();
    const i0 = performance.now();
    await page.waitForTimeout(windowS * 1000 / 2);
    const idlePct = ((chromiumCpuSeconds() - idle0) / ((performance.now() - i0) / 1000)) * 100;
    let tick = 0;
    const timer = setInterval(() => {
      tick++;
      const now = Date.now();
      for (let i = 0; i < ids.length; i++) hub.report(`${ids[i]}.power`, 100 + ((i * 37 + tick * 13) % 2500), now);
    }, 1000 / UPDATE_HZ);
    await page.waitForTimeout(3000);
    const metric = async () => Object.fromEntries(((await cdp.send('Performance.getMetrics')).metrics).map((m) => [m.name, m.value])) as Record<string, number>;
    const cpu0 = chromiumCpuSeconds();
    const m0 = await metric();
    const frames0 = app.wsGateway.stats().stateFrames;
    const w0 = performance.now();
    // JOULEHUB_BENCH_TRACE=<file>: a Chromium trace of the measured window (open in chrome://tracing
    // or Perfetto); tracing costs CPU itself, so the figures of such a run are not comparable.
    const tracePath = process.env.JOULEHUB_BENCH_TRACE;
    if (tracePath) await browser.startTracing(page, { path: tracePath, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'viz', 'gpu', 'toplevel'] });
    await page.waitForTimeout(windowS * 1000);
    if (tracePath) await browser.stopTracing();
    const wall = (performance.now() - w0) / 1000;
    const cpu1 = chromiumCpuSeconds();
    const m1 = await metric();
    const frames = app.wsGateway.stats().stateFrames - frames0;
    clearInterval(timer);
    const shown = await page.locator('jh-gauge-card .value-text').first().textContent();
    await context.close();
    if (process.env.JOULEHUB_BENCH_DEBUG) {
      for (const k of Object.keys(m1)) if (/Duration|Count/.test(k)) say(`  ${k}: ${fmt(((m1[k] ?? 0) - (m0[k] ?? 0)) / wall, 3)} /s`);
    }
    const treePct = ((cpu1 - cpu0) / wall) * 100;
    const load = os.loadavg()[0]!;
    const mainPct = (((m1.TaskDuration ?? 0) - (m0.TaskDuration ?? 0)) / wall) * 100;
    const scriptPct = (((m1.ScriptDuration ?? 0) - (m0.ScriptDuration ?? 0)) / wall) * 100;
    say(`first card ${firstCard.map((x) => fmt(x)).join(', ')} ms; JS ${fmt(initialJs / 1024, 1)} KB gzip; CPU idle ${fmt(idlePct, 1)}%, tree ${fmt(treePct, 1)}%, renderer main ${fmt(mainPct, 1)}%, last value ${shown}`);

    const rows = [
      `| dashboard: initial JavaScript (gzip) | **${fmt(initialJs / 1024, 1)} KB** in ${jsFiles} files (entry chunk ${fmt(entryJs / 1024, 1)} KB) | ≤ 300 KB | bench/frontend.ts: every .js file Chromium fetched from loading \`/\` until the first card of a 30-card dashboard showed a value, counted at its gzip -9 size (the precompressed file the hub sends) |`,
      `| dashboard: time to first rendered card | **median ${fmt(median(firstCard))} ms** (runs: ${firstCard.map((x) => fmt(x)).join(', ')}; the shell's header showed at median ${fmt(median(shellShown))} ms) | < 1.5 s | logged-in fresh browser profile (empty cache) on localhost, navigation start → first gauge card showing its value, a 30-card dashboard; ${runs} runs after one warm-up; load average ${fmt(os.loadavg()[0]!, 1)} on ${os.cpus().length} cores |`,
      `| dashboard: browser CPU, 30 cards, 100 entities × 10 updates/s | **${fmt(treePct, 1)}% of one core** (${fmt(idlePct, 1)}% with nothing changing; renderer main thread busy ${fmt(mainPct, 1)}%, of it script ${fmt(scriptPct, 1)}%; ${fmt(frames / wall, 1)} state frames/s received) | ≤ 20% of one core | 25 gauges + 5 device lists (20 devices each) showing 100 power entities; the hub reports all 100 every 100 ms (1,000 readings/s); user+system CPU of the whole Chromium process tree (/proc) over ${windowS} s after 3 s of warm-up; main-thread figures from CDP Performance.getMetrics (wall time, inflated when the machine is busy); load average during the run ${fmt(load, 1)} on ${os.cpus().length} cores |`,
    ];
    return opts.cpuOnly ? rows.slice(2) : rows;
  } finally {
    await browser.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    await hub.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchFrontend({ quick: process.argv.includes('--quick'), cpuOnly: process.argv.includes('--cpu-only') }).then((rows) => {
    process.stdout.write(`${rows.join('\n')}\n`);
    process.exit(0);
  }, (err) => {
    say(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exit(1);
  });
}
