/**
 * Plays a loaded table along a Timeline on the hub clock: the backfill at once, then each row when
 * the clock reaches its due time (several at once after a jump), until the file ends or the
 * signal fires. Waits only through `clock.sleep`, so a ManualClock drives it in tests.
 */
import type { Clock, EntityKind, ReportValue } from '@joulehub/core/sdk';
import type { Table } from './table.js';
import type { Timeline } from './timeline.js';

export interface ReplayColumnTarget {
  deviceId: string;
  key: string;
  kind: EntityKind;
}

export interface ReplayDeps {
  clock: Clock;
  signal: AbortSignal;
  report(deviceId: string, key: string, value: ReportValue, at: number): void;
}

export interface ReplayStats {
  rowsReplayed: number;
  loops: number;
  /** Timestamp of the latest reported row, epoch ms. */
  lastTimestamp: number | null;
  finished: boolean;
}

/** Rows reported between yields to the event loop during a backfill or a catch-up. */
const ROWS_PER_SLICE = 2_000;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * How much a counter column rises per pass: its rise over the file, extrapolated at the same
 * average rate to the full period, so the step from the last row to the next pass's first row is
 * an ordinary one (no fall that the ledger would read as a meter reset).
 */
function risePerPass(times: Float64Array, values: Float64Array, period: number): number {
  let first = -1;
  let last = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0 || last <= first || period <= 0) return 0;
  const rise = values[last]! - values[first]!;
  return rise > 0 ? (rise * period) / (times[last]! - times[first]!) : 0;
}

export class Replay {
  readonly stats: ReplayStats = { rowsReplayed: 0, loops: 0, lastTimestamp: null, finished: false };
  private next: number;
  private readonly rise: number[];

  constructor(
    private readonly table: Table,
    private readonly columns: readonly ReplayColumnTarget[],
    private readonly timeline: Timeline,
    private readonly deps: ReplayDeps,
  ) {
    this.next = timeline.startIndex;
    this.rise = columns.map((c, k) => (c.kind === 'energy_total' ? risePerPass(table.times, table.values[k]!, timeline.period) : 0));
  }

  private emit(j: number): void {
    const tl = this.timeline;
    const i = tl.row(j);
    const at = tl.timestamp(j);
    const cycle = tl.cycle(j);
    for (let k = 0; k < this.columns.length; k++) {
      let v = this.table.values[k]![i]!;
      if (Number.isNaN(v)) continue;
      const c = this.columns[k]!;
      if (c.kind === 'switch') {
        this.deps.report(c.deviceId, c.key, v ? 'on' : 'off', at);
        continue;
      }
      // Rounded to 1 mWh: the extrapolated rise would otherwise show float noise on every reading.
      if (cycle !== 0 && this.rise[k] !== 0) v = Math.round((v + cycle * this.rise[k]!) * 1e6) / 1e6;
      this.deps.report(c.deviceId, c.key, v, at);
    }
    this.stats.rowsReplayed += 1;
    this.stats.lastTimestamp = at;
    this.stats.loops = tl.loopsAt(j);
  }

  /** Reports rows while `due(j)` holds, yielding to the event loop every slice. */
  private async emitWhile(due: (j: number) => boolean): Promise<void> {
    let slice = 0;
    while (this.next < this.timeline.endIndex && due(this.next) && !this.deps.signal.aborted) {
      this.emit(this.next++);
      if (++slice === ROWS_PER_SLICE) {
        slice = 0;
        await yieldToEventLoop();
      }
    }
  }

  /** Reports the rows due at start (the backfill; everything at speed 0). */
  async backfill(): Promise<void> {
    const live = this.timeline.liveIndex;
    await this.emitWhile((j) => j < live);
    if (this.next >= this.timeline.endIndex) this.stats.finished = true;
  }

  /** Reports rows as the hub clock reaches them; resolves at the end of the file or when the signal fires. */
  async live(): Promise<void> {
    const { clock, signal } = this.deps;
    const tl = this.timeline;
    try {
      while (this.next < tl.endIndex && !signal.aborted) {
        const wait = tl.dueAt(this.next) - clock.now();
        if (wait > 0) await clock.sleep(Math.ceil(wait), signal);
        const now = clock.now();
        await this.emitWhile((j) => tl.dueAt(j) <= now);
      }
    } catch (err) {
      if (signal.aborted) return; // stopped while sleeping
      throw err;
    }
    if (this.next >= tl.endIndex) this.stats.finished = true;
  }
}
