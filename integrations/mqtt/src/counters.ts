/**
 * Tasmota's reset signal (device-formats §6.1): when `TotalStartTime` changes, the device restarted
 * its counter — even if the new Total happens to be above the old one, which the ledger alone would
 * read as ordinary growth. The hub's ledger only sees readings, so the counter is reported as a
 * continuation: after an epoch change the old counter's last value is carried as an offset, and
 * reported = device Total + offset. The ledger then sees exactly the energy counted since the reset.
 * A drop without an epoch change (a reboot that lost the last save) clears the offset, so the ledger
 * sees the drop and treats it as its own reset. State is kept in the instance's kv store.
 */
export interface CounterState { epoch: string | null; offset: number; last: number }

/** Pure step: the value to report and the next state. */
export function continueCounter(prev: CounterState | undefined, raw: number, epoch: string | undefined): { value: number; next: CounterState } {
  if (!prev) return { value: raw, next: { epoch: epoch ?? null, offset: 0, last: raw } };
  let offset = prev.offset;
  let ep = prev.epoch;
  if (epoch !== undefined && prev.epoch !== null && epoch !== prev.epoch) {
    offset += prev.last; // new counter period: continue from where the old one ended
    ep = epoch;
  } else if (epoch !== undefined && prev.epoch === null) {
    ep = epoch;
  } else if (raw < prev.last) {
    offset = 0; // an unexplained drop: let the ledger see it
  }
  return { value: raw + offset, next: { epoch: ep, offset, last: raw } };
}

export interface Kv {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

const KV_KEY = 'counters';

export class CounterContinuity {
  private dirty = false;
  private constructor(private readonly kv: Kv, private readonly states: Map<string, CounterState>) {}

  static async load(kv: Kv): Promise<CounterContinuity> {
    const saved = (await kv.get<Record<string, CounterState>>(KV_KEY)) ?? {};
    return new CounterContinuity(kv, new Map(Object.entries(saved)));
  }

  /** The value to report for a counter reading of `entityId`; saves at once when the epoch changed. */
  adjust(entityId: string, raw: number, epoch: string | undefined): number {
    const prev = this.states.get(entityId);
    const { value, next } = continueCounter(prev, raw, epoch);
    this.states.set(entityId, next);
    this.dirty = true;
    if (!prev || prev.epoch !== next.epoch || prev.offset !== next.offset) void this.save();
    return value;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.kv.set(KV_KEY, Object.fromEntries(this.states)).catch(() => {
      this.dirty = true;
    });
  }
}
