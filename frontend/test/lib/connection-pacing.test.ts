/**
 * How the live connection hands state changes to the cards: paced for reading (at most one
 * delivery per display interval, all listeners together, the latest state per entity), while
 * answers to a subscription arrive at once. A scripted socket stands in for the hub.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { LiveConnection, type SocketLike } from '../../src/lib/connection.js';
import type { EntityState } from '../../src/cards/types.js';

class ScriptedSocket implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  onopen: ((ev: any) => void) | null = null;
  onclose: ((ev: any) => void) | null = null;
  onerror: ((ev: any) => void) | null = null;
  onmessage: ((ev: { data: any }) => void) | null = null;
  send(data: string): void { this.sent.push(JSON.parse(data)); }
  close(): void { this.readyState = 3; }
  open(): void { this.readyState = 1; this.onopen?.({}); }
  receive(frame: unknown): void { this.onmessage?.({ data: JSON.stringify(frame) }); }
}

const state = (entity_id: string, value: number): EntityState => ({
  entity_id, device_id: entity_id.split('.')[0]!, kind: 'power', value, text: null, available: true,
  last_changed: '2026-01-01T00:00:00Z', last_reported: '2026-01-01T00:00:00Z',
});

/** Timers and the clock the pacing reads (performance.now) move only when the test says so. */
const fakeTime = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] });

let conn: LiveConnection | undefined;
afterEach(() => {
  conn?.stop();
  conn = undefined;
  vi.useRealTimers();
});

function connect(displayIntervalMs?: number) {
  const socket = new ScriptedSocket();
  conn = new LiveConnection(null, { url: 'ws://test', socket: () => socket, ...(displayIntervalMs !== undefined ? { displayIntervalMs } : {}) });
  conn.start();
  socket.open();
  return { conn, socket };
}

it('merges changes that come faster than the display interval into one delivery of the latest states', async () => {
  fakeTime();
  const { conn, socket } = connect(250);
  const a: number[][] = [];
  const b: number[][] = [];
  conn.subscribe(['a.power'], (s) => a.push(s.map((x) => x.value!)));
  conn.subscribe(['b.power'], (s) => b.push(s.map((x) => x.value!)));
  await vi.advanceTimersByTimeAsync(0);
  const sub = socket.sent.find((m) => m.type === 'subscribe');
  // The answer to a subscription is handed over at once.
  socket.receive({ type: 'states', id: sub.id, states: [state('a.power', 1), state('b.power', 1)] });
  expect(a).toEqual([[1]]);
  expect(b).toEqual([[1]]);

  // After a quiet spell a change is shown at once…
  socket.receive({ type: 'state_changed', states: [state('a.power', 2)] });
  await vi.advanceTimersByTimeAsync(0);
  expect(a).toEqual([[1], [2]]);
  // …then ten changes within 100 ms make one delivery, 250 ms after the last one, with each entity's
  // latest value, for both cards together.
  for (let i = 3; i <= 12; i++) {
    socket.receive({ type: 'state_changed', states: [state('a.power', i)] });
    if (i % 2 === 0) socket.receive({ type: 'state_changed', states: [state('b.power', i)] });
    await vi.advanceTimersByTimeAsync(10);
  }
  expect(conn.state('a.power')?.value).toBe(12); // state() is never behind
  expect(a).toEqual([[1], [2]]);
  await vi.advanceTimersByTimeAsync(150);
  expect(a).toEqual([[1], [2], [12]]);
  expect(b).toEqual([[1], [12]]);

  // The next change waits for the rest of the interval, and is shown within it.
  socket.receive({ type: 'state_changed', states: [state('a.power', 13)] });
  await vi.advanceTimersByTimeAsync(200);
  expect(a).toEqual([[1], [2], [12]]);
  await vi.advanceTimersByTimeAsync(60);
  expect(a).toEqual([[1], [2], [12], [13]]);
  expect(b).toEqual([[1], [12]]); // b did not change: its listener is not called
});

it('a subscription answer newer than a pending change wins; 0 delivers every frame as it comes', async () => {
  fakeTime();
  const paced = connect(250);
  const seen: number[] = [];
  paced.conn.subscribe(['a.power'], (s) => seen.push(s[0]!.value!));
  await vi.advanceTimersByTimeAsync(0);
  paced.socket.receive({ type: 'state_changed', states: [state('a.power', 1)] });
  paced.socket.receive({ type: 'state_changed', states: [state('a.power', 2)] });
  paced.socket.receive({ type: 'states', id: 99, states: [state('a.power', 3)] });
  await vi.advanceTimersByTimeAsync(1000);
  expect(seen).toEqual([3]); // the older pending 2 is never shown over it
  paced.conn.stop();

  const direct = connect(0);
  const all: number[] = [];
  direct.conn.subscribe(['a.power'], (s) => all.push(s[0]!.value!));
  await vi.advanceTimersByTimeAsync(0);
  for (const v of [1, 2, 3]) direct.socket.receive({ type: 'state_changed', states: [state('a.power', v)] });
  expect(all).toEqual([1, 2, 3]);
});
