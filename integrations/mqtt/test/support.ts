/**
 * A real hub on a fresh test database with the MQTT integration handed in, real brokers (the
 * embedded aedes, a private Mosquitto process, the shared Mosquitto at 127.0.0.1:1883) and real
 * clients (mqtt.js, mosquitto_pub).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { describe, it } from 'vitest';
import { createHub, type JoulehubHub } from '../../../core/src/hub/hub.js';
import { ManualClock } from '../../../core/src/hub/clock.js';
import { silentLogger } from '../../../core/src/hub/logger.js';
import type { HubConfig, IntegrationConfig } from '../../../core/src/hub/types.js';
import { createTestDatabase, type TestDatabase } from '../../../core/test/support/db.js';
import mqttIntegration from '../src/index.js';
import type { IntegrationDefinition } from '@joulehub/core/sdk';

export const T0 = Date.parse('2026-03-02T10:00:00Z');

export const uid = (prefix = 'jh'): string => `${prefix}${randomBytes(4).toString('hex')}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Polls `fn` (real time) until it returns a truthy value; throws with `what` after `ms`. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface MqttHub {
  hub: JoulehubHub;
  clock: ManualClock;
  db: TestDatabase;
  /** Diagnostics of the MQTT instance. */
  diagnostics(): Promise<Record<string, any>>;
  state(entityId: string): { value: number | null; text: string | null; available: boolean } | undefined;
  /** Flushes, then [time, value] of every stored sample of the entity. */
  samples(entityId: string): Promise<[number, number | null][]>;
  /** Σ kWh of the entity's ledger. */
  ledgerKwh(entityId: string): Promise<number>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function mqttEntry(config: Record<string, unknown>): IntegrationConfig {
  return { id: 'mqtt', name: 'mqtt', config };
}

