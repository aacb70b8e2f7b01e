/**
 * The embedded broker (aedes 1.x) for installs without one: devices point at the hub directly.
 * Who may log in and what they may do: broker-auth.ts (a fixed device login, or hub accounts and API
 * tokens with `require_auth`). aedes speaks MQTT 3.1/3.1.1 only.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import type { CredentialVerifier } from '@joulehub/core/sdk';
import type { Logger } from 'pino';
import { brokerAuthHooks, type BrokerLogin } from './broker-auth.js';
import type { TopicDevices } from './topic-devices.js';

export interface EmbeddedBroker {
  port: number;
  /** Stops accepting connections and disconnects every client. */
  close(): Promise<void>;
}

export interface BrokerOptions {
  port: number;
  host: string;
  username?: string;
  password?: string;
  /** The hub's own client's login (hubLogin()). */
  hub: BrokerLogin;
  /** Devices must log in with a hub account or an API token (`mqtt.require_auth`). */
  requireAuth?: boolean;
  credentials?: CredentialVerifier;
  /** Which devices a subscription reaches (topic-devices.ts); a getter, as the router starts after the broker. */
  topicDevices?: () => TopicDevices | undefined;
  log: Logger;
}

/** Starts the broker; rejects with the listen error (`code` EADDRINUSE when the port is taken). */
export async function startBroker(opts: BrokerOptions): Promise<EmbeddedBroker> {
  const device = opts.username || opts.password ? { username: opts.username ?? '', password: opts.password ?? '' } : undefined;
  const broker = await Aedes.createBroker(brokerAuthHooks({
    hub: opts.hub,
    ...(device ? { device } : {}),
    requireAuth: opts.requireAuth ?? false,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.topicDevices ? { topicDevices: opts.topicDevices } : {}),
    log: opts.log,
  }));
  const server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  }
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await closed;
      })();
      return closing;
    },
  };
}
