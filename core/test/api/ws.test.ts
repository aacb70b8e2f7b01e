import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { HubEventBus } from '../../src/hub/bus.js';
import type { ServerMessage } from '../../src/api/ws/messages.js';
import type { StateWire } from '../../src/api/wire.js';
import { describeDb } from '../support/db.js';
import { createDevice, startApi, type ApiHarness } from './harness.js';

/** Messages a client received, read in order; `next()` waits for one that has not arrived yet. */
class Inbox {
  private readonly messages: ServerMessage[] = [];
  private read = 0;
  private wake: (() => void) | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      this.wake?.();
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async next(): Promise<ServerMessage> {
    while (this.read >= this.messages.length) {
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
    return this.messages[this.read++];
  }

  /** Sends a ping and returns everything received before its pong. */
  async drain(): Promise<ServerMessage[]> {
    const id = `drain-${this.read}-${this.messages.length}`;
    this.send({ type: 'ping', id });
    const before: ServerMessage[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type === 'pong' && m.id === id) return before;
      before.push(m);
    }
  }
}

type Frame = Extract<ServerMessage, { type: 'state_changed' }>;

const valueOf = (states: StateWire[], id: string) => states.find((s) => s.entity_id === id)?.value;

describeDb('API WebSocket gateway', (target) => {
  let h: ApiHarness;
  let clients: Inbox[];
  beforeEach(async () => {
    h = await startApi(target.url);
    clients = [];
    for (const id of ['a', 'b', 'c']) {
      await createDevice(h.app, id);
      await h.hub.entities.register(id, { key: 'power', kind: 'power' });
    }
  });
  afterEach(async () => {
    for (const c of clients) c.ws.terminate();
    await h?.close();
  });

  const connect = async () => {
    const inbox = new Inbox(await h.app.injectWS('/api/v1/ws'));
    clients.push(inbox);
    return inbox;
  };
  const report = (entity: string, value: number) => h.hub.report(entity, value, h.clock.now());

  it('answers subscribe with the current states, correlated by id', async () => {
    report('a.power', 120);
    report('b.power', 7);
    const ws = await connect();
    ws.send({ type: 'subscribe', id: 1, entities: ['a.power', 'c.power'] });
    const answer = await ws.next();
    // c.power has never reported: it is subscribed but has no state to show yet.
    expect(answer).toEqual({
      type: 'states', id: 1,
      states: [{
        entity_id: 'a.power', device_id: 'a', kind: 'power', value: 120, text: null, available: true,
        last_changed: '2018-08-25T00:00:00Z', last_reported: '2018-08-25T00:00:00Z',
      }],
    });
  });

  it('coalesces a burst of changes into one frame per 50 ms, latest state per entity', async () => {
    const ws = await connect();
    ws.send({ type: 'subscribe', entities: ['a.power', 'b.power'] });
    expect((await ws.next()).type).toBe('states');

    // A lone change goes out at once.
    report('a.power', 1);
    const first = (await ws.next()) as Frame;
    expect(first).toEqual({ type: 'state_changed', states: [expect.objectContaining({ entity_id: 'a.power', value: 1 })] });

    // A burst within the window waits for it, and only the latest value per entity is sent.
    for (let v = 2; v <= 100; v++) report('a.power', v);
    report('b.power', 7);
    expect(h.app.wsGateway.stats().stateFrames).toBe(1);
    await h.clock.advance(50);
    const second = (await ws.next()) as Frame;
    expect(second.type).toBe('state_changed');
    expect(second.states.map((s) => [s.entity_id, s.value])).toEqual([['a.power', 100], ['b.power', 7]]);
    expect(h.app.wsGateway.stats().stateFrames).toBe(2);

    // A quiet connection sends nothing, however long it stays quiet.
    await h.clock.advance(5_000);
    expect(await ws.drain()).toEqual([]);
  });

  it('never sends more than one frame per 50 ms while reports stream in', async () => {
    const ws = await connect();
    ws.send({ type: 'subscribe', entities: '*' });
    await ws.next();
    const start = h.clock.now();
    let last = 0;
    // 400 reports, one every 5 ms of hub time, over 2 seconds.
    for (let i = 1; i <= 400; i++) {
      report(i % 2 ? 'a.power' : 'b.power', i);
      last = i;
      await h.clock.advance(5);
    }
    await h.clock.advance(50);
    const elapsed = h.clock.now() - start;
    const frames = (await ws.drain()) as Frame[];
    expect(frames.every((f) => f.type === 'state_changed')).toBe(true);
    expect(frames.length).toBe(h.app.wsGateway.stats().stateFrames);
    expect(frames.length).toBeLessThanOrEqual(Math.floor(elapsed / 50) + 1);
    // Coalescing does not starve the client: the stream keeps flowing at the frame rate.
    expect(frames.length).toBeGreaterThanOrEqual(Math.floor(2000 / 50) - 1);
    for (const f of frames) expect(new Set(f.states.map((s) => s.entity_id)).size).toBe(f.states.length);
    // Every change is represented by its latest value: the last frame carries the final ones.
    const final = frames[frames.length - 1].states;
    expect(valueOf(final, last % 2 ? 'a.power' : 'b.power')).toBe(last);
  });

  it('delivers only subscribed entities, per connection, and stops after unsubscribe', async () => {
    const one = await connect();
    const two = await connect();
    one.send({ type: 'subscribe', entities: ['a.power'] });
    two.send({ type: 'subscribe', entities: ['c.power'] });
    await one.next();
    await two.next();

    report('c.power', 3);
    report('b.power', 2);
    report('a.power', 1);
    await h.clock.advance(50);
    const oneFrames = (await one.drain()) as Frame[];
    const twoFrames = (await two.drain()) as Frame[];
    expect(oneFrames.flatMap((f) => f.states.map((s) => s.entity_id))).toEqual(['a.power']);
    expect(twoFrames.flatMap((f) => f.states.map((s) => s.entity_id))).toEqual(['c.power']);

    one.send({ type: 'unsubscribe', id: 'u', entities: ['a.power'] });
    expect(await one.next()).toEqual({ type: 'unsubscribed', id: 'u', entities: ['a.power'] });
    report('a.power', 10);
    await h.clock.advance(100);
    expect(await one.drain()).toEqual([]);
  });

  it("follows entities registered after a '*' subscription", async () => {
    const ws = await connect();
    ws.send({ type: 'subscribe', entities: '*' });
    await ws.next();
    await h.hub.entities.register('a', { key: 'voltage', kind: 'voltage' });
    h.hub.report('a.voltage', 231, h.clock.now());
    await h.clock.advance(50);
    const frames = (await ws.drain()) as Frame[];
    expect(frames.flatMap((f) => f.states.map((s) => [s.entity_id, s.value]))).toEqual([['a.voltage', 231]]);
  });

  it('answers bad messages with typed errors and keeps the connection usable', async () => {
    const ws = await connect();
    ws.send('this is not json');
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'invalid_json' });
    ws.send({ type: 'dance', id: 'x' });
    expect(await ws.next()).toMatchObject({ type: 'error', id: 'x', code: 'unknown_type' });
    ws.send({ type: 'subscribe', id: 2, entities: 'a.power' });
    expect(await ws.next()).toMatchObject({ type: 'error', id: 2, code: 'invalid_message' });
    ws.send([1, 2]);
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'invalid_message' });

    // Unknown entities: an error naming them, and nothing of that message is subscribed.
    ws.send({ type: 'subscribe', id: 3, entities: ['a.power', 'ghost.power'] });
    const unknown = await ws.next();
    expect(unknown).toMatchObject({ type: 'error', id: 3, code: 'unknown_entity', entities: ['ghost.power'] });
    report('a.power', 5);
    await h.clock.advance(50);
    expect(await ws.drain()).toEqual([]);

    ws.send({ type: 'ping', id: 9 });
    expect(await ws.next()).toEqual({ type: 'pong', id: 9 });
  });

  it('removes the bus listeners of a connection when it closes (over a real socket)', async () => {
    const bus = h.hub.bus as HubEventBus;
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`, { headers: h.admin!.headers });
    const ws = new Inbox(socket);
    clients.push(ws);
    await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
    ws.send({ type: 'subscribe', entities: ['a.power'] });
    expect((await ws.next()).type).toBe('states');
    const [client] = h.app.wsGateway.clients();
    expect(client.subscriptions).toEqual(['a.power']);
    expect(bus.listenerCount(client.owner)).toBeGreaterThan(0);

    socket.close();
    await vi.waitFor(() => expect(h.app.wsGateway.stats().connections).toBe(0));
    expect(bus.listenerCount(client.owner)).toBe(0);
    // Reports after the close reach nobody and break nothing.
    report('a.power', 1);
    await h.clock.advance(50);
    expect(h.app.wsGateway.stats().stateFrames).toBe(0);
  });
});

describeDb('API WebSocket gateway: frames for users', (target) => {
  let h: ApiHarness;
  const sockets: WebSocket[] = [];
  beforeEach(async () => {
    // A stand-in policy: the caller is whoever the x-test-user header names (issue 4 replaces it).
    h = await startApi(target.url, {
      server: {
        access: {
          authorize(request) {
            const user = request.headers['x-test-user'];
            request.caller = typeof user === 'string'
              ? { kind: 'session', userId: user, role: user.startsWith('admin') ? 'admin' : 'user', scopes: ['read'] }
              : { kind: 'anonymous', userId: null, role: null, scopes: [] };
          },
          canSeeDevice: () => true,
        },
      },
    });
  });
  afterEach(async () => {
    for (const s of sockets) s.terminate();
    await h?.close();
  });

  const connect = async (user?: string) => {
    const ws = await h.app.injectWS('/api/v1/ws', user ? { headers: { 'x-test-user': user } } : {});
    sockets.push(ws);
    return new Inbox(ws);
  };

  it('delivers a user frame only to that user\'s connections, and "admins" frames to admins', async () => {
    const alice1 = await connect('alice');
    const alice2 = await connect('alice');
    const bob = await connect('bob');
    const admin = await connect('admin-1');
    const anonymous = await connect();
    h.hub.bus.emit('user_frame', { users: ['alice'], frame: { type: 'message', text: 'hi alice' } });
    h.hub.bus.emit('user_frame', { users: 'admins', frame: { type: 'message', text: 'hi admins' } });
    const texts = async (c: Inbox) => (await c.drain()).map((m) => (m as unknown as { text: string }).text);
    expect(await texts(alice1)).toEqual(['hi alice']);
    expect(await texts(alice2)).toEqual(['hi alice']);
    expect(await texts(bob)).toEqual([]);
    expect(await texts(admin)).toEqual(['hi admins']);
    expect(await texts(anonymous)).toEqual([]);
  });
});
