import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/hub/clock.js';
import { loadConfig } from '../../src/hub/config.js';
import { createHub, type JoulehubHub } from '../../src/hub/hub.js';
import type { HubEvents } from '../../src/sdk/types.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';
import { baseConfig, captureLog, FIXTURES, tempDir, type Captured } from './support.js';

const T0 = Date.parse('2025-06-01T10:00:00Z');

describeDb('plugin runner', (target) => {
  let t: TestDatabase;
  let data: ReturnType<typeof tempDir>;
  let hub: JoulehubHub | undefined;
  let clock: ManualClock;
  let logs: Captured;
  let statusEvents: (HubEvents['integration_status'] & { at: number })[];

  beforeEach(async () => {
    t = await createTestDatabase(target.url);
    data = tempDir();
    clock = new ManualClock(T0);
    logs = captureLog();
    // MQTT_PORT=0: no default MQTT instance (it would bind port 1883); this suite is about runner.yaml's instances.
    const config = loadConfig({ cwd: FIXTURES, env: { JOULEHUB_DATA_DIR: data.dir, MQTT_PORT: '0' }, argv: ['--config', 'runner.yaml'] });
    hub = await createHub(config, { clock, log: logs.log, databaseUrl: t.url });
    statusEvents = [];
    hub.bus.on('test', 'integration_status', (e) => statusEvents.push({ ...e, at: clock.now() - T0 }));
    await hub.start();
  });

  afterEach(async () => {
    await hub?.stop();
    await t.drop();
    data.remove();
  });

  const status = (name: string) => hub!.integrations().find((i) => i.instanceId === name)!;
  const eventsOf = (name: string) => statusEvents.filter((e) => e.instanceId === name).map((e) => `${e.at}:${e.status}`);

  it('reports every instance\'s status; configuration problems name the user\'s line and are not retried', () => {
    expect(hub!.integrations().map((i) => [i.instanceId, i.status])).toEqual([
      ['flaky', 'not_ready'],
      ['needs-config', 'config_error'],
      ['crashy', 'running'],
      ['steady', 'running'],
      ['future-sdk', 'config_error'],
      ['broken-options', 'config_error'],
    ]);
    expect(status('future-sdk').error).toContain('runner.yaml:24: integrations[4].package future-sdk 3.0.0 was built for Joulehub SDK ^2.0.0');
    expect(status('broken-options').error).toContain('runner.yaml:29: integrations[5].config.power must be >= 0');
    expect(status('needs-config').error).toBe('the cloud account rejected the token; create a new one in the vendor app');
  });

  it('retries NotReadyError with exponential backoff on the hub clock, entities unavailable meanwhile', async () => {
    expect(status('flaky')).toMatchObject({ status: 'not_ready', attempts: 1, nextRetryAt: new Date(T0 + 1000).toISOString() });
    expect(hub!.states.get('flaky-meter.power')?.available).toBe(false);

    await clock.advance(1000); // second attempt fails too: next in 2 s
    expect(status('flaky')).toMatchObject({ status: 'not_ready', attempts: 2, nextRetryAt: new Date(T0 + 3000).toISOString() });
    await clock.advance(1999);
    expect(status('flaky').status).toBe('not_ready');
    await clock.advance(1); // third attempt works
    expect(status('flaky').status).toBe('running');
    expect(eventsOf('flaky')).toEqual(['0:starting', '0:not_ready', '1000:starting', '1000:not_ready', '3000:starting', '3000:running']);

    await clock.advance(1000);
    expect(hub!.states.get('flaky-meter.power')).toMatchObject({ value: 120, available: true, lastReported: new Date(T0 + 4000).toISOString() });
  });

  it('never retries a ConfigError', async () => {
    await clock.advance(600_000);
    expect(status('needs-config')).toMatchObject({ status: 'config_error', attempts: 1 });
    expect(eventsOf('needs-config')).toEqual(['0:starting', '0:config_error']);
  });

  it('isolates an instance whose scheduled task throws: stopped, logged, retried; the others keep reporting', async () => {
    await clock.advance(3000); // crashy polls at 1 s and 2 s, throws at 3 s
    expect(status('crashy')).toMatchObject({ status: 'failed', attempts: 1, error: 'meter firmware sent garbage' });
    const crash = logs.lines.find((l) => l.msg === 'integration failed; stopped and retrying');
    expect(crash).toMatchObject({ instanceId: 'crashy', integration: 'meter', where: 'every 1000ms', err: expect.objectContaining({ message: 'meter firmware sent garbage' }) });

    await clock.advance(7000); // restarted at 4 s, polls 5 s and 6 s, throws at 7 s, restarted at 9 s
    expect(eventsOf('crashy')).toEqual([
      '0:starting', '0:running', '3000:failed', '4000:starting', '4000:running', '7000:failed', '9000:starting', '9000:running',
    ]);
    expect(hub!.states.get('steady-meter.power')).toMatchObject({ value: 75, available: true, lastReported: new Date(T0 + 10_000).toISOString() });
    expect(status('steady')).toMatchObject({ status: 'running', attempts: 0 });

    await hub!.flush();
    const rows = await t.db.selectFrom('samples').select(['entity_id']).where('entity_id', '=', 'steady-meter.power').execute();
    expect(rows).toHaveLength(10);
  });

  it('routes commands to the owning instance; a throwing onCommand fails only that instance', async () => {
    await hub!.sendCommand({ entityId: 'steady-meter.relay', command: 'turn_on' });
    expect(hub!.states.get('steady-meter.relay')).toMatchObject({ value: 1, text: 'on' });
    await hub!.sendCommand({ entityId: 'steady-meter.relay', command: 'toggle' });
    expect(hub!.states.get('steady-meter.relay')).toMatchObject({ value: 0, text: 'off' });

    await expect(hub!.sendCommand({ entityId: 'nowhere.relay', command: 'turn_on' })).rejects.toMatchObject({ code: 'ENTITY_NOT_FOUND', statusCode: 404 });
    await expect(hub!.sendCommand({ entityId: 'flaky-meter.relay', command: 'turn_on' })).rejects.toMatchObject({ code: 'COMMAND_FAILED' });
    await expect(hub!.sendCommand({ entityId: 'steady-meter.relay', command: 'set_level', params: { level: 3 } }))
      .rejects.toMatchObject({ code: 'COMMAND_FAILED', message: expect.stringContaining('the relay has no levels') });
    await clock.advance(0);
    expect(status('steady')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(status('crashy').status).toBe('running');
    await clock.advance(1000);
    expect(status('steady').status).toBe('running');
  });

  it('fails only the instance whose bus listener throws', async () => {
    await hub!.stop();
    hub = await createHub(baseConfig(data.dir, {
      integrations: [
        { id: 'meter', name: 'listener', package: './meter', config: { device: 'listener-meter', throwOnDeviceRegistered: true } },
        { id: 'meter', name: 'other', package: './meter', config: { device: 'other-meter' } },
      ],
    }), { clock, log: logs.log, databaseUrl: t.url });
    await hub.start();
    await hub.devices.upsert({ id: 'api-device', name: 'Added through the API' }, null);
    await clock.advance(0);
    expect(status('listener')).toMatchObject({ status: 'failed', error: 'listener bug in the meter integration' });
    expect(status('other').status).toBe('running');
    expect(logs.lines).toContainEqual(expect.objectContaining({ msg: 'event listener failed', owner: 'integration:listener', event: 'device_registered' }));
    // The failed instance's listener is gone with it: further events reach nobody broken.
    expect(hub.bus.listenerCount('integration:listener')).toBe(0);
  });

  it('stop() stops every instance and cancels pending retries', async () => {
    await hub!.stop();
    expect(hub!.integrations().every((i) => i.status === 'stopped')).toBe(true);
    expect(hub!.scheduler.size()).toBe(0);
    expect(clock.pending()).toEqual([]);
  });
});

describeDb('plugin runner: a setup that takes very long', (target) => {
  it('does not hold up the hub: start() goes on after the wait, the instance stays starting and runs when its setup finishes', async () => {
    const t = await createTestDatabase(target.url);
    const data = tempDir();
    const clock = new ManualClock(T0);
    const logs = captureLog();
    const config = loadConfig({ cwd: FIXTURES, env: { JOULEHUB_DATA_DIR: data.dir, MQTT_PORT: '0' }, argv: ['--config', 'hang.yaml'] });
    const hub = await createHub(config, { clock, log: logs.log, databaseUrl: t.url, integrationStartWaitMs: 300 });
    try {
      await hub.start(); // resolves although the setup of `hangs` has not finished
      const status = (name: string) => hub.integrations().find((i) => i.instanceId === name)!;
      expect(status('steady').status).toBe('running');
      expect(status('hangs').status).toBe('starting');
      expect(logs.lines.some((l) => l.msg === 'integration hangs is still setting up after 0.3 s; the hub goes on without waiting for it')).toBe(true);
      (globalThis as { releaseMeterSetup?: () => void }).releaseMeterSetup!();
      await vi.waitFor(() => expect(status('hangs').status).toBe('running'));
      await clock.advance(1000);
      expect(hub.states.get('hang-meter.power')?.value).toBe(40);
    } finally {
      await hub.stop();
      await t.drop();
      data.remove();
    }
  });
});
