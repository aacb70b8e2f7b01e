/**
 * The cards and <jh-dashboard> in real headless Chromium: a Vite build of test/cards/page (the
 * real modules, a fake hub connection the test drives), served over HTTP with a folder of
 * third-party card modules. Skips with a printed reason when Chromium is missing outside CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const here = import.meta.dirname;
const skipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium)`;
if (skipReason && process.env.CI) throw new Error(`component tests need Chromium in CI: ${skipReason}`);
if (skipReason) process.stderr.write(`[joulehub tests] skipping card component tests: ${skipReason}\n`);

const ACME_CARD = `
class AcmeCard extends HTMLElement {
  setConfig(c) { if (!c.label) throw new Error('acme card: "label" is required'); this.c = c; this.textContent = 'ACME ' + c.label; }
  getCardSize() { return 2; }
  static getStubConfig() { return { type: 'custom:acme-card', label: 'stub' }; }
  static get configSchema() { return { type: 'object', properties: { type: { type: 'string' }, label: { type: 'string' } } }; }
}
customElements.define('acme-card', AcmeCard);
(window.customCards ??= []).push({ type: 'acme-card', name: 'ACME meter', description: 'A third-party card' });
`;
const BROKEN_CARD = `throw new Error('broken-card exploded while loading');`;
/** The third-party card example of README.md ("Cards"), as a card author would copy it. */
const README_CARD = (/```js\n(class MeterCard[\s\S]*?)```/.exec(readFileSync(path.join(here, '../../../README.md'), 'utf8')) ?? [])[1] ?? '';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

interface Slot { id: string; type: string; error?: string; renders?: number; text: string }