export async function startMqttHub(opts: {
  dbUrl: string;
  config?: Record<string, unknown>;
  /** Full hub config override (wiring tests). */
  hubConfig?: Partial<HubConfig>;
  at?: number;
  log?: Logger;
  byPackage?: boolean;
}): Promise<MqttHub> {
  const dir = mkdtempSync(join(tmpdir(), 'jh-mqtt-'));
  const db = await createTestDatabase(opts.dbUrl);
  const config: HubConfig = {
    port: 0, host: '127.0.0.1', dataDir: dir, tz: 'UTC', logLevel: 'silent', configDir: dir,
    integrations: opts.config ? [mqttEntry(opts.config)] : [],
    demo: false,
    ...opts.hubConfig,
  };
  const boot = async () => {
    const clock = new ManualClock(opts.at ?? T0);
    const hub = await createHub(config, {
      clock, databaseUrl: db.url, log: opts.log ?? silentLogger(),
      // By default the definition is handed in; `byPackage` loads @joulehub/integration-mqtt the way `npm start` does.
      ...(opts.byPackage ? {} : {
        loadIntegration: async (e: IntegrationConfig) => {
          if (e.id !== 'mqtt') throw new Error(`unexpected integration ${e.id}`);
          return mqttIntegration as unknown as IntegrationDefinition;
        },
      }),
    });
    await hub.start();
    return { hub, clock };
  };
  const h: MqttHub = {
    ...(await boot()),
    db,
    async diagnostics() {
      return ((await h.hub.diagnostics('mqtt')) ?? {}) as Record<string, any>;
    },
    state(entityId) {
      const s = h.hub.states.get(entityId);
      return s ? { value: s.value, text: s.text, available: s.available } : undefined;
    },
    async samples(entityId) {
      await h.hub.flush();
      const rows = await h.hub.db.selectFrom('samples').select(['time', 'value']).where('entity_id', '=', entityId).orderBy('time').execute();
      return rows.map((r) => [new Date(r.time).getTime(), r.value]);
    },
    async ledgerKwh(entityId) {
      await h.hub.flush();
      const rows = await h.hub.db.selectFrom('energy_15m').select(['kwh']).where('entity_id', '=', entityId).execute();
      return rows.reduce((s, r) => s + Number(r.kwh), 0);
    },
    async restart() {
      await h.hub.stop();
      Object.assign(h, await boot());
    },
    async close() {
      await h.hub.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** An mqtt.js client (protocol v4) that acts as a device or a load generator. */
export async function client(url: string, opts: { username?: string; password?: string; clientId?: string; ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 100, clientId: opts.clientId ?? uid('jhdev'), ...opts });
}

export function mosquittoPub(url: { host: string; port: number }, topic: string, payload: string, extra: string[] = []): void {
  const r = spawnSync('mosquitto_pub', ['-h', url.host, '-p', String(url.port), '-q', '1', '-t', topic, '-m', payload, ...extra], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`mosquitto_pub failed: ${r.stderr || r.error?.message}`);
}

// --- Mosquitto ------------------------------------------------------------------------------------

export const SHARED_MOSQUITTO = { host: '127.0.0.1', port: 1883 };

async function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Why the shared Mosquitto cannot be used (undefined when it can). Under CI its absence is a failure. */
export async function mosquittoSkipReason(): Promise<string | undefined> {
  if (await reachable(SHARED_MOSQUITTO.host, SHARED_MOSQUITTO.port)) return undefined;
  return `no MQTT broker at ${SHARED_MOSQUITTO.host}:${SHARED_MOSQUITTO.port} (start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf)`;
}

export function hasMosquittoBinary(): boolean {
  return spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).error === undefined;
}

/**
 * describe() that needs Mosquitto: skips with a printed reason when it is missing and CI is not
 * set; under CI the suite runs and fails loudly.
 */
export function describeMosquitto(name: string, reason: string | undefined, fn: () => void): void {
  if (reason && !process.env.CI) {
    process.stderr.write(`[joulehub tests] skipping "${name}": ${reason}\n`);
    describe.skip(name, () => {
      it(`needs Mosquitto: ${reason}`, () => undefined);
    });
    return;
  }
  describe(name, () => {
    if (reason) it('has Mosquitto (required under CI)', () => {
      throw new Error(reason);
    });
    fn();
  });
}

/** A private Mosquitto process with on-disk persistence, on a free port (restartable). */
export interface PrivateMosquitto { port: number; url: string; start(): Promise<void>; stop(): Promise<void>; remove(): Promise<void> }

/** A TLS listener instead of plain MQTT: PEM files readable by the mosquitto user (see testCertificates). */
export interface MosquittoTls {
  cafile: string;
  certfile: string;
  keyfile: string;
  /** Mutual TLS: clients must present a certificate signed by `cafile`. */
  requireCertificate?: boolean;
}

export async function privateMosquitto(opts: { tls?: MosquittoTls } = {}): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'jh-mosq-'));
  // Started as root, mosquitto drops to its own user: it must be able to write its persistence here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const tls = opts.tls
    ? [`cafile ${opts.tls.cafile}`, `certfile ${opts.tls.certfile}`, `keyfile ${opts.tls.keyfile}`,
      `require_certificate ${opts.tls.requireCertificate ? 'true' : 'false'}`]
    : [];
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`, ...tls, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`,
    'autosave_interval 1', 'max_queued_messages 100000', `log_dest file ${dir}/mosquitto.log`, '',
  ].join('\n'));
  let proc: ChildProcess | undefined;
  const m: PrivateMosquitto = {
    port,
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    async start() {
      proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
      await waitFor(`mosquitto on port ${port}`, () => reachable('127.0.0.1', port), 10_000);
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM'); // saves the persistence file on the way out
      await exited;
    },
    async remove() {
      await m.stop();
      if (!process.env.KEEP_MOSQ) rmSync(dir, { recursive: true, force: true });
    },
  };
  await m.start();
  return m;
}

// --- TLS certificates -----------------------------------------------------------------------------

/** PEM files of a throwaway PKI made with openssl (paths). */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the server and client certificates. */
  ca: string;
  /** Another CA, which signed nothing here (the "wrong CA"). */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
}

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { encoding: 'utf8' }).error === undefined;
}

/**
 * A CA, a server certificate for 127.0.0.1 / localhost and a client certificate, all signed by that
 * CA, plus an unrelated second CA; in a temp dir readable by the mosquitto user (it drops root).
 */
export function testCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'jh-tls-'));
  chmodSync(dir, 0o755);
  const days = ['-days', '2'];
  const ca = (name: string) => openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, ...days, '-subj', `/CN=Joulehub test ${name}`]);
  ca('ca');
  ca('other-ca');
  const signed = (name: string, cn: string, ext: string) => {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, ...days, '-extfile', `${name}.ext`]);
  };
  signed('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'joulehub-hub', 'extendedKeyUsage=clientAuth\n');
  for (const f of ['ca.pem', 'other-ca.pem', 'server.pem', 'server.key', 'client.pem', 'client.key']) chmodSync(join(dir, f), 0o644);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
