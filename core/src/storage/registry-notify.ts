/**
 * Registry changes made by another process — `joulehub import` creating a device and its entity
 * while the hub runs — reach the running hub through PostgreSQL NOTIFY on one channel: the hub
 * LISTENs on a connection of its own and reads the named rows into its in-memory registries, so
 * the new device shows up at once instead of after a restart.
 */
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './schema.js';

export const REGISTRY_CHANNEL = 'joulehub_registry';

export interface RegistryChange {
  device?: string;
  entity?: string;
}

/** Tells a running hub (if any) that these rows were written by this process. */
export async function announceRegistryChange(db: Kysely<Database>, change: RegistryChange): Promise<void> {
  await sql`select pg_notify(${REGISTRY_CHANNEL}, ${JSON.stringify(change)})`.execute(db);
}

export interface RegistryListener {
  /** Resolves once the first LISTEN is in place (never rejects; it keeps trying). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * LISTENs for registry changes on a dedicated connection, reconnecting with backoff (1 s … 30 s)
 * when it is lost. `onChange` gets each change; `onReconnected` is called after a reconnect, when
 * changes may have been missed (the caller reloads what it holds).
 */
export function listenRegistryChanges(opts: {
  url: string;
  log: Logger;
  onChange(change: RegistryChange): void | Promise<void>;
  onReconnected?(): void | Promise<void>;
}): RegistryListener {
  const log = opts.log.child({ component: 'registry-listener' });
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let delay = 1_000;
  let connectedOnce = false;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => { markReady = resolve; });

  const handle = (msg: pg.Notification) => {
    if (msg.channel !== REGISTRY_CHANNEL || !msg.payload) return;
    let change: RegistryChange;
    try {
      change = JSON.parse(msg.payload) as RegistryChange;
    } catch {
      log.warn({ payload: msg.payload.slice(0, 200) }, 'ignoring an unreadable registry notification');
      return;
    }
    void Promise.resolve(opts.onChange(change)).catch((err: unknown) => log.warn({ err, change }, 'could not read a changed registry row'));
  };

  const connect = async (): Promise<void> => {
    retry = undefined;
    if (closed) return;
    const c = new pg.Client({ connectionString: opts.url, application_name: 'joulehub-listen' });
    c.on('notification', handle);
    c.on('error', (err) => {
      log.warn({ err: { message: err.message } }, 'registry listener connection lost; reconnecting');
      drop(c);
    });
    c.on('end', () => drop(c));
    try {
      await c.connect();
      await c.query(`listen ${REGISTRY_CHANNEL}`);
    } catch (err) {
      log.debug({ err: { message: (err as Error).message } }, 'registry listener cannot connect yet');
      drop(c);
      return;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    delay = 1_000;
    if (connectedOnce) await Promise.resolve(opts.onReconnected?.()).catch((err: unknown) => log.warn({ err }, 'reloading the registries after a reconnect failed'));
    connectedOnce = true;
    markReady();
  };

  function drop(c: pg.Client): void {
    c.removeAllListeners('notification');
    void c.end().catch(() => undefined);
    if (client === c) client = undefined;
    if (closed || retry) return;
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
    delay = Math.min(delay * 2, 30_000);
  }

  void connect();
  return {
    ready,
    async close() {
      closed = true;
      markReady();
      clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
