/** @joulehub/automations: the automation engine (rules, built-in types, live runs, backtests). */
export { AutomationEngine, AutomationError, createAutomationEngine, ownerCaller, type CallerLike, type EngineOptions } from './engine.js';
export { RuleRunner, energyCrossing, type Firing, type Owner } from './runtime.js';
export { runBacktest } from './backtest.js';
export { ruleProblems, ruleSchema, referencedDevices, WEEKDAYS, type Rule, type Trigger, type Condition, type Action } from './rule.js';
export { evalCondition, describeCondition } from './conditions.js';
export * from './time.js';
export type { Env, RunRecord } from './env.js';
