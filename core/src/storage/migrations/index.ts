/**
 * Every migration by name, in order (Kysely sorts names). A static map rather than a folder scan,
 * so bundling or running from another working directory cannot drop one. Add new ones at the end.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_timescaledb.js';
import * as m0003 from './0003_energy_1h.js';
import * as m0005 from './0005_auth.js';
import * as m0006 from './0006_messages.js';
import * as m0007 from './0007_automations.js';
import * as m0008 from './0008_dashboards.js';
import * as m0009 from './0009_user_prefs.js';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_timescaledb': m0002,
  '0003_energy_1h': m0003,
  '0005_auth': m0005,
  '0006_messages': m0006,
  '0007_automations': m0007,
  '0008_dashboards': m0008,
  '0009_user_prefs': m0009,
};
