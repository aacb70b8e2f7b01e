/**
 * Dashboards API on real PostgreSQL: the generated first dashboard, saving and restoring, version
 * conflicts, bad layouts, per-user isolation, and the third-party card registry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allowAll } from '../../src/api/access.js';
import { ConfigFileError, loadConfig } from '../../src/hub/config.js';
import { describeDb } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness, type TestUser } from './harness.js';

interface Summary { id: string; title: string; position: number; version: number; card_count: number }
interface Card { id: string; w: number; h?: number; config: { type: string; [k: string]: unknown } }
interface Full extends Summary { cards: Card[] }

async function addDevice(
  h: ApiHarness, id: string, entities: { key: string; kind: 'power' | 'switch' | 'energy_total'; role?: 'grid' | 'pv' }[], maxPowerW?: number, ownerId?: string,
) {
  await h.hub.devices.upsert({ id, name: `${id} name`, ...(maxPowerW ? { maxPowerW } : {}), ...(ownerId ? { ownerId } : {}) }, null);
  for (const e of entities) await h.hub.entities.register(id, { key: e.key, kind: e.kind, ...(e.role ? { role: e.role } : {}) });
}

const card = (id: string, type: string, extra: Record<string, unknown> = {}): Card => ({ id, w: 4, config: { type, ...extra } });

describeDb('API dashboards', (target) => {
  let h: ApiHarness;
  afterEach(async () => { await h?.close(); });

  describe('one signed-in caller', () => {
    beforeEach(async () => { h = await startApi(target.url); });

    it('generates the first dashboard from the devices, once, and restores what is saved', async () => {
      await addDevice(h, 'meter', [{ key: 'power', kind: 'power', role: 'grid' }]);
      await addDevice(h, 'fridge', [{ key: 'power', kind: 'power' }], 800);
      await addDevice(h, 'plug', [{ key: 'switch', kind: 'switch' }, { key: 'power', kind: 'power' }]);

      const [first, again] = await Promise.all([
        h.app.inject({ url: '/api/v1/dashboards' }), h.app.inject({ url: '/api/v1/dashboards' }),
      ]);
      expect(first.statusCode, first.body).toBe(200);
      const list = first.json().data as Summary[];
      expect(list).toHaveLength(1); // two concurrent first visits still make one dashboard
      expect((again.json().data as Summary[]).map((d) => d.id)).toEqual([list[0].id]);

      const full = (await h.app.inject({ url: `/api/v1/dashboards/${list[0].id}` })).json() as Full;
      expect(full.title).toBe('Home');
      const types = full.cards.map((c) => c.config.type);
      expect(types[0]).toBe('energy-flow');
      expect(full.cards[0].config.grid).toBe('meter.power');
      const gauges = full.cards.filter((c) => c.config.type === 'gauge').map((c) => c.config);
      expect(gauges).toEqual(expect.arrayContaining([
        expect.objectContaining({ entity: 'fridge.power', max: 800 }),
        expect.objectContaining({ entity: 'meter.power' }),
        expect.objectContaining({ entity: 'plug.power' }),
      ]));
      expect(full.cards.find((c) => c.config.type === 'switch')?.config.entity).toBe('plug.switch');
      expect(types).toEqual(expect.arrayContaining(['energy-bars', 'stat', 'pie', 'device-list', 'notifications']));
      expect(new Set(full.cards.map((c) => c.id)).size).toBe(full.cards.length);

      // Edit: drop a card, move one, save; a second "browser" reads the same.
      const edited = [full.cards[2], full.cards[0], ...full.cards.slice(3)];
      const put = await h.app.inject({
        method: 'PUT', url: `/api/v1/dashboards/${full.id}`,
        payload: { title: 'My home', cards: edited, version: full.version },
      });
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json().version).toBe(full.version + 1);
      const reread = (await h.app.inject({ url: `/api/v1/dashboards/${full.id}` })).json() as Full;
      expect(reread.title).toBe('My home');
      expect(reread.cards).toEqual(edited);
    });

    it('refuses a save based on an old version, keeping the newer one', async () => {
      const [d] = (await h.app.inject({ url: '/api/v1/dashboards' })).json().data as Summary[];
      const a = await h.app.inject({ method: 'PUT', url: `/api/v1/dashboards/${d.id}`, payload: { title: 'A', cards: [card('x', 'gauge', { entity: 'a.power' })], version: d.version } });
      expect(a.statusCode, a.body).toBe(200);
      const b = await h.app.inject({ method: 'PUT', url: `/api/v1/dashboards/${d.id}`, payload: { title: 'B', cards: [], version: d.version } });
      const p = expectProblem(b, 409, 'DASHBOARD_CONFLICT');
      expect(p.detail).toMatch(/saved elsewhere since version 1 \(now version 2\)/);
      const now = (await h.app.inject({ url: `/api/v1/dashboards/${d.id}` })).json() as Full;
      expect(now.title).toBe('A');
      expect(now.cards).toHaveLength(1);
    });

    it('creates several dashboards in order and deletes them', async () => {
      await h.app.inject({ url: '/api/v1/dashboards' }); // the generated one
      const energy = await h.app.inject({ method: 'POST', url: '/api/v1/dashboards', payload: { title: 'Energy', cards: [card('e1', 'energy-bars', { devices: ['x'] })] } });
      expect(energy.statusCode, energy.body).toBe(201);
      expect(energy.headers.location).toBe(`/api/v1/dashboards/${energy.json().id}`);
      const empty = await h.app.inject({ method: 'POST', url: '/api/v1/dashboards', payload: { title: 'Empty' } });
      expect(empty.json().cards).toEqual([]);
      const titles = ((await h.app.inject({ url: '/api/v1/dashboards' })).json().data as Summary[]).map((d) => [d.title, d.position, d.card_count]);
      expect(titles.slice(1)).toEqual([['Energy', 1, 1], ['Empty', 2, 0]]);

      expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/dashboards/${energy.json().id}` })).statusCode).toBe(204);
      expectProblem(await h.app.inject({ url: `/api/v1/dashboards/${energy.json().id}` }), 404, 'DASHBOARD_NOT_FOUND');
      expectProblem(await h.app.inject({ method: 'DELETE', url: `/api/v1/dashboards/${energy.json().id}` }), 404, 'DASHBOARD_NOT_FOUND');
    });

    it('answers bad layouts with a problem naming the place', async () => {
      const [d] = (await h.app.inject({ url: '/api/v1/dashboards' })).json().data as Summary[];
      const put = (cards: unknown, extra: Record<string, unknown> = {}) => h.app.inject({ method: 'PUT', url: `/api/v1/dashboards/${d.id}`, payload: { title: 'T', cards, ...extra } });

      const dup = expectProblem(await put([card('a', 'gauge'), card('a', 'stat')]), 400, 'VALIDATION_FAILED');
      expect(dup.errors).toEqual([{ pointer: '/body/cards/1/id', reason: 'duplicate card id' }]);
      const wide = expectProblem(await put([{ id: 'a', w: 13, config: { type: 'gauge' } }]), 400, 'VALIDATION_FAILED');
      expect(wide.errors?.[0].pointer).toBe('/body/cards/0/w');
      const noType = expectProblem(await put([{ id: 'a', w: 2, config: { entity: 'x' } }]), 400, 'VALIDATION_FAILED');
      expect(noType.errors?.[0].pointer).toMatch(/^\/body\/cards\/0\/config/);
      const badType = expectProblem(await put([{ id: 'a', w: 2, config: { type: 'custom:nodash' } }]), 400, 'VALIDATION_FAILED');
      expect(badType.errors?.[0].pointer).toBe('/body/cards/0/config/type');
      expectProblem(await put([], { title: '' }), 400, 'VALIDATION_FAILED');
      expectProblem(await h.app.inject({ method: 'PUT', url: '/api/v1/dashboards/nope', payload: { title: 'T', cards: [] } }), 404, 'DASHBOARD_NOT_FOUND');
      // Nothing of the refused saves landed.
      expect(((await h.app.inject({ url: `/api/v1/dashboards/${d.id}` })).json() as Full).title).toBe('Home');
    });

    it('keeps card options it does not know (cards validate their own config)', async () => {
      const [d] = (await h.app.inject({ url: '/api/v1/dashboards' })).json().data as Summary[];
      const cards = [{ id: 'k', w: 6, h: 3, config: { type: 'custom:acme-meter-card', future_option: { nested: [1, 2] } } }];
      expect((await h.app.inject({ method: 'PUT', url: `/api/v1/dashboards/${d.id}`, payload: { title: 'T', cards } })).statusCode).toBe(200);
      expect(((await h.app.inject({ url: `/api/v1/dashboards/${d.id}` })).json() as Full).cards).toEqual(cards);
    });
  });

  describe('per user (real accounts and sessions)', () => {
    let alice: TestUser;
    let bob: TestUser;
    beforeEach(async () => {
      h = await startApi(target.url);
      alice = await h.createUser();
      bob = await h.createUser();
      await addDevice(h, 'alice_meter', [{ key: 'power', kind: 'power' }], undefined, alice.id);
      await addDevice(h, 'bob_meter', [{ key: 'power', kind: 'power' }], undefined, bob.id);
    });
    const as = (user: TestUser | undefined, opts: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: object }) =>
      (user ? h.app.inject({ ...opts, headers: user.headers }) : h.anonymous.inject(opts));

    it('generates each user\'s first dashboard from their own devices only', async () => {
      const [a] = (await as(alice, { url: '/api/v1/dashboards' })).json().data as Summary[];
      const [b] = (await as(bob, { url: '/api/v1/dashboards' })).json().data as Summary[];
      expect(a.id).not.toBe(b.id);
      const text = JSON.stringify((await as(alice, { url: `/api/v1/dashboards/${a.id}` })).json());
      expect(text).toContain('alice_meter');
      expect(text).not.toContain('bob_meter');
    });

    it('never lets a user see, change or delete another user\'s dashboard', async () => {
      const [a] = (await as(alice, { url: '/api/v1/dashboards' })).json().data as Summary[];
      const mine = (await as(alice, { url: `/api/v1/dashboards/${a.id}` })).json() as Full;

      expectProblem(await as(bob, { url: `/api/v1/dashboards/${a.id}` }), 404, 'DASHBOARD_NOT_FOUND');
      expectProblem(await as(bob, { method: 'PUT', url: `/api/v1/dashboards/${a.id}`, payload: { title: 'owned', cards: [] } }), 404, 'DASHBOARD_NOT_FOUND');
      expectProblem(await as(bob, { method: 'DELETE', url: `/api/v1/dashboards/${a.id}` }), 404, 'DASHBOARD_NOT_FOUND');
      // An admin has their own dashboards too, not everyone's.
      expectProblem(await as(h.admin, { url: `/api/v1/dashboards/${a.id}` }), 404, 'DASHBOARD_NOT_FOUND');
      const bobs = (await as(bob, { url: '/api/v1/dashboards' })).json().data as Summary[];
      expect(bobs.map((d) => d.id)).not.toContain(a.id);
      expect((await as(alice, { url: `/api/v1/dashboards/${a.id}` })).json()).toEqual(mine);

      // Alice's API token works on alice's dashboards (it acts as her).
      const token = await h.createToken(alice.headers, { scopes: ['read'] });
      expect((await h.app.inject({ url: `/api/v1/dashboards/${a.id}`, headers: token.headers })).json()).toEqual(mine);
    });

    it('deleting an account deletes its dashboards, and nobody else\'s', async () => {
      await as(alice, { url: '/api/v1/dashboards' });
      await as(bob, { url: '/api/v1/dashboards' });
      await h.hub.auth.users.delete(alice.id);
      const owners = (await h.hub.db.selectFrom('dashboards').select('user_id').execute()).map((r) => r.user_id);
      expect(owners).toEqual([bob.id]);
    });

    it('asks an anonymous caller to sign in', async () => {
      expectProblem(await as(undefined, { url: '/api/v1/dashboards' }), 401, 'UNAUTHORIZED');
      expectProblem(await as(undefined, { method: 'POST', url: '/api/v1/dashboards', payload: { title: 'x' } }), 401, 'UNAUTHORIZED');
    });
  });

  describe('with authentication turned off (allowAll): the install\'s own dashboards', () => {
    beforeEach(async () => { h = await startApi(target.url, { server: { access: allowAll } }); });

    it('every caller shares one set of dashboards', async () => {
      const first = (await h.anonymous.inject({ url: '/api/v1/dashboards' })).json().data as Summary[];
      expect(first).toHaveLength(1);
      await h.anonymous.inject({ method: 'POST', url: '/api/v1/dashboards', payload: { title: 'Second' } });
      expect(((await h.anonymous.inject({ url: '/api/v1/dashboards' })).json().data as Summary[]).map((d) => d.title)).toEqual(['Home', 'Second']);
      const rows = await h.hub.db.selectFrom('dashboards').select(['user_id']).execute();
      expect(rows.map((r) => r.user_id)).toEqual([null, null]);
    });
  });

  describe('third-party card registry', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'joulehub-cards-')); });
    afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

    const start = async (cardsDir: string | undefined) => {
      h = await startApi(target.url);
      // The harness builds its HubConfig by hand; set the option as loadConfig would.
      (h.hub.config as { cardsDir?: string }).cardsDir = cardsDir;
    };

    it('lists the card modules of the folder and serves them; nothing else', async () => {
      writeFileSync(path.join(dir, 'acme-card.js'), 'customElements.define("acme-card", class extends HTMLElement {});');
      writeFileSync(path.join(dir, 'b.mjs'), 'export {};');
      writeFileSync(path.join(dir, 'notes.txt'), 'not a module');
      writeFileSync(path.join(dir, '.hidden.js'), 'secret');
      await start(dir);

      const list = await h.app.inject({ url: '/api/v1/cards' });
      expect(list.statusCode, list.body).toBe(200);
      expect((list.json().data as { file: string; url: string }[]).map((c) => [c.file, c.url]))
        .toEqual([['acme-card.js', '/cards/acme-card.js'], ['b.mjs', '/cards/b.mjs']]);
      const js = await h.anonymous.inject({ url: '/cards/acme-card.js' }); // public, like the dashboard's files
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/^text\/javascript/);
      expect(js.body).toContain('acme-card');
      expectProblem(await h.app.inject({ url: '/cards/notes.txt' }), 404);
      expectProblem(await h.app.inject({ url: '/cards/.hidden.js' }), 404);
      expectProblem(await h.app.inject({ url: '/cards/..%2F..%2Fetc%2Fpasswd' }), 404);
      expectProblem(await h.app.inject({ url: '/cards/missing.js' }), 404);
    });

    it('lists nothing without a folder, or when the folder is missing', async () => {
      await start(undefined);
      expect((await h.app.inject({ url: '/api/v1/cards' })).json()).toEqual({ data: [] });
      (h.hub.config as { cardsDir?: string }).cardsDir = path.join(dir, 'nope');
      expect((await h.app.inject({ url: '/api/v1/cards' })).json()).toEqual({ data: [] });
    });
  });
});

describe('config: dashboard.cards_dir', () => {
  it('is read relative to the config file, and a wrong key names its line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'joulehub-cards-config-'));
    try {
      const file = path.join(dir, 'joulehub.yaml');
      writeFileSync(file, 'dashboard:\n  cards_dir: ./my-cards\n');
      expect(loadConfig({ configFile: file, env: {}, cwd: '/' }).cardsDir).toBe(path.join(dir, 'my-cards'));
      writeFileSync(file, 'tz: UTC\ndashboard:\n  card_dir: ./my-cards\n');
      expect(() => loadConfig({ configFile: file, env: {}, cwd: dir })).toThrow(ConfigFileError);
      expect(() => loadConfig({ configFile: file, env: {}, cwd: dir })).toThrow(/joulehub\.yaml:3: .*card_dir/);
      writeFileSync(file, 'tz: UTC\n');
      expect(loadConfig({ configFile: file, env: {}, cwd: dir }).cardsDir).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
