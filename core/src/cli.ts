/**
 * `joulehub start|check-config|import|user`. The only place that listens on a port or installs signal
 * handlers; everything else is built by createHub() and buildServer().
 *
 *   node --import tsx core/src/cli.ts start --demo     (npm start -- --demo)
 *   joulehub check-config --config ./joulehub.yaml
 *   joulehub import readings.csv --device fridge --units kW
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigFileError, loadConfig } from './hub/config.js';
import { createHub, DEMO_INSTANCE, instanceEntries, type JoulehubHub } from './hub/hub.js';
import { createLogger } from './hub/logger.js';
import { loadIntegration, validateInstanceConfig } from './hub/plugin-loader.js';
import type { HubConfig } from './hub/types.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Loads the config or prints every problem (one per line) and exits 1. */
function configOrExit(opts: { config?: string; demo?: boolean }): HubConfig {
  try {
    return loadConfig({ ...(opts.config ? { configFile: opts.config } : {}), ...(opts.demo ? { demo: true } : {}) });
  } catch (err) {
    if (err instanceof ConfigFileError) {
      process.stderr.write(`joulehub: invalid configuration\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

// --- start ---------------------------------------------------------------------------------------

async function start(opts: { config?: string; demo?: boolean }): Promise<void> {
  const config = configOrExit(opts);
  const log = createLogger({ level: config.logLevel });
  log.info({ version: version(), configFile: config.configFile ?? null, dataDir: config.dataDir, tz: config.tz }, 'starting Joulehub');

  let hub: JoulehubHub | undefined;
  let app: FastifyInstance | undefined;
  let shuttingDown = false;

  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'shutting down');
    try {
      await app?.close();
    } catch (err) {
      log.warn({ err }, 'closing the HTTP server failed');
    }
    await hub?.stop();
    await flushLog(log);
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (shuttingDown) {
        // A second Ctrl-C while stopping: the user wants out now.
        process.stderr.write('joulehub: forced exit\n');
        process.exit(1);
      }
      void shutdown(sig, 0);
    });
  }

  try {
    hub = await createHub(config, { log });
    const { ensureAdminFromEnv } = await import('./auth/bootstrap.js');
    await ensureAdminFromEnv(hub.auth, process.env, log);
    // HTTPS when a certificate and key are configured (session cookies are then Secure).
    const { loadTls } = await import('./auth/tls.js');
    const tls = loadTls(config);
    const { buildServer } = await import('./api/server.js');
    // Sessions and API tokens are checked on every route (buildServer's default policy).
    app = await buildServer(hub, tls ? { https: tls } : {});
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `${tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
    log.info({ url, database: hub.database.kind }, `Joulehub is running at ${url}`);
    await hub.start();
    if (config.demo) log.info({ instance: DEMO_INSTANCE.name }, 'demo household replaying; readings and energy appear within a minute');
  } catch (err) {
    log.fatal({ err }, 'Joulehub could not start');
    await shutdown('start failed', 1);
  }
}

// --- check-config --------------------------------------------------------------------------------

async function checkConfig(opts: { config?: string }): Promise<void> {
  const config = configOrExit(opts);
  const problems: string[] = [];
  for (const entry of instanceEntries(config)) {
    if (entry.enabled === false) continue;
    try {
      const def = await loadIntegration(entry, { configDir: config.configDir });
      validateInstanceConfig(def, entry);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const file = config.configFile ? path.relative(process.cwd(), config.configFile) || config.configFile : '(no config file: defaults and environment)';
  if (problems.length) {
    process.stderr.write(`joulehub: invalid configuration\n${problems.join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`OK: ${file} (${config.integrations.length} integration${config.integrations.length === 1 ? '' : 's'}; port ${config.port}, time zone ${config.tz}, ${config.databaseUrl ? 'PostgreSQL from DATABASE_URL' : `embedded PostgreSQL in ${path.join(config.dataDir, 'postgres')}`})\n`);
}

// --- import --------------------------------------------------------------------------------------

interface ImportCliOptions {
  device: string;
  units: string;
  reading?: 'interval' | 'cumulative';
  timeColumn?: string;
  valueColumn?: string;
  createDevice?: boolean;
  strict?: boolean;
  config?: string;
}

async function importFile(file: string, opts: ImportCliOptions): Promise<void> {
  const config = configOrExit(opts);
  // Logs go to stderr below the progress bar's line; only warnings unless asked for more.
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: (await import('pino')).default.destination(2) });
  const [{ createDb, migrateToLatest }, { startEmbeddedPostgres }, { createEventBus }, { HubDeviceRegistry }, { HubEntityRegistry }, importer, { default: cliProgress }, { announceRegistryChange }] = await Promise.all([
    import('./storage/db.js'),
    import('./storage/embedded.js'),
    import('./hub/bus.js'),
    import('./hub/device-registry.js'),
    import('./hub/entity-registry.js'),
    import('./import/csv-import.js'),
    import('cli-progress'),
    import('./storage/registry-notify.js'),
  ]);

  // With a running hub this connects to its embedded server; otherwise it starts one for the import.
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  const db = createDb(config.databaseUrl ?? embedded!.url, { log });
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `importing ${path.basename(file)} [{bar}] {percentage}% | {done}/{size} MB | {eta_formatted} left`,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let code = 0;
  try {
    await migrateToLatest(db, log);
    const bus = createEventBus({ log });
    const devices = await HubDeviceRegistry.load({ db, bus, log });
    const entities = await HubEntityRegistry.load({ db, bus, log, devices });
    const known = new Set(entities.list().map((e) => e.id));
    let barStarted = false;
    const mb = (n: number) => (n / 1_048_576).toFixed(1);
    const result = await importer.importCsv({ db, devices, entities, log }, path.resolve(file), {
      deviceId: opts.device,
      units: opts.units,
      ...(opts.reading ? { reading: opts.reading } : {}),
      ...(opts.timeColumn ? { timeColumn: opts.timeColumn } : {}),
      ...(opts.valueColumn ? { valueColumn: opts.valueColumn } : {}),
      ...(opts.createDevice ? { createDevice: true } : {}),
      ...(opts.strict ? { strict: true } : {}),
      onProgress(done, total) {
        if (!barStarted) {
          bar.start(total, 0, { done: mb(0), size: mb(total) });
          barStarted = true;
        }
        bar.update(done, { done: mb(done), size: mb(total) });
      },
    });
    if (barStarted) bar.stop();
    const range = result.from && result.to ? ` from ${result.from.toISOString()} to ${result.to.toISOString()}` : '';
    process.stdout.write(`imported ${result.rows} readings into ${result.entityId}${range}` +
      (result.quarantined ? `; ${result.quarantined} quarantined (see the quarantine API)` : '') +
      (result.skipped ? `; ${result.skipped} bad rows skipped` : '') + '\n');
    if (result.skipped > result.problems.length) process.stdout.write(`  (the first ${result.problems.length} are listed)\n`);
    for (const p of result.problems) process.stdout.write(`  line ${p.line}: ${p.reason}\n`);
    if (!known.has(result.entityId)) {
      // A running hub keeps its registries in memory: tell it to read the new rows.
      await announceRegistryChange(db, { device: opts.device, entity: result.entityId });
    }
  } catch (err) {
    bar.stop();
    code = 1;
    const e = err as Error & { details?: { problems?: { line: number; reason: string }[] } };
    process.stderr.write(`joulehub import: ${e.message}\n`);
    for (const p of e.details?.problems ?? []) {
      if (!e.message.includes(`line ${p.line}: ${p.reason}`)) process.stderr.write(`  line ${p.line}: ${p.reason}\n`);
    }
  } finally {
    await db.destroy().catch(() => undefined);
    await embedded?.stop();
    await flushLog(log);
  }
  process.exit(code);
}

// --- user ----------------------------------------------------------------------------------------

/** A password from a non-echoing prompt, or the first line of stdin when it is not a terminal. */
async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/u)[0] ?? '';
  }
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: stdin, output: process.stderr, terminal: true });
  // Echo nothing while the password is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  process.stderr.write(prompt);
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

/** Runs `fn` with the account services on the configured database (started if embedded). */
async function withAuth(opts: { config?: string }, fn: (auth: import('./auth/service.js').AuthService) => Promise<void>): Promise<void> {
  const config = configOrExit(opts);
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: (await import('pino')).default.destination(2) });
  const [{ createDb, migrateToLatest }, { startEmbeddedPostgres }, { createEventBus }, { HubDeviceRegistry }, { AuthService }, { systemClock }] = await Promise.all([
    import('./storage/db.js'),
    import('./storage/embedded.js'),
    import('./hub/bus.js'),
    import('./hub/device-registry.js'),
    import('./auth/service.js'),
    import('./hub/clock.js'),
  ]);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  const db = createDb(config.databaseUrl ?? embedded!.url, { log });
  let code = 0;
  try {
    await migrateToLatest(db, log);
    const devices = await HubDeviceRegistry.load({ db, bus: createEventBus({ log }), log });
    await fn(new AuthService({ db, clock: systemClock(), log, devices }));
  } catch (err) {
    code = 1;
    process.stderr.write(`joulehub user: ${(err as Error).message}\n`);
  } finally {
    await db.destroy().catch(() => undefined);
    await embedded?.stop();
    await flushLog(log);
  }
  process.exit(code);
}

async function userAdd(email: string, opts: { admin?: boolean; name?: string; config?: string }): Promise<void> {
  await withAuth(opts, async (auth) => {
    // Never from the command line: arguments end up in shell history and `ps`.
    const password = process.env.JOULEHUB_USER_PASSWORD ?? await readPassword(`password for ${email}: `);
    const role = opts.admin ? 'admin' : 'user';
    const user = await auth.users.create({ email, password, role, name: opts.name ?? null });
    await auth.record({ action: 'user_created', target: user.id, detail: { email: user.email, role, via: 'cli' } });
    process.stdout.write(`created ${role} ${user.email} (id ${user.id})\n`);
  });
}

async function userList(opts: { config?: string }): Promise<void> {
  await withAuth(opts, async (auth) => {
    const users = await auth.users.list();
    if (users.length === 0) process.stdout.write('no accounts yet; create the first admin with: joulehub user add --admin <email>\n');
    for (const u of users) process.stdout.write(`${u.id}  ${u.role.padEnd(5)}  ${u.email}${u.name ? `  (${u.name})` : ''}\n`);
  });
}

// --- the program -----------------------------------------------------------------------------------

export function buildProgram(): Command {
  const program = new Command('joulehub')
    .description('Joulehub: a self-hosted energy hub')
    .version(version())
    .showHelpAfterError();

  program.command('start')
    .description('start the hub (HTTP API and dashboard, integrations, recorder)')
    .option('--demo', 'also replay the bundled demo household')
    .option('-c, --config <file>', 'configuration file (default $JOULEHUB_CONFIG, else ./joulehub.yaml if present)')
    .action((opts: { demo?: boolean; config?: string }) => start(opts));

  program.command('check-config')
    .description('validate the configuration and every integration instance\'s options')
    .option('-c, --config <file>', 'configuration file (default $JOULEHUB_CONFIG, else ./joulehub.yaml if present)')
    .action((opts: { config?: string }) => checkConfig(opts));

  program.command('import')
    .description('import historical readings of one device from a CSV file (idempotent)')
    .argument('<file>', 'CSV file with a time column and a value column')
    .requiredOption('-d, --device <id>', 'device the readings belong to')
    .requiredOption('-u, --units <unit>', 'unit of the values: W, kW, Wh or kWh')
    .addOption(new Option('-r, --reading <type>', 'for energy units: energy per interval, or a cumulative meter reading').choices(['interval', 'cumulative']))
    .option('--time-column <name>', 'header of the time column (default datetime/time/timestamp/date)')
    .option('--value-column <name>', 'header of the value column (default value)')
    .option('--create-device', 'create the device if it does not exist')
    .option('--strict', 'validate the whole file first and store nothing if any row is bad (default: skip and list bad rows)')
    .option('-c, --config <file>', 'configuration file (for the data directory or DATABASE_URL)')
    .action((file: string, opts: ImportCliOptions) => importFile(file, opts));

  const user = program.command('user').description('manage accounts');
  user.command('add')
    .description('create an account; the password is prompted for (or read from stdin, or $JOULEHUB_USER_PASSWORD)')
    .argument('<email>', 'email address to log in with')
    .option('--admin', 'make the account an admin')
    .option('--name <name>', 'display name')
    .option('-c, --config <file>', 'configuration file (for the data directory or DATABASE_URL)')
    .action((email: string, opts: { admin?: boolean; name?: string; config?: string }) => userAdd(email, opts));
  user.command('list')
    .description('list accounts')
    .option('-c, --config <file>', 'configuration file (for the data directory or DATABASE_URL)')
    .action((opts: { config?: string }) => userList(opts));

  return program;
}

await buildProgram().parseAsync(process.argv);