describe.skipIf(!!skipReason)('cards in Chromium', () => {
  let dist: string;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dist = mkdtempSync(path.join(tmpdir(), 'joulehub-cards-page-'));
    const { build } = await import('vite');
    await build({
      configFile: false,
      root: path.join(here, 'page'),
      logLevel: 'error',
      build: { outDir: path.join(dist, 'www'), emptyOutDir: true, target: 'es2022', minify: false, reportCompressedSize: false },
    });
    const cards = path.join(dist, 'cards');
    mkdirSync(cards);
    writeFileSync(path.join(cards, 'acme-card.js'), ACME_CARD);
    writeFileSync(path.join(cards, 'broken-card.js'), BROKEN_CARD);
    writeFileSync(path.join(cards, 'meter-card.js'), README_CARD);
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const file = url.pathname.startsWith('/cards/') ? path.join(cards, path.basename(url.pathname))
        : path.join(dist, 'www', url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
      if (!existsSync(file)) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    rmSync(dist, { recursive: true, force: true });
  });

  const errors: string[] = [];
  beforeEach(async () => {
    errors.length = 0;
    page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.waitForFunction(() => document.body.dataset.ready === 'yes');
  });
  afterEach(async () => { await page?.close(); });

  /** Mounts <jh-dashboard> on a fake hub serving one dashboard with these cards. */
  async function mount(cards: { id: string; w: number; h?: number; config: Record<string, unknown> }[], opts: { customCards?: string[] } = {}) {
    await page.evaluate(async ({ cards, customCards }) => {
      const hub = new window.FakeHub();
      (window as any).hub = hub;
      const power = (id: string, role: string | null = null) => ({ id, device_id: id.split('.')[0], key: id.split('.')[1], kind: id.endsWith('switch') ? 'switch' : 'power', unit: 'W', name: null, role, source_unit: null, reports_on_change: false, max_gap_s: null, flow: 'in' });
      hub.entitiesList = [power('a.power'), power('b.power', 'grid'), power('pv.power', 'pv'), power('plug.switch')] as any;
      hub.devicesList = ['a', 'b', 'pv', 'plug'].map((id) => ({ id, name: `Device ${id.toUpperCase()}` })) as any;
      let doc = { id: 'd1', title: 'Home', version: 1, position: 0, cards };
      (window as any).saved = [];
      hub.routes.push(
        ['GET /dashboards', () => ({ data: [{ id: 'd1', title: doc.title, position: 0, version: doc.version, card_count: doc.cards.length }] })],
        ['GET /dashboards/d1', () => structuredClone(doc)],
        ['PUT /dashboards/d1', (body: any) => {
          if (body.version !== doc.version) throw new window.FakeProblem(409, 'Dashboard "d1" was saved elsewhere');
          doc = { ...doc, ...body, version: doc.version + 1 };
          (window as any).saved.push(structuredClone(body));
          return structuredClone(doc);
        }],
        ['GET /cards', () => ({ data: customCards.map((f) => ({ file: f, url: `/cards/${f}` })) })],
      );
      const el = document.createElement('jh-dashboard') as any;
      el.hub = hub;
      document.getElementById('root')!.replaceChildren(el);
      await el.ready;
    }, { cards, customCards: opts.customCards ?? [] });
    await settled();
  }

  /** Waits until every slot shows its card or its error card. */
  async function settled() {
    await page.waitForFunction(() => {
      const d = document.querySelector('jh-dashboard') as any;
      const slots = [...d.shadowRoot.querySelectorAll('jh-card-slot')] as any[];
      return slots.every((s) => s.card || s.error !== undefined);
    });
    await page.evaluate(async () => {
      const d = document.querySelector('jh-dashboard') as any;
      await d.updateComplete;
      for (const s of d.shadowRoot.querySelectorAll('jh-card-slot') as any) { await s.updateComplete; await s.card?.updateComplete; }
    });
  }

  async function slots(): Promise<Slot[]> {
    return page.evaluate(() => {
      const d = document.querySelector('jh-dashboard') as any;
      return ([...d.shadowRoot.querySelectorAll('jh-card-slot')] as any[]).map((s) => ({
        id: s.placement.id, type: s.placement.config.type, error: s.error, renders: s.card?.renderCount,
        text: (s.card?.shadowRoot?.textContent ?? s.card?.textContent ?? s.shadowRoot.textContent).replace(/\s+/g, ' ').trim(),
      }));
    });
  }

  const setState = (id: string, value: number | null, text?: string) => page.evaluate(async ({ id, value, text }) => {
    (window as any).hub.set(id, value, text !== undefined ? { text } : {});
    const d = document.querySelector('jh-dashboard') as any;
    for (const s of d.shadowRoot.querySelectorAll('jh-card-slot') as any) await s.card?.updateComplete;
  }, { id, value, text });

  it('a state change re-renders only the cards that show that entity', async () => {
    await mount([
      { id: 'ga', w: 3, config: { type: 'gauge', entity: 'a.power', name: 'A', max: 3000 } },
      { id: 'gb', w: 3, config: { type: 'gauge', entity: 'b.power', name: 'B' } },
      { id: 'flow', w: 6, config: { type: 'energy-flow', grid: 'b.power', pv: 'pv.power' } },
      { id: 'sum', w: 3, config: { type: 'gauge', entities: ['a.power', 'pv.power'], name: 'Sum' } },
    ]);
    const before = Object.fromEntries((await slots()).map((s) => [s.id, s.renders!]));
    expect(await page.evaluate(() => (window as any).hub.subscriptions())).toEqual({ 'a.power': 2, 'b.power': 2, 'pv.power': 2 });

    await setState('a.power', 1500);
    let now = await slots();
    expect(now.find((s) => s.id === 'ga')!.text).toContain('1.5 kW');
    expect(Object.fromEntries(now.map((s) => [s.id, s.renders! - before[s.id]]))).toEqual({ ga: 1, gb: 0, flow: 0, sum: 1 });

    await setState('b.power', -400);
    await setState('pv.power', 2000);
    now = await slots();
    expect(Object.fromEntries(now.map((s) => [s.id, s.renders! - before[s.id]]))).toEqual({ ga: 1, gb: 1, flow: 2, sum: 2 });
    expect(now.find((s) => s.id === 'sum')!.text).toContain('3.5 kW');
    // Exporting 400 W while PV makes 2 kW: the home uses 1.6 kW; the grid arrow points away from home.
    const flow = await page.evaluate(() => {
      const d = document.querySelector('jh-dashboard') as any;
      const card = [...d.shadowRoot.querySelectorAll('jh-card-slot')].find((s: any) => s.placement.id === 'flow') as any;
      const root = card.card.shadowRoot;
      return {
        home: root.querySelector('[data-node=home] .watts').textContent,
        grid: root.querySelector('[data-flow=grid]')?.getAttribute('data-direction'),
        pv: root.querySelector('[data-flow=pv]')?.getAttribute('data-direction'),
      };
    });
    expect(flow).toEqual({ home: '1.6\u00a0kW', grid: 'from-home', pv: 'to-home' });
    expect(errors).toEqual([]);
  });

  it('shows an error card for a bad config, an unknown type and a broken module; the rest renders', async () => {
    await mount([
      { id: 'ok', w: 3, config: { type: 'gauge', entity: 'a.power' } },
      { id: 'bad', w: 3, config: { type: 'gauge', entity: 'a.power', max: -1 } },
      { id: 'unknown', w: 3, config: { type: 'sparkles' } },
      { id: 'broken', w: 3, config: { type: 'custom:broken-card' } },
      { id: 'acme', w: 3, config: { type: 'custom:acme-card', label: 'meter 7' } },
      { id: 'acme-bad', w: 3, config: { type: 'custom:acme-card' } },
    ], { customCards: ['broken-card.js', 'acme-card.js'] });
    const s = Object.fromEntries((await slots()).map((x) => [x.id, x]));
    expect(s.ok.error).toBeUndefined();
    expect(s.bad.error).toBe('gauge card: max: must be greater than 0');
    expect(s.unknown.error).toMatch(/^Unknown card type "sparkles"/);
    expect(s.broken.error).toMatch(/Card element <broken-card> was not defined/);
    expect(s.acme.text).toBe('ACME meter 7');
    expect(s['acme-bad'].error).toBe('acme card: "label" is required');
    // The error card shows the message and the config, so the user can fix it.
    const shown = await page.evaluate(() => {
      const d = document.querySelector('jh-dashboard') as any;
      const slot = [...d.shadowRoot.querySelectorAll('jh-card-slot')].find((x: any) => x.placement.id === 'bad') as any;
      return slot.shadowRoot.querySelector('[role=alert]').textContent.replace(/\s+/g, ' ');
    });
    expect(shown).toContain('This card cannot be shown');
    expect(shown).toContain('"max": -1');
    const banner = await page.evaluate(() => (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('.problem')?.textContent);
    expect(banner).toMatch(/\/cards\/broken-card\.js failed to load/);
  });

  it('edit mode: add from the picker, move, resize, remove, undo, save', async () => {
    await mount([
      { id: 'c1', w: 3, config: { type: 'gauge', entity: 'a.power' } },
      { id: 'c2', w: 6, config: { type: 'stat', entity: 'b.power' } },
    ], { customCards: ['acme-card.js'] });
    const dash = page.locator('jh-dashboard');
    await dash.getByRole('button', { name: 'Edit dashboard' }).click();
    await dash.getByRole('button', { name: 'Add card' }).click();
    const picker = dash.locator('dialog.picker-dialog');
    await expect.poll(() => picker.evaluate((d: HTMLDialogElement) => d.open)).toBe(true);
    const offered = await picker.locator('button[data-type]').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-type')));
    expect(offered).toEqual(expect.arrayContaining(['jh-gauge-card', 'jh-switch-card', 'jh-energy-bars-card', 'acme-card']));
    await picker.locator('button[data-type=jh-switch-card]').click();
    await settled();
    let s = await slots();
    expect(s.map((x) => x.type)).toEqual(['gauge', 'stat', 'switch']);
    expect(await page.evaluate(() => (document.querySelector('jh-dashboard') as any).model.cards[2].config)).toEqual({ type: 'switch', entity: 'plug.switch', name: 'Device PLUG' });

    // Keyboard-operable buttons: move the switch first, widen the gauge.
    await dash.locator('jh-card-slot').nth(2).getByRole('button', { name: 'Move earlier' }).click();
    await dash.locator('jh-card-slot').nth(1).getByRole('button', { name: 'Move earlier' }).click();
    await dash.locator('jh-card-slot').nth(1).getByRole('button', { name: 'Wider' }).click();
    // Drag and drop: the stat card onto the first place.
    await dash.locator('jh-card-slot').nth(2).locator('.tools').dragTo(dash.locator('jh-card-slot').nth(0));
    s = await slots();
    expect(s.map((x) => x.id)).toEqual(['c2', 'c3', 'c1']);
    // Resize by dragging the corner: two columns wider, one row taller.
    const handle = dash.locator('jh-card-slot').nth(2).locator('.resize');
    const box = (await handle.boundingBox())!;
    const col = await page.evaluate(() => (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('jh-card-slot').columnPx as number);
    await page.mouse.move(box.x + 10, box.y + 10);
    await page.mouse.down();
    await page.mouse.move(box.x + 10 + 2 * (col + 12), box.y + 10 + 68, { steps: 4 });
    await page.mouse.up();
    let model = await page.evaluate(() => (document.querySelector('jh-dashboard') as any).model.cards.map((c: any) => [c.id, c.w, c.h ?? null]));
    expect(model).toEqual([['c2', 6, null], ['c3', 4, null], ['c1', 6, 5]]);

    await dash.locator('jh-card-slot').nth(0).getByRole('button', { name: 'Remove card' }).click();
    expect((await slots()).map((x) => x.id)).toEqual(['c3', 'c1']);
    await dash.getByRole('button', { name: 'Undo' }).click();
    await settled();
    expect((await slots()).map((x) => x.id)).toEqual(['c2', 'c3', 'c1']);
    await dash.locator('jh-card-slot').nth(0).getByRole('button', { name: 'Remove card' }).click();

    // Removed cards let go of their entities; the remaining ones keep exactly one subscription each.
    expect(await page.evaluate(() => (window as any).hub.subscriptions())).toEqual({ 'a.power': 1, 'plug.switch': 1 });

    await dash.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.evaluate(() => (window as any).saved.length)).toBe(1);
    const saved = await page.evaluate(() => (window as any).saved[0]);
    expect(saved.version).toBe(1);
    expect(saved.cards.map((c: any) => [c.id, c.w, c.h ?? null, c.config.type])).toEqual([['c3', 4, null, 'switch'], ['c1', 6, 5, 'gauge']]);
    expect(await dash.getByRole('button', { name: 'Edit dashboard' }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('edits a card in the form (refusing a bad value with the card\'s message) and as YAML', async () => {
    await mount([{ id: 'g', w: 4, config: { type: 'gauge', entity: 'a.power', max: 3000 } }]);
    await setState('a.power', 1200);
    const dash = page.locator('jh-dashboard');
    await dash.getByRole('button', { name: 'Edit dashboard' }).click();
    await dash.getByRole('button', { name: 'Edit card' }).click();
    const dialog = dash.locator('dialog.editor-dialog');
    await expect.poll(() => dialog.evaluate((d: HTMLDialogElement) => d.open)).toBe(true);
    const max = dialog.getByLabel('Maximum (W)');
    await max.fill('-5');
    await max.press('Tab');
    await expect.poll(() => dialog.locator('.problem').textContent()).toBe('gauge card: max: must be greater than 0');
    expect(await dialog.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(true);
    await max.fill('5000');
    await max.press('Tab');
    await expect.poll(() => dialog.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(false);

    await dialog.getByRole('button', { name: 'YAML' }).click();
    const yaml = dialog.getByLabel('Card options (YAML)');
    expect(await yaml.inputValue()).toContain('max: 5000');
    await yaml.fill('type: gauge\nentity: a.power\nmax: [1');
    await expect.poll(() => dialog.locator('jh-card-editor').locator('.problem').textContent()).toMatch(/^YAML line \d/);
    await yaml.fill('type: gauge\nentity: a.power\nname: Kitchen\nmax: 6000\n');
    await expect.poll(() => dialog.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(false);
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await settled();
    const [g] = await slots();
    expect(g.text).toContain('Kitchen');
    expect(g.text).toContain('of 6 kW');
    expect(g.text).toContain('1.2 kW');
    expect(errors).toEqual([]);
  });

  it('a switch shows the pending state until the device confirms, through the command API', async () => {
    await mount([{ id: 's', w: 3, config: { type: 'switch', entity: 'plug.switch', name: 'Kettle' } }]);
    await setState('plug.switch', 0, 'off');
    const sw = page.locator('jh-dashboard').getByRole('switch', { name: 'Kettle' });
    expect(await sw.getAttribute('aria-checked')).toBe('false');
    // A refused command: the card says why and keeps the real state.
    await sw.click();
    await expect.poll(async () => (await slots())[0].text).toContain('No route POST /entities/plug.switch/command');
    expect(await sw.getAttribute('aria-checked')).toBe('false');
    await page.evaluate(() => {
      (window as any).hub.routes.push(['POST /entities/plug.switch/command', (b: any) => ({ entity_id: 'plug.switch', command: b.command, status: 'accepted' })]);
      (window as any).hub.calls.length = 0;
    });
    await sw.click();
    await expect.poll(async () => (await slots())[0].text).toContain('switching on…');
    expect(await sw.getAttribute('aria-busy')).toBe('true');
    const calls = await page.evaluate(() => (window as any).hub.calls.filter((c: any) => c.method === 'POST'));
    expect(calls).toEqual([{ method: 'POST', path: '/entities/plug.switch/command', body: { command: 'turn_on' } }]);
    await setState('plug.switch', 1, 'on');
    expect(await sw.getAttribute('aria-checked')).toBe('true');
    expect(await sw.getAttribute('aria-busy')).toBe('false');
    expect((await slots())[0].text).toContain('on');

    // No confirmation: after the wait, the real state again and a message.
    await page.evaluate(() => { const d = document.querySelector('jh-dashboard') as any; d.shadowRoot.querySelector('jh-card-slot').card.confirmMs = 200; });
    await sw.click();
    await expect.poll(async () => (await slots())[0].text, { timeout: 3000 }).toContain('The device did not confirm the change');
    expect(await sw.getAttribute('aria-checked')).toBe('true');
  });

  it('energy bars: one stacked series per device, on the buckets of the period in the user\'s zone', async () => {
    await mount([{ id: 'e', w: 12, config: { type: 'energy-bars', devices: ['a', 'b'], interval: 'hour', period: 'today' } }]);
    // The fake hub had no /energy route yet: the card shows the problem instead of going blank.
    expect((await slots())[0].text).toContain('No route GET /energy');
    await page.evaluate(async () => {
      const hub = (window as any).hub;
      hub.routes.push([/^GET \/energy\?/, (_b: unknown, _m: string, p: string) => {
        const q = new URLSearchParams(p.split('?')[1]);
        const v = q.get('device') === 'a' ? [0.5, 0.25] : [1, 2];
        return { data: [{ datetime: '2026-11-23T07:00:00Z', value: v[0] }, { datetime: '2026-11-23T08:00:00Z', value: v[1] }] };
      }]);
      const card = (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('jh-card-slot').card;
      await card.reload();
      await card.updateComplete;
    });
    const out = await page.evaluate(() => {
      const hub = (window as any).hub;
      const card = (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('jh-card-slot').card;
      return {
        query: hub.calls.filter((c: any) => c.path.startsWith('/energy?')).map((c: any) => c.path).slice(-2),
        labels: card.chartOption.xAxis.data,
        series: card.chartOption.series.map((s: any) => [s.name, s.stack, s.data]),
        canvas: !!card.shadowRoot.querySelector('.chart canvas'),
      };
    });
    expect(out.query[0]).toMatch(/^\/energy\?device=a&start=\d{4}-\d\d-\d\d&end=\d{4}-\d\d-\d\d&interval=hour&tz=Europe%2FBerlin$/);
    expect(out.labels).toEqual(['08:00', '09:00']); // Berlin is UTC+1 in November
    expect(out.series).toEqual([['Device A', 'energy', [0.5, 0.25]], ['Device B', 'energy', [1, 2]]]);
    expect(out.canvas).toBe(true);
    // Switching to the dark theme redraws the chart in the theme's colours.
    await page.evaluate(() => {
      document.documentElement.style.setProperty('--jh-card-fg', '#e4e9f0');
      document.documentElement.dataset.theme = 'dark';
    });
    await page.waitForFunction(() => (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('jh-card-slot').card.chartOption.legend.textStyle.color === '#e4e9f0');
  });

  it('notifications: says so while the hub has none to offer, and shows pushed ones live', async () => {
    await mount([{ id: 'n', w: 6, config: { type: 'notifications', limit: 3 } }]);
    expect((await slots())[0].text).toContain('does not offer notifications yet');
    // Mounting loads once (config, hub and connection arriving in any order).
    expect(await page.evaluate(() => (window as any).hub.calls.filter((c: any) => c.path.startsWith('/notifications')).length)).toBe(1);
    await page.evaluate(async () => {
      const hub = (window as any).hub;
      hub.frame('notification', { type: 'notification', notification: { id: 'x1', title: 'Over consumption', message: 'Fridge used 2.1 kWh in an hour', created_at: '2026-11-23T10:00:00Z', level: 'warning' } });
      await (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('jh-card-slot').card.updateComplete;
    });
    const text = (await slots())[0].text;
    expect(text).toContain('Over consumption');
    expect(text).toContain('Fridge used 2.1 kWh in an hour');
    await page.evaluate(() => {
      (window as any).hub.routes.push(['POST /notifications/x1/read', () => ({ id: 'x1', title: 'Over consumption', message: 'Fridge used 2.1 kWh in an hour', created_at: '2026-11-23T10:00:00Z', level: 'warning', read_at: '2026-11-23T10:05:00Z' })]);
    });
    await page.locator('jh-dashboard').getByRole('button', { name: 'Mark "Over consumption" read' }).click();
    await expect.poll(() => page.locator('jh-dashboard').getByRole('button', { name: 'Mark "Over consumption" read' }).count()).toBe(0);
    expect(await page.evaluate(() => (window as any).hub.calls.filter((c: any) => c.method === 'POST').map((c: any) => c.path))).toEqual(['/notifications/x1/read']);
  });
  it('history reads raw samples for a day and hourly rollups (as average power) for a month', async () => {
    await mount([
      { id: 'day', w: 12, config: { type: 'history', entities: ['a.power'], hours: 24 } },
      { id: 'month', w: 12, config: { type: 'history', entities: ['a.power'], hours: 720 } },
    ]);
    await page.evaluate(async () => {
      const hub = (window as any).hub;
      hub.routes.push(
        [/^GET \/history\?/, () => ({ entity: 'a.power', data: [{ datetime: '2026-11-23T10:00:00Z', value: 100 }, { datetime: '2026-11-23T10:05:00Z', value: 250 }], next: null })],
        [/^GET \/energy\?/, () => ({ data: [{ datetime: '2026-11-01T00:00:00Z', value: 0.5 }, { datetime: '2026-11-01T01:00:00Z', value: 0.25 }] })],
      );
      for (const s of (document.querySelector('jh-dashboard') as any).shadowRoot.querySelectorAll('jh-card-slot')) { await s.card.reload(); await s.card.updateComplete; }
    });
    await setState('a.power', 400);
    // Live readings redraw the chart at most once a second.
    await page.waitForFunction(() => {
      const card = (document.querySelector('jh-dashboard') as any).shadowRoot.querySelector('jh-card-slot').card;
      return card.chartOption.series[0].data.length === 3;
    });
    const out = await page.evaluate(() => {
      const hub = (window as any).hub;
      const cards = [...(document.querySelector('jh-dashboard') as any).shadowRoot.querySelectorAll('jh-card-slot')].map((s: any) => s.card);
      return {
        paths: hub.calls.map((c: any) => c.path.split('&start')[0]).filter((p: string) => /^\/(history|energy)/.test(p)),
        energyQuery: hub.calls.find((c: any) => c.path.startsWith('/energy?'))?.path,
        day: cards[0].chartOption.series[0], month: cards[1].chartOption.series[0],
        subs: hub.subscriptions(),
      };
    });
    expect(new Set(out.paths)).toEqual(new Set(['/history?entity=a.power', '/energy?entity=a.power']));
    expect(out.energyQuery).toMatch(/interval=hour/);
    expect(out.day.step).toBe('end');
    expect(out.day.name).toBe('Device A');
    // The live state was appended to the raw series; the rollups are average watts (0.5 kWh in an hour = 500 W).
    expect(out.day.data.map((p: [number, number]) => p[1])).toEqual([100, 250, 400]);
    expect(out.month.data.map((p: [number, number]) => p[1])).toEqual([500, 250]);
    expect(out.month.step).toBeUndefined();
    expect(out.subs).toEqual({ 'a.power': 1 }); // only the raw-range card listens live
  });

  it('stat: today\'s energy with the trend against yesterday until the same time; pie: the largest devices', async () => {
    await mount([
      { id: 'stat', w: 4, config: { type: 'stat', stat: 'today_kwh', devices: ['a', 'b'] } },
      { id: 'pie', w: 6, config: { type: 'pie', period: 'week', max_slices: 2 } },
      { id: 'list', w: 6, config: { type: 'device-list' } },
    ]);
    await page.evaluate(async () => {
      const hub = (window as any).hub;
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
      hub.routes.push(
        [/^GET \/energy\?/, (_b: unknown, _m: string, p: string) => {
          const q = new URLSearchParams(p.split('?')[1]);
          const isToday = q.get('start') === today;
          return { data: [{ datetime: '2026-11-23T00:00:00Z', value: isToday ? 3 : 2 }] };
        }],
        [/^GET \/energy\/top\?/, () => ({ data: [{ device: 'a', kwh: 5 }, { device: 'b', kwh: 3 }, { device: 'pv', kwh: 1 }, { device: 'plug', kwh: 0.5 }] })],
      );
      for (const s of (document.querySelector('jh-dashboard') as any).shadowRoot.querySelectorAll('jh-card-slot')) { await s.card.reload?.(); await s.card.updateComplete; }
    });
    await setState('a.power', 1234);
    await page.evaluate(async () => {
      (window as any).hub.set('b.power', null, { available: false });
      await (document.querySelector('jh-dashboard') as any).shadowRoot.querySelectorAll('jh-card-slot')[2].card.updateComplete;
    });
    const [stat, pie, list] = await slots();
    // Two devices, 3 kWh each so far today, 2 kWh each yesterday by this time: +50 %.
    expect(stat.text).toContain('6 kWh');
    expect(stat.text).toContain('▲ 50%');
    expect(stat.text).toContain('4 kWh yesterday by this time');
    const slices = await page.evaluate(() => (document.querySelector('jh-dashboard') as any).shadowRoot.querySelectorAll('jh-card-slot')[1].card.chartOption.series[0].data);
    expect(slices).toEqual([{ name: 'Device A', value: 5 }, { name: 'Device B', value: 3 }, { name: 'Other', value: 1.5 }]);
    expect(pie.text).toContain('9.5 kWh');
    expect(list.text).toMatch(/Device A.*1\.23\s?kW/);
    expect(list.text).toMatch(/Device B\s*unavailable since/);
    expect(list.text).toMatch(/Device PV\s*no readings yet/);
  });

  it('several dashboards: switch between them, create one; a save over newer changes is refused and kept', async () => {
    await mount([{ id: 'c1', w: 3, config: { type: 'gauge', entity: 'a.power' } }]);
    await page.evaluate(() => {
      const hub = (window as any).hub;
      const docs: Record<string, any> = { d2: { id: 'd2', title: 'Garage', version: 7, position: 1, cards: [] } };
      hub.routes.unshift(
        ['GET /dashboards', () => ({ data: [{ id: 'd1', title: 'Home', position: 0, version: 1, card_count: 1 }, ...Object.values(docs).map((d: any) => ({ ...d, card_count: d.cards.length }))] })],
        [/^GET \/dashboards\/d[2-9]$/, (_b: unknown, _m: string, p: string) => docs[p.split('/')[2]]],
        ['POST /dashboards', (b: any) => (docs.d3 = { id: 'd3', title: b.title, version: 1, position: 2, cards: [] })],
        ['DELETE /dashboards/d3', () => { delete docs.d3; return undefined; }],
        ['PUT /dashboards/d2', () => { throw new window.FakeProblem(409, 'Dashboard "d2" was saved elsewhere since version 7 (now version 8); reload it and apply your changes again'); }],
      );
    });
    const dash = page.locator('jh-dashboard');
    await dash.evaluate(async (d: any) => { d.dashboardId = undefined; d.model = undefined; await d.show('d1'); await d.ready; });
    await dash.getByRole('button', { name: 'Garage' }).click();
    await expect.poll(() => dash.evaluate((d: any) => d.model?.id)).toBe('d2');
    expect(await dash.getByRole('button', { name: 'Garage' }).getAttribute('aria-current')).toBe('page');
    expect(await dash.locator('.empty').textContent()).toContain('no cards yet');

    await dash.getByRole('button', { name: 'Edit dashboard' }).click();
    await dash.getByRole('button', { name: 'Add card' }).click();
    await dash.locator('dialog.picker-dialog button[data-type=jh-gauge-card]').click();
    await dash.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dash.locator('.problem').first().textContent()).toMatch(/saved elsewhere since version 7.*Your changes are still here/);
    expect(await dash.evaluate((d: any) => [d.editing, d.model.cards.length, d.model.dirty])).toEqual([true, 1, true]);

    await dash.getByRole('button', { name: 'Cancel' }).click();
    await dash.getByRole('button', { name: 'Edit dashboard' }).click();
    await dash.getByRole('button', { name: 'New dashboard' }).click();
    await expect.poll(() => dash.evaluate((d: any) => d.model?.id)).toBe('d3');
    expect(await dash.evaluate((d: any) => [d.model.title, d.editing, d.list.map((x: any) => x.title)])).toEqual(['Dashboard 3', true, ['Home', 'Garage', 'Dashboard 3']]);
    expect(await page.evaluate(() => (window as any).hub.calls.filter((c: any) => c.path === '/dashboards/d3').length)).toBe(1);

    // Delete it (after confirming): back to the first dashboard.
    page.once('dialog', (d) => { void d.accept(); });
    await dash.getByRole('button', { name: 'Delete dashboard' }).click();
    await expect.poll(() => dash.evaluate((d: any) => d.model?.id)).toBe('d1');
    expect(await dash.evaluate((d: any) => [d.editing, d.list.map((x: any) => x.title)])).toEqual([false, ['Home', 'Garage']]);
  });

  it('at phone width every card takes the full width, one under the other', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.evaluate(() => { document.body.style.width = 'auto'; });
    await mount([
      { id: 'a', w: 3, config: { type: 'gauge', entity: 'a.power' } },
      { id: 'b', w: 6, config: { type: 'switch', entity: 'plug.switch' } },
    ]);
    const boxes = await page.locator('jh-dashboard jh-card-slot').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [Math.round(r.left), Math.round(r.width), Math.round(r.top)]));
    const grid = await page.locator('jh-dashboard .grid').evaluate((g) => Math.round(g.getBoundingClientRect().width));
    expect(boxes[0][1]).toBe(grid);
    expect(boxes[1][1]).toBe(grid);
    expect(boxes[1][2]).toBeGreaterThan(boxes[0][2]);
  });
  it('the README\'s third-party card example loads from the cards folder, is offered in the picker and shows live values', async () => {
    expect(README_CARD).toContain("customElements.define('meter-card'");
    await mount([{ id: 'm', w: 3, config: { type: 'custom:meter-card', entity: 'a.power' } }, { id: 'bad', w: 3, config: { type: 'custom:meter-card' } }], { customCards: ['meter-card.js'] });
    await setState('a.power', 42);
    const [m, bad] = await slots();
    expect(m.text).toBe('42 W');
    expect(bad.error).toBe('meter card: "entity" is required');
    const dash = page.locator('jh-dashboard');
    await dash.getByRole('button', { name: 'Edit dashboard' }).click();
    await dash.getByRole('button', { name: 'Add card' }).click();
    await dash.locator('dialog.picker-dialog button[data-type=meter-card]').click();
    await settled();
    expect(await page.evaluate(() => (document.querySelector('jh-dashboard') as any).model.cards[2].config)).toEqual({ type: 'custom:meter-card', entity: 'a.power' });
    expect((await slots())[2].text).toBe('42 W');
    expect(errors).toEqual([]);
  });
});
