/**
 * A user's display preferences (locale, time zone) on GET/PATCH /api/v1/auth/me, and the order of
 * their dashboards (PUT /api/v1/dashboards/order), on real PostgreSQL through the API harness.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { canonicalLocale, canonicalTimeZone } from '../../src/auth/users.js';
import { describeDb } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness, type TestUser } from '../api/harness.js';

interface Me { user: { id: string }; preferences: { locale: string | null; time_zone: string | null } }

it('accepts BCP 47 tags and IANA zones in their usual spelling, nothing else', () => {
  expect(canonicalLocale('de-de')).toBe('de-DE');
  expect(canonicalLocale('en')).toBe('en');
  expect(canonicalLocale('xx_YY')).toBeUndefined();
  expect(canonicalLocale('')).toBeUndefined();
  expect(canonicalTimeZone('Asia/Kathmandu')).toBe('Asia/Kathmandu');
  expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
  expect(canonicalTimeZone('UTC')).toBe('UTC');
  expect(canonicalTimeZone('America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
  expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeUndefined();
  expect(canonicalTimeZone('+05:45')).toBeUndefined();
});

describeDb('display preferences and dashboard order', (target) => {
  let h: ApiHarness;
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(async () => {
    h = await startApi(target.url);
    alice = await h.createUser({ email: 'alice@example.org' });
    bob = await h.createUser({ email: 'bob@example.org' });
  });
  afterEach(async () => { await h?.close(); });

  const me = async (u: TestUser) => {
    const res = await h.app.inject({ url: '/api/v1/auth/me', headers: u.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Me;
  };
  const patch = (u: TestUser, payload: unknown) => h.app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: u.headers, payload: payload as object });

  it('starts with none (the browser\'s), stores what the user sets, and null goes back to the browser\'s', async () => {
    expect((await me(alice)).preferences).toEqual({ locale: null, time_zone: null });

    const set = await patch(alice, { locale: 'de-de', time_zone: 'Asia/Kathmandu' });
    expect(set.statusCode, set.body).toBe(200);
    expect((set.json() as Me).preferences).toEqual({ locale: 'de-DE', time_zone: 'Asia/Kathmandu' });
    // Read back on a new request (another browser): stored, not echoed.
    expect((await me(alice)).preferences).toEqual({ locale: 'de-DE', time_zone: 'Asia/Kathmandu' });

    // Only the fields sent change.
    expect((await patch(alice, { time_zone: 'Europe/Berlin' })).statusCode).toBe(200);
    expect((await me(alice)).preferences).toEqual({ locale: 'de-DE', time_zone: 'Europe/Berlin' });
    expect((await patch(alice, { locale: null })).statusCode).toBe(200);
    expect((await me(alice)).preferences).toEqual({ locale: null, time_zone: 'Europe/Berlin' });
  });

  it('refuses a bad locale or zone with a 400 naming the field, and keeps the stored values', async () => {
    await patch(alice, { locale: 'fr-FR', time_zone: 'Europe/Paris' });

    const badLocale = expectProblem(await patch(alice, { locale: 'not a locale!' }), 400, 'VALIDATION_FAILED');
    expect(badLocale.detail).toMatch(/locale/);
    expect(badLocale.errors).toEqual([expect.objectContaining({ pointer: '/body/locale' })]);

    const badZone = expectProblem(await patch(alice, { time_zone: 'Mars/Olympus_Mons' }), 400, 'VALIDATION_FAILED');
    expect(badZone.detail).toMatch(/time_zone/);
    expect(badZone.errors).toEqual([expect.objectContaining({ pointer: '/body/time_zone' })]);

    // Both wrong: both named; nothing is half applied.
    const both = expectProblem(await patch(alice, { locale: 'de-DE', time_zone: '+05:45' }), 400, 'VALIDATION_FAILED');
    expect(both.errors?.map((e) => e.pointer)).toEqual(['/body/time_zone']);
    const wrongType = expectProblem(await patch(alice, { locale: 42 }), 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(wrongType)).toMatch(/locale/);
    expectProblem(await patch(alice, { theme: 'dark' }), 400, 'VALIDATION_FAILED');

    expect((await me(alice)).preferences).toEqual({ locale: 'fr-FR', time_zone: 'Europe/Paris' });
  });

  it("changes only the caller's own preferences; another user's cannot be changed", async () => {
    await patch(alice, { locale: 'de-DE', time_zone: 'Asia/Kathmandu' });
    expect((await patch(bob, { locale: 'en-GB', time_zone: 'Europe/London' })).statusCode).toBe(200);
    expect((await me(alice)).preferences).toEqual({ locale: 'de-DE', time_zone: 'Asia/Kathmandu' });
    expect((await me(bob)).preferences).toEqual({ locale: 'en-GB', time_zone: 'Europe/London' });
    // There is no other way in: the user admin route does not take preferences, and bob may not use it.
    expectProblem(await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${alice.id}`, headers: bob.headers, payload: { locale: 'en-US' } }), 403);
    // A read-only token cannot change them either; anonymous callers have none.
    const token = await h.createToken(alice.headers, { scopes: ['read'] });
    expectProblem(await h.app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: token.headers, payload: { locale: 'en-US' } }), 403);
    expectProblem(await h.anonymous.inject({ method: 'PATCH', url: '/api/v1/auth/me', payload: { locale: 'en-US' } }), 401);
    expect((await me(alice)).preferences).toEqual({ locale: 'de-DE', time_zone: 'Asia/Kathmandu' });
  });

  it('lists them in the OpenAPI document', async () => {
    const doc = (await h.app.inject({ url: '/api/v1/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/auth/me'] ?? {})).toEqual(expect.arrayContaining(['get', 'patch']));
    expect(Object.keys(doc.paths['/api/v1/dashboards/order'] ?? {})).toEqual(['put']);
  });

  it('reorders dashboards, persistently, and only the caller\'s own complete list', async () => {
    const list = async (u: TestUser) => {
      const res = await h.app.inject({ url: '/api/v1/dashboards', headers: u.headers });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { data: { id: string; title: string; position: number; version: number }[] }).data;
    };
    const first = (await list(alice))[0]!; // generated on the first visit
    for (const title of ['Solar', 'Heating']) {
      expect((await h.app.inject({ method: 'POST', url: '/api/v1/dashboards', headers: alice.headers, payload: { title } })).statusCode).toBe(201);
    }
    const before = await list(alice);
    expect(before.map((d) => d.title)).toEqual([first.title, 'Solar', 'Heating']);
    const [a, b, c] = before.map((d) => d.id) as [string, string, string];

    const order = (u: TestUser, ids: unknown) => h.app.inject({ method: 'PUT', url: '/api/v1/dashboards/order', headers: u.headers, payload: { ids } });
    const res = await order(alice, [c, a, b]);
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { data: { id: string }[] }).data.map((d) => d.id)).toEqual([c, a, b]);
    const after = await list(alice);
    expect(after.map((d) => [d.id, d.position])).toEqual([[c, 0], [a, 1], [b, 2]]);
    // Order is not content: versions stay, so an edit open in another tab still saves.
    expect(after.map((d) => d.version)).toEqual([c, a, b].map((id) => before.find((d) => d.id === id)!.version));

    // Not the complete list (a dashboard added or deleted elsewhere), or duplicates: refused, nothing changes.
    expectProblem(await order(alice, [a, b]), 409, 'DASHBOARD_CONFLICT');
    expectProblem(await order(alice, [a, a, b]), 400, 'VALIDATION_FAILED');
    // Another user cannot order alice's dashboards, nor slip one of them into their own list.
    const bobs = (await list(bob)).map((d) => d.id);
    expectProblem(await order(bob, [c, a, b]), 409, 'DASHBOARD_CONFLICT');
    expectProblem(await order(bob, [...bobs, a]), 409, 'DASHBOARD_CONFLICT');
    expect((await order(bob, bobs)).statusCode).toBe(200);
    expect((await list(alice)).map((d) => d.id)).toEqual([c, a, b]);
  });
});
