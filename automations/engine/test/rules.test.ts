/**
 * State-driven triggers, actions, modes, built-in types (shutdown/startup with always_on, alarms,
 * left running) and safety (rate pause, command retries, failing actions) on a ManualClock.
 */
import { afterEach, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import { HOUR, MIN, startEngine, type EngineHarness } from './support.js';

const NOW = '2026-06-01T10:00:00Z';
const T0 = Date.parse(NOW);
const S = 1000;

describeDb('automations: triggers, actions and built-in rules', (target) => {
  let h: EngineHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('numeric threshold with a for-duration and hysteresis fires once per excursion', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      rules: [{ id: 'hot', triggers: [{ type: 'numeric', entity: 'heater.power', above: 2000, for_s: 60, hysteresis: 200 }], actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_off' }] }],
    });
    const step = async (w: number, after = 10 * S) => {
      h!.report('heater.power', w);
      await h!.clock.advance(after);
    };
    await step(2500, 30 * S); // above, but only for 30 s
    await step(1000); // back below: no firing
    expect(h.commands).toHaveLength(0);
    await step(2500, 61 * S); // above for 61 s: fires
    expect(h.log()).toEqual(['10:01 turn_off heater.switch']);
    await step(1900, 30 * S); // dips below 2000 but not below 1800 (hysteresis): not re-armed
    await step(2600, 120 * S);
    expect(h.commands).toHaveLength(1);
    await step(1700); // re-armed
    await step(2600, 120 * S);
    expect(h.commands).toHaveLength(2);
    expect((await h.runs('hot'))[0]!.explanation).toMatch(/heater.power = 2500 > 2000 for 60 s/);
  });

  it('state trigger → delay → wait for a state (with timeout) → notify; modes single, restart and queued', async () => {
    const rule = (id: string, mode: string) => ({
      id, mode,
      triggers: [{ type: 'state', entity: 'heater.switch', to: 'on' }],
      actions: [{ type: 'delay', seconds: 600 }, { type: 'notify', message: `${id} done` }],
    });
    h = await startEngine(target.url, { now: NOW, rules: [rule('single', 'single'), rule('restart', 'restart'), rule('queued', 'queued')] });
    h.report('heater.switch', 'on');
    await h.advance(60 * S);
    h.report('heater.switch', 'off');
    await h.advance(60 * S);
    h.report('heater.switch', 'on'); // second trigger while the first run still waits
    await h.advance(2 * HOUR);
    await h.engine.idle();
    const notes = (await h.notifications()).map((n) => `${n.created_at.toISOString().slice(11, 16)} ${n.message}`).sort();
    expect(notes).toEqual([
      '10:10 queued done', '10:10 single done', // the first runs
      '10:12 restart done', // the first was cancelled, the second ran to its end
      '10:20 queued done', // the second queued after the first
    ]);
    const restart = await h.runs('restart');
    expect(restart.map((r) => r.result).sort()).toEqual(['cancelled', 'done']);
  });

  it('wait fails after its timeout and the remaining actions still run; the outcome is recorded', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      rules: [{ id: 'w', triggers: [{ type: 'webhook' }], actions: [
        { type: 'wait', entity: 'heater.switch', state: 'on', timeout_s: 300 },
        { type: 'switch', entity: 'heater.switch', command: 'turn_off' },
      ] }],
    });
    await h.engine.webhook('w', { kind: 'system', userId: null, role: 'admin', scopes: [] });
    await h.advance(10 * MIN);
    await h.engine.idle();
    const [run] = await h.runs('w');
    expect(run!.result).toBe('failed');
    expect(run!.actions[0]).toMatchObject({ ok: false, error: 'heater.switch did not become on within 300 s' });
    expect(run!.actions[1]).toMatchObject({ ok: true, action: 'switch off heater.switch' });
    expect(h.log()).toEqual(['10:05 turn_off heater.switch']);
  });

  it('fires when a device becomes unavailable (for a while), once until it is back', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      rules: [{ id: 'gone', triggers: [{ type: 'unavailable', device: 'heater', for_s: 120 }], actions: [{ type: 'notify', message: 'heater gone' }] }],
    });
    h.report('heater.power', 100);
    await h.advance(MIN);
    h.setAvailable('heater', false);
    await h.advance(MIN); // back before 2 minutes: nothing
    h.report('heater.power', 100);
    await h.advance(MIN);
    h.setAvailable('heater', false);
    await h.advance(10 * MIN);
    await h.engine.idle();
    expect((await h.notifications()).map((n) => n.created_at.toISOString().slice(11, 16))).toEqual(['10:05']);
  });

  it('shuts down every device of the owner except always_on ones, and starts them again', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      devices: [{ id: 'fridge', name: 'Fridge' }, { id: 'heater', name: 'Heater' }, { id: 'tv', name: 'TV' }],
      rules: [
        { id: 'leave', type: 'shutdown', triggers: [{ type: 'cron', cron: '0 11 * * *' }], always_on: ['fridge'] },
        { id: 'back', type: 'startup', triggers: [{ type: 'cron', cron: '0 18 * * *' }], always_on: ['fridge'] },
      ],
    });
    await h.advance(12 * HOUR);
    expect(h.log()).toEqual(['11:00 turn_off heater.switch', '11:00 turn_off tv.switch', '18:00 turn_on heater.switch', '18:00 turn_on tv.switch']);
  });

  it('an alarm fires after N seconds and repeats the given number of times; -1 repeats until stopped', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      rules: [
        { id: 'three', type: 'alarm', after_s: 60, repeat: 2, interval_s: 120, message: 'laundry' },
        { id: 'forever', type: 'alarm', after_s: 600, repeat: -1, message: 'door open' },
      ],
    });
    await h.advance(HOUR + 30 * S);
    const notes = await h.notifications();
    expect(notes.filter((n) => n.message === 'laundry').map((n) => n.created_at.toISOString().slice(11, 16))).toEqual(['10:01', '10:03', '10:05']);
    expect(notes.filter((n) => n.message === 'door open')).toHaveLength(6);
    await h.advance(HOUR);
    expect((await h.notifications()).filter((n) => n.message === 'door open')).toHaveLength(12);
  });

  it('left running: a delayed-start standby of 2–20 W is no cycle; a cycle past its limit or outside usual hours is reported and switched off', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      devices: [{ id: 'washer', name: 'Washing machine' }],
      rules: [{ id: 'washer-left', type: 'left_running', device: 'washer', start_w: 25, stop_w: 22, min_on_s: 120, min_off_s: 300, max_run_s: 2 * 3600, usual_hours: [[8, 20]], switch_off: true }],
    });
    const at = async (min: number, w: number) => {
      await h!.clock.set(T0 + min * MIN);
      h!.report('washer.power', w);
    };
    // Delayed start: hours of 2–20 W standby, with a 30 W blip of 1 minute.
    await at(0, 2); await at(30, 20); await at(60, 5); await at(90, 30); await at(91, 18);
    // The wash: 2 kW heating, then the motor, 40 min in all; then standby again.
    await at(120, 2000); await at(140, 300); await at(160, 15);
    await h.clock.set(T0 + 6 * HOUR);
    expect(h.commands).toHaveLength(0);
    // A second wash that never ends (door left open, pump stuck at 60 W).
    await at(360, 2000); await at(380, 60);
    await h.clock.set(T0 + 9 * HOUR);
    await h.engine.idle();
    expect(h.log()).toEqual(['18:00 turn_off washer.switch']);
    const notes = await h.notifications();
    expect(notes.map((n) => n.message)).toEqual(['washer above 22 W since 16:00, longer than 7200 s']);
    // Switched off, it draws nothing; started again at 21:00, outside 08–20: reported at once.
    await at(545, 0);
    await at(660, 2000);
    await h.clock.set(T0 + 11 * HOUR + 5 * MIN);
    await h.engine.idle();
    expect((await h.notifications()).at(-1)!.message).toBe('washer started at 21:00, outside its usual hours 08:00–20:00');
  });

  it('a rule firing faster than its rate is paused and reported; other rules keep running', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      rules: [
        { id: 'chatty', max_runs_per_hour: 3, triggers: [{ type: 'cron', cron: '*/5 * * * *' }], actions: [{ type: 'notify', message: 'tick' }] },
        { id: 'calm', triggers: [{ type: 'cron', cron: '0 * * * *' }], actions: [{ type: 'notify', message: 'hourly' }] },
      ],
    });
    await h.advance(2 * HOUR);
    const notes = await h.notifications();
    expect(notes.filter((n) => n.message === 'tick')).toHaveLength(3);
    expect(notes.filter((n) => n.message === 'hourly')).toHaveLength(2);
    const paused = notes.find((n) => n.title.includes('paused'))!;
    expect(paused.message).toMatch(/"chatty" fired more than 3 times within an hour and was paused/);
    expect((await h.runs('chatty')).map((r) => r.result)).toEqual(['done', 'done', 'done', 'paused']);
    expect(h.engine.get('chatty', { kind: 'system', userId: null, role: 'admin', scopes: [] })!.paused!.reason).toMatch(/more than 3/);
  });

  it('retries a failing command and records the outcome; a failing action does not stop the next one or other rules', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      devices: [{ id: 'heater', name: 'Heater' }, { id: 'lamp', name: 'Lamp' }],
      rules: [
        { id: 'off', triggers: [{ type: 'cron', cron: '0 11 * * *' }], actions: [
          { type: 'switch', entity: 'heater.switch', command: 'turn_off' },
          { type: 'switch', entity: 'lamp.switch', command: 'turn_off' },
        ] },
        { id: 'other', triggers: [{ type: 'cron', cron: '0 11 * * *' }], actions: [{ type: 'notify', message: 'other ran' }] },
      ],
    });
    h.failCommands(4); // heater: 3 attempts fail; lamp: the first fails, the retry works
    await h.advance(2 * HOUR);
    await h.engine.idle();
    const [run] = await h.runs('off');
    expect(run!.result).toBe('failed');
    expect(run!.actions[0]).toMatchObject({ action: 'switch off heater.switch', ok: false, attempts: 3 });
    expect(run!.actions[0]!.error).toMatch(/device did not answer/);
    expect(run!.actions[1]).toMatchObject({ action: 'switch off lamp.switch', ok: true, attempts: 2 });
    expect(h.commands.map((c) => c.at.slice(11, 19))).toEqual(['11:00:00', '11:00:01', '11:00:06', '11:00:06', '11:00:07']);
    expect((await h.notifications()).map((n) => n.message)).toContain('other ran');
  });

  it('runs another rule\'s actions', async () => {
    h = await startEngine(target.url, {
      now: NOW,
      rules: [
        { id: 'lights-out', triggers: [{ type: 'webhook' }], actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_off' }] },
        { id: 'night', triggers: [{ type: 'cron', cron: '0 23 * * *' }], actions: [{ type: 'run', rule: 'lights-out' }, { type: 'notify', message: 'good night' }] },
      ],
    });
    await h.advance(14 * HOUR);
    await h.engine.idle();
    expect(h.log()).toEqual(['23:00 turn_off heater.switch']);
    expect((await h.runs('lights-out'))[0]!.trigger.type).toBe('run');
  });
});
