/**
 * The live connection against a real hub's WebSocket gateway (PostgreSQL, fastify listening on a
 * port, the `ws` client standing in for the browser's WebSocket).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { describeDb } from '../../../core/test/support/db.js';
import { createDevice, startApi, type ApiHarness } from '../../../core/test/api/harness.js';
import { LiveConnection, type SocketLike } from '../../src/lib/connection.js';
import { ApiClient } from '../../src/lib/api.js';
import type { EntityState } from '../../src/cards/types.js';

/** Resolves when `check()` is true, polling; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeDb('frontend live connection', (target) => {
  let h: ApiHarness;
  let url: string;
  let conn: LiveConnection | undefined;
  beforeEach(async () => {
    h = await startApi(target.url, {
      server: {
        // Every caller is alice (a stand-in policy; authentication is tested by issue 4's suites).
        access: {
          authorize(request) {
            request.caller = { kind: 'session', userId: 'alice', role: 'user', scopes: ['read'] };
          },
          canSeeDevice: () => true,
        },
        // Real time for frame coalescing; the hub clock stays manual for readings.
        ws: { timer: { now: () => Date.now(), after: (ms, fn) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } } },
      },
    });
    for (const id of ['fridge', 'oven']) {
      await createDevice(h.app, id);
      await h.hub.entities.register(id, { key: 'power', kind: 'power' });
    }
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/api/v1/ws`;
  });
  afterEach(async () => {
    conn?.stop();
    conn = undefined;
    await h?.close();
  });

  const connect = () => {
    conn = new LiveConnection(null, {
      url,
      socket: (u) => new WebSocket(u) as unknown as SocketLike,
      api: new ApiClient(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/api/v1`),
      baseDelayMs: 20,
      maxDelayMs: 200,
    });
    conn.start();
    return conn;
  };
  const report = (entity: string, value: number) => h.hub.report(entity, value, h.clock.now());

  it('gives a listener the current state, then only changes of its own entities', async () => {
    report('fridge.power', 80);
    const c = connect();
    const fridge: EntityState[][] = [];
    const oven: EntityState[][] = [];
    c.subscribe(['fridge.power'], (s) => fridge.push(s));
    c.subscribe(['oven.power'], (s) => oven.push(s));
    await until(() => fridge.length === 1, 'the current fridge state');
    expect(fridge[0]!.map((s) => [s.entity_id, s.value])).toEqual([['fridge.power', 80]]);
    expect(c.state('fridge.power')?.value).toBe(80);

    report('fridge.power', 95);
    await until(() => fridge.length === 2, 'the fridge change');
    expect(fridge[1]!.map((s) => s.value)).toEqual([95]);
    // The oven never reported and did not change: its listener was never called.
    expect(oven).toEqual([]);

    report('oven.power', 2000);
    await until(() => oven.length === 1, 'the oven change');
    expect(fridge.length).toBe(2);
    expect(c.connected).toBe(true);
  });

  it('a second listener of a live entity gets its current state at once', async () => {
    report('fridge.power', 80);
    const c = connect();
    const first: number[] = [];
    c.subscribe(['fridge.power'], (s) => first.push(s[0]!.value!));
    await until(() => first.length === 1, 'the first listener');
    const second: number[] = [];
    c.subscribe(['fridge.power'], (s) => second.push(s[0]!.value!));
    await until(() => second.length === 1, 'the second listener');
    expect(second).toEqual([80]);
  });

  it('an unknown entity does not stop the others from being subscribed', async () => {
    report('oven.power', 1500);
    const c = connect();
    const got: EntityState[] = [];
    c.subscribe(['nope.power', 'oven.power'], (s) => got.push(...s));
    await until(() => got.some((s) => s.entity_id === 'oven.power'), 'the oven state');
    expect(got.find((s) => s.entity_id === 'nope.power')).toMatchObject({ available: false, value: null });
    report('oven.power', 1600);
    await until(() => got.some((s) => s.entity_id === 'oven.power' && s.value === 1600), 'the oven change');
  });

  it('unsubscribing the last listener unsubscribes on the server', async () => {
    const c = connect();
    const stopA = c.subscribe(['fridge.power'], () => {});
    const stopB = c.subscribe(['fridge.power', 'oven.power'], () => {});
    await until(() => h.app.wsGateway.clients()[0]?.subscriptions.length === 2, 'two subscriptions');
    stopB();
    await until(() => h.app.wsGateway.clients()[0]?.subscriptions.join() === 'fridge.power', 'oven unsubscribed');
    stopA();
    await until(() => h.app.wsGateway.clients()[0]?.subscriptions.length === 0, 'nothing subscribed');
  });

  it('shows the link down, reconnects with back-off and resubscribes', async () => {
    const c = connect();
    const values: number[] = [];
    c.subscribe(['fridge.power'], (s) => values.push(...s.map((x) => x.value!)));
    await until(() => h.app.wsGateway.clients()[0]?.subscriptions.length === 1, 'the subscription');
    const changes: boolean[] = [];
    c.onConnectionChange((up) => changes.push(up));

    // The server drops every socket (a hub restart or a network cut looks the same to the page).
    for (const socket of h.app.websocketServer.clients) socket.terminate();
    await until(() => changes.includes(false), 'the disconnected state');
    await until(() => c.connected && h.app.wsGateway.clients().some((x) => x.subscriptions.includes('fridge.power')), 'resubscribed');
    expect(changes).toEqual([false, true]);

    report('fridge.power', 42);
    await until(() => values.includes(42), 'a change after the reconnect');
  });

  it('routes user frames (notifications) to their handlers by type', async () => {
    const c = connect();
    await until(() => c.connected, 'the connection');
    const seen: unknown[] = [];
    c.onFrame('notification', (f) => seen.push(f));
    // A frame for someone else is not delivered; one for alice is.
    h.hub.bus.emit('user_frame', { users: ['bob'], frame: { type: 'notification', notification: { title: 'not yours' } } });
    h.hub.bus.emit('user_frame', { users: ['alice'], frame: { type: 'notification', notification: { title: 'Fridge over its hourly maximum' } } });
    await until(() => seen.length === 1, 'the notification');
    expect(seen[0]).toMatchObject({ type: 'notification', notification: { title: 'Fridge over its hourly maximum' } });
  });

  it('lists devices and entities through the REST client', async () => {
    const c = connect();
    expect((await c.devices()).map((d) => d.id)).toEqual(['fridge', 'oven']);
    expect((await c.entities()).map((e) => e.id).sort()).toEqual(['fridge.power', 'oven.power']);
    await expect(c.api('/devices/nope')).rejects.toMatchObject({ status: 404, code: 'DEVICE_NOT_FOUND' });
  });
});
