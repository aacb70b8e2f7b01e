import { describe, expect, it } from 'vitest';
import { captureLog } from './support.js';
import { ManualClock } from '../../src/hub/clock.js';
import { createScheduler } from '../../src/hub/scheduler.js';

const iso = (t: number) => new Date(t).toISOString();

describe('ManualClock', () => {
  it('fires due timers in time order and moves now() to each', async () => {
    const clock = new ManualClock('2025-01-01T00:00:00Z');
    const seen: string[] = [];
    clock.setTimer(clock.now() + 3000, () => void seen.push(`c@${iso(clock.now())}`));
    clock.setTimer(clock.now() + 1000, () => void seen.push(`a@${iso(clock.now())}`));
    clock.setTimer(clock.now() + 1000, () => void seen.push(`b@${iso(clock.now())}`));
    clock.setTimer(clock.now() + 9000, () => void seen.push('late'));
    await clock.advance(5000);
    expect(seen).toEqual(['a@2025-01-01T00:00:01.000Z', 'b@2025-01-01T00:00:01.000Z', 'c@2025-01-01T00:00:03.000Z']);
    expect(iso(clock.now())).toBe('2025-01-01T00:00:05.000Z');
  });

  it('awaits async callbacks, including ones that sleep on the clock', async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimer(1000, async () => {
      await clock.sleep(500);
      seen.push(clock.now());
      await clock.sleep(5000); // past the window: resumes on a later advance
      seen.push(clock.now());
    });
    await clock.advance(2000);
    expect(seen).toEqual([1500]);
    await clock.advance(10_000);
    expect(seen).toEqual([1500, 6500]);
  });

  it('sleep rejects when its signal aborts', async () => {
    const clock = new ManualClock(0);
    const ac = new AbortController();
    const slept = clock.sleep(10_000, ac.signal);
    ac.abort(new Error('stopped'));
    await expect(slept).rejects.toThrow('stopped');
    expect(clock.pending()).toEqual([]);
  });
});

describe('Scheduler', () => {
  it('runs every/after on the clock and stops an owner\'s tasks together', async () => {
    const clock = new ManualClock(0);
    const { log } = captureLog();
    const scheduler = createScheduler({ clock, log, timezone: 'UTC' });
    const runs: string[] = [];
    const plugin = scheduler.forOwner('plugin');
    plugin.every(1000, () => void runs.push(`poll@${clock.now()}`));
    plugin.after(2500, () => void runs.push(`once@${clock.now()}`));
    scheduler.every(2000, () => void runs.push(`hub@${clock.now()}`));

    await clock.advance(3000);
    // Ties fire in the order their timers were set: the hub task was armed at 0, the poll re-armed at 1000.
    expect(runs).toEqual(['poll@1000', 'hub@2000', 'poll@2000', 'once@2500', 'poll@3000']);

    plugin.stop();
    runs.length = 0;
    await clock.advance(3000);
    expect(runs).toEqual(['hub@4000', 'hub@6000']);
    expect(scheduler.size('plugin')).toBe(0);
  });

  it('logs a throwing task with its owner and keeps running it and the others', async () => {
    const clock = new ManualClock(0);
    const { log, lines } = captureLog();
    const scheduler = createScheduler({ clock, log });
    const errors: string[] = [];
    let good = 0;
    scheduler.forOwner('flaky', { onError: (err) => errors.push((err as Error).message) }).every(1000, async () => {
      throw new Error('device went away');
    });
    scheduler.forOwner('steady').every(1000, () => void good++);
    await clock.advance(3000);
    expect(good).toBe(3);
    expect(errors).toEqual(['device went away', 'device went away', 'device went away']);
    const logged = lines.filter((l) => l.msg === 'scheduled task failed');
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatchObject({ level: 50, owner: 'flaky', task: 'every 1000ms', err: expect.objectContaining({ message: 'device went away' }) });
  });

  it('runs cron in the given time zone across the Europe/Berlin spring-forward change', async () => {
    // 2025-03-30: 02:00 CET jumps to 03:00 CEST, so that local day has 23 hours.
    const clock = new ManualClock('2025-03-28T12:00:00Z');
    const { log } = captureLog();
    const scheduler = createScheduler({ clock, log, timezone: 'UTC' });
    const daily: string[] = [];
    const hourly: string[] = [];
    scheduler.cron('0 3 * * *', () => void daily.push(iso(clock.now())), { timezone: 'Europe/Berlin' });
    scheduler.cron('0 * * * *', () => void hourly.push(iso(clock.now())), { timezone: 'Europe/Berlin' });

    await clock.set('2025-04-01T00:00:00Z');
    // 03:00 local is 02:00Z under CET and 01:00Z under CEST.
    expect(daily).toEqual(['2025-03-29T02:00:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T01:00:00.000Z']);
    const onDstDay = hourly.filter((t) => t >= '2025-03-29T23:00:00.000Z' && t < '2025-03-30T22:00:00.000Z');
    expect(onDstDay).toHaveLength(23);
  });

  it('runs cron across the autumn change, when 02:00-03:00 happens twice', async () => {
    const clock = new ManualClock('2025-10-25T12:00:00Z');
    const scheduler = createScheduler({ clock, log: captureLog().log, timezone: 'Europe/Berlin' });
    const hourly: string[] = [];
    scheduler.cron('0 * * * *', () => void hourly.push(iso(clock.now())));
    await clock.set('2025-10-27T00:00:00Z');
    // The local day 2025-10-26 runs from 2025-10-25T22:00Z to 2025-10-26T23:00Z: 25 hours.
    const onDstDay = hourly.filter((t) => t >= '2025-10-25T22:00:00.000Z' && t < '2025-10-26T23:00:00.000Z');
    expect(onDstDay).toHaveLength(25);
    expect(new Set(onDstDay).size).toBe(25);
  });
});
