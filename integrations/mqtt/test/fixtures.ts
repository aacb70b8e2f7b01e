/** Captured payloads under fixtures/<vendor>/<model>/: `{ source, topic, payload }` or `{ source, messages: [...] }`. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeviceMessage, ParseResult } from '../src/model.js';

export interface FixtureMessage { topic: string; payload: string }

const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));

const text = (p: unknown): string => (typeof p === 'string' ? p : JSON.stringify(p));

export function fixture(path: string): FixtureMessage[] {
  const json = JSON.parse(readFileSync(`${dir}${path}`, 'utf8')) as { topic?: string; payload?: unknown; messages?: { topic: string; payload: unknown }[] };
  if (json.messages) return json.messages.map((m) => ({ topic: m.topic, payload: text(m.payload) }));
  return [{ topic: json.topic!, payload: text(json.payload) }];
}

/** The device messages of a parse result (fails the test otherwise). */
export function devices(res: ParseResult | null): DeviceMessage[] {
  if (!res || res.kind !== 'devices') throw new Error(`expected device messages, got ${JSON.stringify(res)}`);
  return res.messages;
}

/** key → value of a device message's readings. */
export function values(msg: DeviceMessage): Record<string, unknown> {
  return Object.fromEntries(msg.readings.map((r) => [r.key, r.value]));
}

/** key → "kind unit" of a device message's entities. */
export function kinds(msg: DeviceMessage): Record<string, string> {
  return Object.fromEntries(msg.entities.map((e) => [e.key, `${e.kind}${e.unit ? ` ${e.unit}` : ''}${e.flow === 'out' ? ' out' : ''}`]));
}
