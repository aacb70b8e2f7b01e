/**
 * Scheduler on the hub clock: `every`, `after` and `cron`. Cron uses croner only to compute the
 * next run; the run itself is a timer on the hub clock, so a ManualClock drives cron too. Tasks
 * belong to an owner (an integration instance, the automation engine) and are stopped together.
 * A throwing task is logged with its owner and never reaches the caller's stack.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { ScheduledTask, Scheduler } from '../sdk/types.js';
import type { HubClock } from './clock.js';

export interface OwnedScheduler extends Scheduler {
  readonly owner: string;
  /** Stops every task of this owner. */
  stop(): void;
}

export interface HubScheduler extends Scheduler {
  /**
   * A scheduler whose tasks belong to `owner`. `onError` is told about a throwing task (after it
   * is logged), e.g. so the plugin runner can mark the instance failed.
   */
  forOwner(owner: string, opts?: { onError?: (err: unknown, task: string) => void }): OwnedScheduler;
  stopOwner(owner: string): void;
  stopAll(): void;
  /** Number of live tasks, per owner or in total. */
  size(owner?: string): number;
}

interface Task {
  owner: string;
  label: string;
  stopped: boolean;
  cancel?: () => void;
}

export function createScheduler(opts: { clock: HubClock; log: Logger; timezone?: string }): HubScheduler {
  const { clock, log } = opts;
  const tasks = new Set<Task>();
  const errorHandlers = new Map<string, (err: unknown, task: string) => void>();

  function start(
    owner: string,
    label: string,
    first: number | null,
    nextAfter: (due: number) => number | null,
    fn: () => void | Promise<void>,
  ): ScheduledTask {
    const task: Task = { owner, label, stopped: false };
    tasks.add(task);
    const arm = (at: number | null) => {
      if (task.stopped) return;
      if (at === null) {
        tasks.delete(task);
        return;
      }
      task.cancel = clock.setTimer(at, async () => {
        if (task.stopped) return;
        try {
          await fn();
        } catch (err) {
          log.error({ err, owner, task: label }, 'scheduled task failed');
          try {
            errorHandlers.get(owner)?.(err, label);
          } catch (handlerErr) {
            log.error({ err: handlerErr, owner }, 'task error handler failed');
          }
        }
        arm(nextAfter(at));
      });
    };
    arm(first);
    return {
      stop() {
        task.stopped = true;
        task.cancel?.();
        tasks.delete(task);
      },
    };
  }

  function make(owner: string): Scheduler {
    return {
      every(ms, fn) {
        if (!(ms > 0)) throw new RangeError(`every(): interval must be > 0 ms, got ${ms}`);
        return start(owner, `every ${ms}ms`, clock.now() + ms, (due) => {
          const next = due + ms;
          // A run that overran its period skips the missed runs instead of firing them back to back.
          return next > clock.now() ? next : clock.now() + ms;
        }, fn);
      },
      after(ms, fn) {
        return start(owner, `after ${ms}ms`, clock.now() + Math.max(0, ms), () => null, fn);
      },
      cron(pattern, fn, cronOpts) {
        const timezone = cronOpts?.timezone ?? opts.timezone;
        // Constructed without a callback croner starts no timer of its own: it only computes times.
        const cron = new Cron(pattern, { ...(timezone ? { timezone } : {}), paused: true });
        const nextFrom = (from: number) => cron.nextRun(new Date(from))?.getTime() ?? null;
        return start(owner, `cron ${pattern}`, nextFrom(clock.now()), (due) => nextFrom(Math.max(due, clock.now())), fn);
      },
    };
  }

  function stopOwner(owner: string): void {
    for (const task of [...tasks]) {
      if (task.owner !== owner) continue;
      task.stopped = true;
      task.cancel?.();
      tasks.delete(task);
    }
  }

  const root = make('hub');
  return {
    ...root,
    forOwner(owner, ownerOpts) {
      if (ownerOpts?.onError) errorHandlers.set(owner, ownerOpts.onError);
      return {
        ...make(owner),
        owner,
        stop: () => {
          stopOwner(owner);
          errorHandlers.delete(owner);
        },
      };
    },
    stopOwner,
    stopAll() {
      for (const task of [...tasks]) {
        task.stopped = true;
        task.cancel?.();
      }
      tasks.clear();
    },
    size(owner) {
      if (owner === undefined) return tasks.size;
      let n = 0;
      for (const task of tasks) if (task.owner === owner) n++;
      return n;
    },
  };
}
