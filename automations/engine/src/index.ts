/** @joulehub/automations: the automation engine (rules, built-in types, live runs, backtests). */
export {};
