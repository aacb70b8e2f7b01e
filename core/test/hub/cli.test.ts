import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from './support.js';

const BIN = fileURLToPath(new URL('../../bin/joulehub.js', import.meta.url));

function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env, JOULEHUB_CONFIG: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('joulehub CLI', () => {
  const tmp = tempDir('jh-cli-');
  afterAll(() => tmp.remove());

  it('check-config prints every problem with file and line, and exits 1', async () => {
    const { code, stderr } = await run(['check-config', '--config', 'runner.yaml'], FIXTURES);
    expect(code).toBe(1);
    expect(stderr.split('\n').filter((l) => l.startsWith('runner.yaml:')).sort()).toEqual([
      'runner.yaml:24: integrations[4].package future-sdk 3.0.0 was built for Joulehub SDK ^2.0.0, but this hub provides SDK 1.0.0; install a version of the integration that supports SDK 1.x',
      'runner.yaml:28: integrations[5].config.device is required',
      'runner.yaml:29: integrations[5].config.power must be >= 0',
      'runner.yaml:30: integrations[5].config.colour is not a known option',
    ]);
  });

  it('check-config says OK for a valid file, from any working directory', async () => {
    const file = path.join(tmp.dir, 'joulehub.yaml');
    writeFileSync(file, `port: 9001\nintegrations:\n  - id: meter\n    package: ${JSON.stringify(path.join(FIXTURES, 'meter'))}\n    config: { device: garage }\n`);
    const { code, stdout } = await run(['check-config', '--config', file], '/');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^OK: .*joulehub\.yaml \(1 integration; port 9001/);
  });

  it('names a bad environment variable', async () => {
    const { code, stderr } = await run(['check-config'], tmp.dir, { TZ: 'Mars/Base' });
    expect(code).toBe(1);
    expect(stderr).toContain('environment: TZ must be a valid IANA time zone like Europe/Berlin (got "Mars/Base")');
  });
});
