/**
 * `joulehub import` run (as its own process, the real CLI) while a hub runs on the same database:
 * the device and entity the import creates appear in the running hub without a restart.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createHub, type JoulehubHub } from '../../src/hub/hub.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';
import { baseConfig, captureLog, tempDir } from './support.js';

const BIN = fileURLToPath(new URL('../../bin/joulehub.js', import.meta.url));

describeDb('import while the hub runs', (target) => {
  let t: TestDatabase;
  let data: ReturnType<typeof tempDir>;
  let hub: JoulehubHub;

  beforeEach(async () => {
    t = await createTestDatabase(target.url);
    data = tempDir('jh-import-live-');
    hub = await createHub(baseConfig(data.dir), { log: captureLog().log, databaseUrl: t.url, automations: false });
    await hub.start();
  });
  afterEach(async () => {
    await hub.stop();
    await t.drop();
    data.remove();
  });

  it('the device and entity an import creates show up in the running hub, with their energy, without a restart', async () => {
    const registered: string[] = [];
    hub.bus.on('test', 'entity_registered', (e) => { registered.push(e.entityId); });
    const csv = path.join(data.dir, 'garage.csv');
    writeFileSync(csv, 'datetime,value\n2025-03-01T00:00:00Z,2\n2025-03-01T00:30:00Z,2\n2025-03-01T01:00:00Z,0\n');
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'import', csv, '--device', 'garage', '--units', 'kW', '--create-device'], {
        cwd: data.dir,
        env: { ...process.env, DATABASE_URL: t.url, JOULEHUB_DATA_DIR: data.dir, JOULEHUB_CONFIG: '', MQTT_PORT: '0' },
      }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
    });
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain('imported 3 readings into garage.power');
    expect(out.stdout).not.toContain('restart');
    await vi.waitFor(() => expect(hub.entities.get('garage.power')?.kind).toBe('power'));
    expect(hub.devices.get('garage')?.name).toBe('garage');
    expect(registered).toEqual(['garage.power']);
    const hours = await hub.energy.energy({ deviceId: 'garage', start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-03-01T01:00:00Z'), interval: 'hour', tz: 'UTC' });
    expect(hours).toEqual([{ datetime: '2025-03-01T00:00:00Z', value: 2 }]);
  });
});
