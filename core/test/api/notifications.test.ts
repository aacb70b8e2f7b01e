/**
 * Notifications: stored per user (or for every admin), listed newest first with an unread count,
 * marked read, pushed live over the WebSocket, optionally POSTed to a webhook.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type WebSocket from 'ws';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeDb } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness, type TestUser } from './harness.js';

/** Collects a socket's frames; `until` waits for one that matches. */
function frames(ws: WebSocket) {
  const got: Record<string, unknown>[] = [];
  ws.on('message', (data) => got.push(JSON.parse(String(data)) as Record<string, unknown>));
  return {
    got,
    async until(pred: (f: Record<string, unknown>) => boolean) {
      for (let i = 0; i < 500; i++) {
        const f = got.find(pred);
        if (f) return f;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no such frame; got ${JSON.stringify(got)}`);
    },
  };
}

describeDb('API notifications', (target) => {
  let h: ApiHarness;
  let alice: TestUser;
  let bob: TestUser;
  const sockets: WebSocket[] = [];
  beforeEach(async () => {
    h = await startApi(target.url, { now: '2026-06-01T08:00:00Z' });
    alice = await h.createUser({ email: 'alice@test' });
    bob = await h.createUser({ email: 'bob@test' });
  });
  afterEach(async () => {
    for (const s of sockets) s.terminate();
    sockets.length = 0;
    await h?.close();
  });

  it("lists the caller's own notifications newest first with the unread count; marks one read; others get 404", async () => {
    await h.hub.notifications.notify({ owner: alice.id, level: 'warning', title: 'Heater', message: 'first', deviceId: 'heater', ruleId: 'budget' });
    await h.clock.advance(60_000);
    await h.hub.notifications.notify({ users: [alice.id], level: 'info', title: 'Washer', message: 'second' });
    await h.hub.notifications.notify({ owner: null, level: 'critical', title: 'System', message: 'for admins' });

    const list = await h.app.inject({ url: '/api/v1/notifications', headers: alice.headers });
    expect(list.statusCode, list.body).toBe(200);
    const body = list.json() as { data: { id: string; message: string; read_at: string | null; user_id: string }[]; unread: number };
    expect(body.data.map((n) => n.message)).toEqual(['second', 'first']);
    expect(body.unread).toBe(2);
    expect(body.data[1]).toMatchObject({ user_id: alice.id, device_id: 'heater', rule_id: 'budget', level: 'warning', title: 'Heater', created_at: '2026-06-01T08:00:00.000Z', read_at: null });

    expect((await h.app.inject({ url: '/api/v1/notifications', headers: bob.headers })).json()).toEqual({ data: [], unread: 0 });
    // The admin sees the admins' notification, not alice's.
    expect((await h.app.inject({ url: '/api/v1/notifications' })).json().data.map((n: { message: string }) => n.message)).toEqual(['for admins']);

    const first = body.data[1]!.id;
    expectProblem(await h.app.inject({ method: 'POST', url: `/api/v1/notifications/${first}/read`, headers: bob.headers }), 404, 'NOTIFICATION_NOT_FOUND');
    const read = await h.app.inject({ method: 'POST', url: `/api/v1/notifications/${first}/read`, headers: alice.headers });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().read_at).toBe('2026-06-01T08:01:00.000Z');
    const after = (await h.app.inject({ url: '/api/v1/notifications?unread=true', headers: alice.headers })).json();
    expect(after).toMatchObject({ unread: 1, data: [{ message: 'second' }] });
  });

  it("pushes a notification to the user's WebSocket connections only, and admins' ones to admins", async () => {
    const aliceWs = await h.app.injectWS('/api/v1/ws', { headers: alice.headers });
    const bobWs = await h.app.injectWS('/api/v1/ws', { headers: bob.headers });
    const adminWs = await h.app.injectWS('/api/v1/ws');
    sockets.push(aliceWs, bobWs, adminWs);
    const [a, b, admin] = [frames(aliceWs), frames(bobWs), frames(adminWs)];
    await h.hub.notifications.notify({ owner: alice.id, level: 'warning', title: 'Heater', message: 'over its limit' });
    await h.hub.notifications.notify({ owner: null, level: 'critical', title: 'Rule paused', message: 'chatty paused' });
    const frame = await a.until((f) => f.type === 'notification');
    expect(frame.notification).toMatchObject({ user_id: alice.id, title: 'Heater', message: 'over its limit', level: 'warning', read_at: null });
    expect(((await admin.until((f) => f.type === 'notification')).notification as { message: string }).message).toBe('chatty paused');
    await new Promise((r) => setTimeout(r, 50));
    expect(b.got.filter((f) => f.type === 'notification')).toEqual([]);
    expect(a.got.filter((f) => f.type === 'notification')).toHaveLength(1);
  });

  it('POSTs to a webhook and reports its outcome', async () => {
    const received: { body: unknown; type: string | undefined }[] = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c) => { text += String(c); });
      req.on('end', () => {
        received.push({ body: JSON.parse(text), type: req.headers['content-type'] });
        res.statusCode = received.length === 1 ? 204 : 500;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const ok = await h.hub.notifications.notify({ owner: alice.id, level: 'info', title: 'Hi', message: 'hello', webhook: url });
      expect(ok.webhook).toEqual({ ok: true, status: 204 });
      expect(received[0]).toEqual({ type: 'application/json', body: { type: 'notification', recipients: [alice.id], notification: expect.objectContaining({ message: 'hello', user_id: alice.id }) } });
      const bad = await h.hub.notifications.notify({ owner: alice.id, level: 'info', title: 'Hi', message: 'again', webhook: url });
      expect(bad.webhook).toEqual({ ok: false, status: 500 });
      const down = await h.hub.notifications.notify({ owner: alice.id, level: 'info', title: 'Hi', message: 'down', webhook: 'http://127.0.0.1:9/none' });
      expect(down.webhook!.ok).toBe(false);
      expect(down.notifications).toHaveLength(1); // stored and pushed even when the webhook fails
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
