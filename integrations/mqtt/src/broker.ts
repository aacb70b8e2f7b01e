/**
 * The embedded broker (aedes 1.x) for installs without one: devices point at the hub directly.
 * Optional username/password for devices (aedes' authenticate hook; return code 4 = bad credentials).
 * aedes speaks MQTT 3.1/3.1.1 only.
 */
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';

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
}

function same(a: string, b: Buffer | undefined): boolean {
  if (!b) return false;
  const x = Buffer.from(a);
  return x.length === b.length && timingSafeEqual(x, b);
}

/** Starts the broker; rejects with the listen error (`code` EADDRINUSE when the port is taken). */
export async function startBroker(opts: BrokerOptions): Promise<EmbeddedBroker> {
  const needAuth = Boolean(opts.username || opts.password);
  const broker = await Aedes.createBroker({
    ...(needAuth
      ? {
          authenticate(_client, username, password, done) {
            if (username === (opts.username ?? '') && same(opts.password ?? '', password)) return done(null, true);
            const err = new Error('bad username or password') as AuthenticateError;
            err.returnCode = 4;
            done(err, false);
          },
        }
      : {}),
  });
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
