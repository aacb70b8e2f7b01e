/** Time-driven rules on a ManualClock: cron with time zone, conditions, on-windows, power levels, DST days, sun. */
import { afterEach, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import { HOUR, MIN, startEngine, type EngineHarness } from './support.js';

describeDb('automations: schedules', (target) => {
  let h: EngineHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('runs a cron rule in its time zone, only while a midnight-crossing time window and the weekday hold', async () => {
    h = await startEngine(target.url, {
      now: '2026-06-01T00:00:00Z', // Monday, 02:00 in Berlin
      tz: 'Europe/Berlin',
      rules: [{
        id: 'night-off',
        triggers: [{ type: 'cron', cron: '0 * * * *' }],
        conditions: [{ type: 'time', after: '22:00', before: '03:00' }, { type: 'weekday', days: ['mon'] }],
        actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_off' }],
      }],
    });
    await h.clock.advance(24 * HOUR);
    // Berlin is UTC+2 in June: 03:00–21:00 local fail the window; 00:00–02:00 Tuesday fail the weekday.
    expect(h.log()).toEqual(['20:00 turn_off heater.switch', '21:00 turn_off heater.switch']);
    const runs = await h.runs('night-off');
    expect(runs.filter((r) => r.result === 'done')).toHaveLength(2);
    const skipped = runs.filter((r) => r.result === 'skipped');
    expect(skipped).toHaveLength(22); // every other hour, with the condition that failed
    expect(skipped[0]!.explanation).toMatch(/time 22:00–03:00 is false/);
    expect(skipped.at(-1)!.explanation).toMatch(/weekday in mon is false/);
  });

  it('switches a device on inside weekly windows (sorted, one crossing midnight) and off at their ends; started inside one it goes on at once', async () => {
    h = await startEngine(target.url, {
      now: '2026-06-02T09:30:00Z', // Tuesday, UTC
      rules: [{ id: 'heater-hours', type: 'on_windows', entity: 'heater.switch', windows: [[22, 6], [19, 20], [8, 11]] }],
    });
    await h.clock.advance(24 * HOUR);
    expect(h.log()).toEqual([
      '09:30 turn_on heater.switch', // started inside 08–11
      '11:00 turn_off heater.switch',
      '19:00 turn_on heater.switch',
      '20:00 turn_off heater.switch',
      '22:00 turn_on heater.switch',
      '06:00 turn_off heater.switch', // the 22–06 window ends the next morning
      '08:00 turn_on heater.switch',
    ]);
  });

  it('keeps per-weekday windows to their days; a window crossing midnight ends on the next day', async () => {
    h = await startEngine(target.url, {
      now: '2026-06-01T00:00:00Z', // Monday
      rules: [{ id: 'weekly', type: 'on_windows', entity: 'heater.switch', windows: { mon: [[23, 1]], wed: [[8, 9]] } }],
    });
    await h.clock.advance(7 * 24 * HOUR);
    expect(h.commands.map((c) => `${c.at.slice(0, 16)} ${c.command}`)).toEqual([
      '2026-06-01T23:00 turn_on', '2026-06-02T01:00 turn_off', '2026-06-03T08:00 turn_on', '2026-06-03T09:00 turn_off',
    ]);
  });

  it('follows local time across the spring DST change (Europe/Berlin, 29 March 2026)', async () => {
    h = await startEngine(target.url, {
      now: '2026-03-28T12:00:00Z',
      tz: 'Europe/Berlin',
      rules: [
        { id: 'early', type: 'on_windows', entity: 'heater.switch', windows: [[1, 4]] },
        // 02:30 does not exist on the 29th: croner runs it at 03:00 local.
        { id: 'half-two', triggers: [{ type: 'cron', cron: '30 2 * * *' }], actions: [{ type: 'notify', message: 'half past two' }] },
      ],
    });
    await h.clock.advance(48 * HOUR);
    // 01:00 CET = 00:00Z, 04:00 CEST = 02:00Z on the 29th; 01:00 CEST = 23:00Z and 04:00 CEST = 02:00Z on the 30th.
    expect(h.commands.map((c) => `${c.at.slice(0, 16)} ${c.command}`)).toEqual([
      '2026-03-29T00:00 turn_on', '2026-03-29T02:00 turn_off', '2026-03-29T23:00 turn_on', '2026-03-30T02:00 turn_off',
    ]);
    const times = (await h.notifications()).map((n) => n.created_at.toISOString().slice(0, 16));
    expect(times).toEqual(['2026-03-29T01:00', '2026-03-30T00:30']);
  });

  it('sets power levels inside windows and the outside level after, the level carried in the command', async () => {
    h = await startEngine(target.url, {
      now: '2026-06-01T05:00:00Z',
      rules: [{ id: 'boiler', type: 'power_level', entity: 'heater.switch', windows: [{ from: 17, to: 22, level: 'D3hot' }, { from: 6, to: 9, level: 'D1' }], outside: 'D0' }],
    });
    await h.clock.advance(20 * HOUR);
    expect(h.log()).toEqual(['06:00 set_level(D1) heater.switch', '09:00 set_level(D0) heater.switch', '17:00 set_level(D3hot) heater.switch', '22:00 set_level(D0) heater.switch']);
    expect(h.commands[0]!.params).toEqual({ level: 'D1' });
  });

  it('fires at sunset with an offset (Berlin, 21 June 2026: sunset 21:33 local)', async () => {
    h = await startEngine(target.url, {
      now: '2026-06-21T00:00:00Z',
      tz: 'Europe/Berlin',
      rules: [{ id: 'dusk', triggers: [{ type: 'sun', event: 'sunset', offset_min: -30, latitude: 52.52, longitude: 13.405 }], actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_on' }] }],
    });
    await h.clock.advance(24 * HOUR);
    expect(h.commands).toHaveLength(1);
    // 21:03 CEST = 19:03Z (give or take a minute of suncalc's arithmetic)
    const at = Date.parse(h.commands[0]!.at);
    expect(Math.abs(at - Date.parse('2026-06-21T19:03:00Z'))).toBeLessThan(2 * MIN);
  });
});
