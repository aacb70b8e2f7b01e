import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { describeDb } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness } from './harness.js';

type Frame = { type: string; [field: string]: unknown };
type Headers = Record<string, string>;
interface Message { id: number; conversation: string; author: string | null; from: 'user' | 'admins'; body: string; created_at: string; read_at: string | null }

/** Frames a real WebSocket client received, in order; `next()` waits for one not read yet. */
class Inbox {
  private readonly frames: Frame[] = [];
  private read = 0;
  private wake: (() => void) | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      this.wake?.();
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  async next(): Promise<Frame> {
    while (this.read >= this.frames.length) {
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
    return this.frames[this.read++];
  }

  /** Everything received before the answer to a ping sent now (the server answers in order). */
  async drain(): Promise<Frame[]> {
    const id = `drain-${this.read}-${this.frames.length}`;
    this.send({ type: 'ping', id });
    const before: Frame[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type === 'pong' && m.id === id) return before;
      before.push(m);
    }
  }
}

describeDb('messages between users and admins', (target) => {
  let h: ApiHarness;
  let admin: { id: string; headers: Headers };
  let alice: { id: string; headers: Headers };
  let bob: { id: string; headers: Headers };
  const sockets: WebSocket[] = [];

  beforeEach(async () => {
    h = await startApi(target.url);
    admin = await h.createUser({ email: 'admin@example.org', role: 'admin' });
    alice = await h.createUser({ email: 'alice@example.org' });
    bob = await h.createUser({ email: 'bob@example.org' });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await h?.close();
  });

  const get = (who: { headers: Headers }, url: string) => h.app.inject({ method: 'GET', url, headers: who.headers });
  const post = (who: { headers: Headers }, url: string, payload: unknown = {}) => h.app.inject({ method: 'POST', url, headers: who.headers, payload: payload as object });
  const send = async (who: { headers: Headers }, conversation: string, body: string): Promise<Message> => {
    const res = await post(who, `/api/v1/messages/conversations/${conversation}`, { body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Message;
  };
  const unread = async (who: { headers: Headers }) => {
    const res = await get(who, '/api/v1/messages/unread');
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { total: number; conversations: { conversation: string; unread: number }[] };
  };

  describe('over REST', () => {
    it('a user writes to the admins, an admin answers, both read: history, unread counts and receipts', async () => {
      const first = await send(alice, alice.id, '  The fridge shows 0 W since noon  ');
      expect(first).toMatchObject({ conversation: alice.id, author: alice.id, from: 'user', body: 'The fridge shows 0 W since noon', read_at: null });
      expect(await unread(admin)).toEqual({ total: 1, conversations: [{ conversation: alice.id, unread: 1 }] });
      expect(await unread(alice)).toEqual({ total: 0, conversations: [] });

      const inbox = await get(admin, '/api/v1/messages/conversations');
      expect(inbox.json()).toEqual({ data: [{ conversation: alice.id, last_message: first, unread: 1 }] });

      const reply = await send(admin, alice.id, 'Its plug was switched off; on again now');
      expect(reply).toMatchObject({ conversation: alice.id, author: admin.id, from: 'admins' });
      expect(await unread(alice)).toEqual({ total: 1, conversations: [{ conversation: alice.id, unread: 1 }] });

      // The admin reads Alice's message: it is marked read, Alice's own unread count is untouched.
      const read = await post(admin, `/api/v1/messages/conversations/${alice.id}/read`);
      expect(read.json()).toEqual({ read: [first.id], read_at: '2018-08-25T00:00:00.000Z' });
      expect(await unread(admin)).toEqual({ total: 0, conversations: [] });
      expect(await unread(alice)).toMatchObject({ total: 1 });
      // Reading again marks nothing.
      expect((await post(admin, `/api/v1/messages/conversations/${alice.id}/read`)).json()).toEqual({ read: [], read_at: null });

      await h.clock.advance(60_000);
      expect((await post(alice, `/api/v1/messages/conversations/${alice.id}/read`, { up_to: reply.id })).json())
        .toEqual({ read: [reply.id], read_at: '2018-08-25T00:01:00.000Z' });

      const history = await get(alice, `/api/v1/messages/conversations/${alice.id}`);
      expect(history.json()).toEqual({
        data: [
          { ...first, read_at: '2018-08-25T00:00:00.000Z' },
          { ...reply, read_at: '2018-08-25T00:01:00.000Z' },
        ],
        next_before: null,
      });
    });

    it('pages history backwards, oldest first within a page', async () => {
      const sent: Message[] = [];
      for (let i = 1; i <= 5; i++) sent.push(await send(i % 2 ? alice : admin, alice.id, `message ${i}`));
      const page1 = (await get(alice, `/api/v1/messages/conversations/${alice.id}?limit=2`)).json() as { data: Message[]; next_before: number };
      expect(page1.data.map((m) => m.body)).toEqual(['message 4', 'message 5']);
      const page2 = (await get(alice, `/api/v1/messages/conversations/${alice.id}?limit=2&before=${page1.next_before}`)).json() as { data: Message[]; next_before: number };
      expect(page2.data.map((m) => m.body)).toEqual(['message 2', 'message 3']);
      const page3 = (await get(alice, `/api/v1/messages/conversations/${alice.id}?limit=2&before=${page2.next_before}`)).json();
      expect(page3).toEqual({ data: [sent[0]], next_before: null });
    });

    it('a user reaches only their own conversation; admins any existing user; bad input is a problem', async () => {
      await send(alice, alice.id, 'private to the admins');
      expectProblem(await get(bob, `/api/v1/messages/conversations/${alice.id}`), 403, 'FORBIDDEN');
      expectProblem(await post(bob, `/api/v1/messages/conversations/${alice.id}`, { body: 'hi' }), 403, 'FORBIDDEN');
      expectProblem(await post(bob, `/api/v1/messages/conversations/${alice.id}/read`), 403, 'FORBIDDEN');
      // Bob's own view shows none of Alice's conversation.
      expect((await get(bob, '/api/v1/messages/conversations')).json()).toEqual({ data: [{ conversation: bob.id, last_message: null, unread: 0 }] });
      expect(await unread(bob)).toEqual({ total: 0, conversations: [] });

      expectProblem(await post(admin, '/api/v1/messages/conversations/no-such-user', { body: 'hello?' }), 404, 'CONVERSATION_NOT_FOUND');
      expectProblem(await get(admin, '/api/v1/messages/conversations/no-such-user'), 404, 'CONVERSATION_NOT_FOUND');
      expectProblem(await post(alice, `/api/v1/messages/conversations/${alice.id}`, { body: '' }), 400);
      expectProblem(await post(alice, `/api/v1/messages/conversations/${alice.id}`, { body: '   ' }), 400, 'MESSAGE_INVALID');
      expectProblem(await post(alice, `/api/v1/messages/conversations/${alice.id}`, { body: 'x'.repeat(4001) }), 400);
      expectProblem(await get(alice, `/api/v1/messages/conversations/${alice.id}?limit=0`), 400);

      const anonymous = await h.app.inject({ method: 'GET', url: '/api/v1/messages/unread', headers: { authorization: '' } });
      expectProblem(anonymous, 401);
    });

    it("deleting a user deletes their conversation; a deleted admin's messages stay without author", async () => {
      const other = await h.createUser({ email: 'other-admin@example.org', role: 'admin' });
      await send(other, alice.id, 'from an admin who leaves');
      expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${other.id}`, headers: admin.headers })).statusCode).toBeLessThan(300);
      const history = (await get(alice, `/api/v1/messages/conversations/${alice.id}`)).json() as { data: Message[] };
      expect(history.data).toEqual([expect.objectContaining({ body: 'from an admin who leaves', author: null, from: 'admins' })]);

      await send(bob, bob.id, 'bye');
      expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${bob.id}`, headers: admin.headers })).statusCode).toBeLessThan(300);
      expect(await unread(admin)).toEqual({ total: 0, conversations: [] });
    });
  });

  describe('over two real WebSocket clients', () => {
    let base: string;
    beforeEach(async () => {
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      base = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/api/v1/ws`;
    });

    const connect = async (who: { headers: Headers }) => {
      const socket = new WebSocket(base, { headers: who.headers });
      sockets.push(socket);
      const inbox = new Inbox(socket);
      await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
      return inbox;
    };

    it('delivers typing, the message and the read receipt to the other side, and nothing to a bystander', async () => {
      const user = await connect(alice);
      const staff = await connect(admin);
      const bystander = await connect(bob);

      // Alice starts typing: the admin sees it once however often her client repeats it; Alice's own
      // connection and Bob see nothing.
      user.send({ type: 'typing', conversation: alice.id, state: 'start' });
      user.send({ type: 'typing', conversation: alice.id, state: 'start' });
      expect(await staff.next()).toEqual({ type: 'typing', conversation: alice.id, user: alice.id, state: 'start' });
      expect(await user.drain()).toEqual([]);
      expect(await staff.drain()).toEqual([]);

      const sent = await send(alice, alice.id, 'Is the heat pump on a schedule?');
      // Both sides get the message live (Alice's other tabs stay in step).
      expect(await staff.next()).toEqual({ type: 'message', message: sent });
      expect(await user.next()).toEqual({ type: 'message', message: sent });
      user.send({ type: 'typing', conversation: alice.id, state: 'stop' });
      expect(await staff.next()).toEqual({ type: 'typing', conversation: alice.id, user: alice.id, state: 'stop' });

      // The admin answers; Alice sees them typing, then the answer.
      staff.send({ type: 'typing', conversation: alice.id, state: 'start' });
      expect(await user.next()).toEqual({ type: 'typing', conversation: alice.id, user: admin.id, state: 'start' });

      // The admin reads: the read receipt goes to Alice, the author.
      await h.clock.advance(5_000);
      await post(admin, `/api/v1/messages/conversations/${alice.id}/read`);
      expect(await user.next()).toEqual({
        type: 'message_read', conversation: alice.id, messages: [sent.id], read_at: '2018-08-25T00:00:05.000Z', reader: admin.id,
      });

      const answer = await send(admin, alice.id, 'Yes: 22:00 to 06:00');
      expect(await user.next()).toEqual({ type: 'message', message: answer });
      expect(await staff.next()).toEqual({ type: 'message', message: answer });
      expect(await unread(alice)).toMatchObject({ total: 1 });

      // Alice reads: the receipt goes to the admin who wrote it.
      await post(alice, `/api/v1/messages/conversations/${alice.id}/read`);
      expect(await staff.next()).toMatchObject({ type: 'message_read', conversation: alice.id, messages: [answer.id], reader: alice.id });
      expect(await unread(alice)).toMatchObject({ total: 0 });

      expect(await user.drain()).toEqual([]);
      expect(await staff.drain()).toEqual([]);
      expect(await bystander.drain()).toEqual([]);
    });

    it("refuses typing in someone else's conversation and stops a closed connection's typing", async () => {
      const user = await connect(alice);
      const staff = await connect(admin);
      const bystander = await connect(bob);

      bystander.send({ type: 'typing', id: 7, conversation: alice.id, state: 'start' });
      expect(await bystander.next()).toMatchObject({ type: 'error', id: 7, code: 'forbidden' });
      bystander.send({ type: 'typing', id: 8, conversation: alice.id, state: 'maybe' });
      expect(await bystander.next()).toMatchObject({ type: 'error', id: 8, code: 'invalid_message' });
      expect(await staff.drain()).toEqual([]);
      expect(await user.drain()).toEqual([]);

      user.send({ type: 'typing', conversation: alice.id, state: 'start' });
      expect(await staff.next()).toMatchObject({ type: 'typing', state: 'start' });
      user.ws.close();
      expect(await staff.next()).toEqual({ type: 'typing', conversation: alice.id, user: alice.id, state: 'stop' });
    });
  });
});
