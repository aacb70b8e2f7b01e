/**
 * The hub clock. Everything that waits (scheduler, retries with backoff, integrations through
 * ctx.clock) waits on it, so tests swap in a ManualClock and drive time instead of sleeping.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../sdk/types.js';

/** The SDK Clock plus one-shot timers at an absolute hub-clock time; what the scheduler builds on. */
export interface HubClock extends Clock {
  /** Calls `fn` once when the clock reaches `at` (epoch ms). Returns a cancel function. */
  setTimer(at: number, fn: () => void | Promise<void>): () => void;
}

// setTimeout stores its delay in a signed 32-bit int; longer delays fire at once.
const MAX_TIMEOUT = 2 ** 31 - 1;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export function systemClock(): HubClock {
  return {
    now: () => Date.now(),
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(abortReason(signal));
        const onAbort = () => {
          cancel();
          reject(abortReason(signal!));
        };
        const cancel = this.setTimer(Date.now() + Math.max(0, ms), () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    setTimer(at, fn) {
      let handle: NodeJS.Timeout | undefined;
      let cancelled = false;
      const arm = () => {
        const delay = at - Date.now();
        if (delay > MAX_TIMEOUT) {
          handle = setTimeout(arm, MAX_TIMEOUT);
          return;
        }
        handle = setTimeout(() => {
          if (!cancelled) void fn();
        }, Math.max(0, delay));
      };
      arm();
      return () => {
        cancelled = true;
        if (handle) clearTimeout(handle);
      };
    },
  };
}

/** One timer callback in progress during advance(); `sleeping` counts its pending clock.sleep() calls. */
interface CallbackRun {
  sleeping: number;
  done: Promise<void>;
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
}

/** Lets queued promise continuations (and I/O callbacks already due) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told. `advance(ms)` fires due timers in time order (ties in the
 * order they were set), moving `now()` to each timer's time and awaiting its callback — including
 * timers those callbacks set within the window — before moving on.
 */
export class ManualClock implements HubClock {
  private t: number;
  private seq = 0;
  private timers = new Set<ManualTimer>();
  private chain: Promise<void> = Promise.resolve();
  private readonly als = new AsyncLocalStorage<CallbackRun>();

  constructor(start: number | Date | string = 0) {
    this.t = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.t;
  }

  setTimer(at: number, fn: () => void | Promise<void>): () => void {
    const timer: ManualTimer = { at, seq: this.seq++, fn };
    this.timers.add(timer);
    this.wake?.();
    return () => {
      this.timers.delete(timer);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const run = this.als.getStore();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      if (run) run.sleeping++;
      const wakeUp = () => {
        if (run) run.sleeping--;
      };
      const onAbort = () => {
        cancel();
        wakeUp();
        reject(abortReason(signal!));
      };
      const cancel = this.setTimer(this.t + Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        wakeUp();
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves the clock forward by `ms`, firing every timer due on the way. */
  advance(ms: number): Promise<void> {
    return this.enqueue(() => this.t + ms);
  }

  /** Moves the clock to `t`; forward fires due timers, backward just sets the time. */
  set(t: number | Date | string): Promise<void> {
    const target = typeof t === 'number' ? t : new Date(t).getTime();
    return this.enqueue(() => {
      if (target < this.t) this.t = target;
      return target;
    });
  }

  /** Fires timers until none is due before `now() + limitMs` (default one day), e.g. to drain retries. */
  runUntilIdle(limitMs = 86_400_000): Promise<void> {
    return this.enqueue(() => this.t + limitMs, true);
  }

  /** Times of pending timers, soonest first. */
  pending(): number[] {
    return [...this.timers].map((t) => t.at).sort((a, b) => a - b);
  }

  private enqueue(target: () => number, stopWhenIdle = false): Promise<void> {
    const run = this.chain.then(() => this.run(target(), stopWhenIdle));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(target: number, stopWhenIdle: boolean): Promise<void> {
    // Callbacks still running. A callback may itself wait on this clock (ctx.clock.sleep inside a
    // scheduled task), so we wait for a callback *or* a newly set timer, whichever comes first.
    const inFlight = new Set<CallbackRun>();
    for (;;) {
      await settle();
      let next: ManualTimer | undefined;
      for (const timer of this.timers) {
        if (timer.at > target) continue;
        if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer;
      }
      if (!next) {
        // Callbacks asleep past the target wait for a later advance; those doing I/O are awaited.
        if ([...inFlight.values()].every((run) => run.sleeping > 0)) break;
        await this.waitForProgress(inFlight);
        continue;
      }
      this.timers.delete(next);
      if (next.at > this.t) this.t = next.at;
      const run: CallbackRun = { sleeping: 0, done: Promise.resolve() };
      const fn = next.fn;
      run.done = this.als.run(run, () => Promise.resolve().then(fn)).finally(() => inFlight.delete(run));
      run.done.catch(() => undefined); // a callback left asleep must not become an unhandled rejection
      inFlight.add(run);
      await this.waitForProgress(inFlight);
    }
    if (!stopWhenIdle && target > this.t) this.t = target;
    await settle();
  }

  private wake?: () => void;

  /** Resolves when a running callback finishes (rethrowing its error) or a timer is set. */
  private async waitForProgress(inFlight: Set<CallbackRun>): Promise<void> {
    const timerSet = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    try {
      await Promise.race([...[...inFlight].map((r) => r.done), timerSet]);
    } finally {
      this.wake = undefined;
    }
  }
}
