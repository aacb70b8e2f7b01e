/**
 * Counters of what the instance received and could not use, per device, and logs about it at a
 * rate-limited level: the first problem of a kind for a device is logged at warn, then at most once
 * a minute with the number suppressed since.
 */
import type { IntegrationContext } from '@joulehub/core/sdk';
import type { Problem, ProblemKind } from './model.js';

export interface DeviceCounters {
  messages: number;
  readings: number;
  malformed: number;
  wrong_type: number;
  unknown_topic: number;
  oversized: number;
  unsupported: number;
  last_problem?: { kind: ProblemKind; detail: string; at: string; topic: string };
}

const LOG_EVERY_MS = 60_000;
const MAX_DEVICES = 10_000;
const OTHERS = '(other devices)';

export class Diagnostics {
  readonly devices = new Map<string, DeviceCounters>();
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly log: IntegrationContext['log'], private readonly now: () => number) {}

  device(id: string): DeviceCounters {
    let c = this.devices.get(id);
    if (!c) {
      // Garbage topics must not grow this without bound: past the cap, strangers share one entry.
      if (id !== OTHERS && this.devices.size >= MAX_DEVICES) return this.device(OTHERS);
      c = { messages: 0, readings: 0, malformed: 0, wrong_type: 0, unknown_topic: 0, oversized: 0, unsupported: 0 };
      this.devices.set(id, c);
    }
    return c;
  }

  problem(deviceId: string, topic: string, p: Problem): void {
    const c = this.device(deviceId);
    c[p.kind]++;
    const t = this.now();
    c.last_problem = { kind: p.kind, detail: p.detail, at: new Date(t).toISOString(), topic };
    const key = `${this.devices.has(deviceId) ? deviceId : OTHERS}\u0000${p.kind}`;
    const seen = this.logged.get(key);
    if (seen && t - seen.at < LOG_EVERY_MS) {
      seen.suppressed++;
      return;
    }
    this.logged.set(key, { at: t, suppressed: 0 });
    this.log.warn({ deviceId, topic, problem: p.kind, detail: p.detail, ...(seen?.suppressed ? { suppressed: seen.suppressed } : {}) }, `MQTT ${p.kind.replace('_', ' ')} from ${deviceId}: ${p.detail}`);
  }

  snapshot(): Record<string, DeviceCounters> {
    return Object.fromEntries([...this.devices].map(([k, v]) => [k, { ...v }]));
  }
}
