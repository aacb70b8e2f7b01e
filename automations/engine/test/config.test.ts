/** Rules in joulehub.yaml and automations/*.yaml: one schema, errors naming file, line and path. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigFileError, loadConfig } from '../../../core/src/hub/config.js';
import { ruleProblems } from '../src/rule.js';

describe('automation rules in config files', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const setup = (files: Record<string, string>) => {
    dir = mkdtempSync(path.join(tmpdir(), 'jh-rules-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };
  const problems = (cwd: string) => {
    try {
      loadConfig({ cwd, env: {} });
    } catch (err) {
      if (err instanceof ConfigFileError) return err.message.split('\n');
      throw err;
    }
    return [];
  };

  it('loads rules from joulehub.yaml and automations/*.yaml (a list, or one rule), keeping where each was written', () => {
    const cwd = setup({
      'joulehub.yaml': 'tz: UTC\nautomations:\n  - id: night\n    triggers: [{ type: cron, cron: "0 22 * * *" }]\n    actions: [{ type: switch, entity: heater.switch, command: turn_off }]\n',
      'automations/heater.yaml': '- id: heater-hours\n  type: on_windows\n  entity: heater.switch\n  windows: [[8, 11], [22, 6]]\n- id: boiler\n  type: power_level\n  entity: boiler.switch\n  windows: [{ from: 17, to: 22, level: D3hot }]\n',
      'automations/budget.yml': 'id: budget\ntype: over_consumption\nswitch_off: true\n',
      'automations/notes.txt': 'not a rule file',
    });
    const config = loadConfig({ cwd, env: {} });
    expect(config.automations!.map((r) => r.id)).toEqual(['night', 'budget', 'heater-hours', 'boiler']);
    expect(config.automationSources!.map((s) => `${s.file}:${s.line} ${s.path}`)).toEqual([
      'joulehub.yaml:3 automations[0]', 'automations/budget.yml:1 [0]', 'automations/heater.yaml:1 [0]', 'automations/heater.yaml:5 [1]',
    ]);
  });

  it('names file, line and path of every problem, in joulehub.yaml and in rule files', () => {
    const cwd = setup({
      'joulehub.yaml': 'automations:\n  - id: night\n    triggers:\n      - type: cron\n        crn: "0 22 * * *"\n    actions: [{ type: switch, entity: heater.switch, command: off }]\n',
      'automations/levels.yaml': '- id: boiler\n  type: power_level\n  entity: boiler.switch\n  windows:\n    - { from: 17, to: 25, level: D4 }\n',
    });
    expect(problems(cwd)).toEqual([
      'joulehub.yaml:4: automations[0].triggers[0].cron is required',
      'joulehub.yaml:5: automations[0].triggers[0].crn is not a known option',
      'joulehub.yaml:6: automations[0].actions[0].command must be one of: "turn_on", "turn_off", "toggle"',
    ]);
    rmSync(path.join(cwd, 'joulehub.yaml'));
    writeFileSync(path.join(cwd, 'joulehub.yaml'), 'tz: UTC\n');
    expect(problems(cwd)).toEqual([
      'automations/levels.yaml:5: [0].windows[0].to must be <= 24',
      'automations/levels.yaml:5: [0].windows[0].level must be one of: "D0", "D1", "D2", "D3hot", "D3cold"',
    ]);
  });

  it('refuses a rule id used twice, naming both places', () => {
    const cwd = setup({
      'joulehub.yaml': 'automations:\n  - { id: night, type: over_consumption }\n',
      'automations/more.yaml': '- { id: night, type: over_consumption }\n',
    });
    expect(problems(cwd)).toEqual(['automations/more.yaml:1: [0].id "night" is already used (joulehub.yaml:2); give each rule a unique id']);
  });

  it('validates API rules with the same schema (unknown power levels, windows, types)', () => {
    expect(ruleProblems({ id: 'a', type: 'power_level', entity: 'b.c', windows: [{ from: 1, to: 2, level: 'D9' }] }))
      .toEqual([{ path: 'windows[0].level', message: 'must be one of: "D0", "D1", "D2", "D3hot", "D3cold"' }]);
    expect(ruleProblems({ id: 'a', type: 'on_windows', entity: 'b.c', windows: [[8]] })[0]!.path).toMatch(/^windows/);
    expect(ruleProblems({ id: 'a', type: 'alarm', after_s: 0, message: 'x' })).toEqual([{ path: 'after_s', message: 'must be > 0' }]);
    expect(ruleProblems({ id: 'Bad Id', triggers: [{ type: 'webhook' }], actions: [{ type: 'notify', message: 'x' }] })[0]!.path).toBe('id');
    expect(ruleProblems({ id: 'ok', triggers: [{ type: 'webhook' }], actions: [{ type: 'notify', message: 'x' }] })).toEqual([]);
  });
});
