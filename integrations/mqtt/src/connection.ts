/**
 * One MQTT client connection: reconnects with exponential backoff (min … max), subscribes again to
 * every filter on each (re)connect — a restarted broker may have lost the session — and tells its
 * owner when it goes up or down.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface ConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  persistentSession: boolean;
  qos: 0 | 1;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  onMessage(topic: string, payload: Buffer): void;
  onUp(): void;
  onDown(err?: Error): void;
}

/**
 * Stable across restarts and container re-creations (a host name is not), so the broker keeps the
 * session and its queued QoS 1 messages for the hub. Two hubs on one broker need their own client_id.
 */
export function defaultClientId(instanceId: string): string {
  return `joulehub-${instanceId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

export class Connection {
  private readonly client: MqttClient;
  private readonly filters = new Set<string>();
  private up = false;
  connects = 0;
  disconnects = 0;
  lastError: string | undefined;

  private constructor(private readonly opts: ConnectionOptions) {
    const options: IClientOptions = {
      clientId: opts.clientId,
      clean: !opts.persistentSession,
      protocolVersion: 4, // aedes refuses MQTT 5; v4 works with every broker
      reconnectPeriod: opts.reconnectMinMs,
      connectTimeout: 10_000,
      resubscribe: false, // we resubscribe ourselves on every connect
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      rejectUnauthorized: opts.rejectUnauthorized,
    };
    this.client = mqtt.connect(opts.url, options);
    this.client.on('connect', () => {
      this.up = true;
      this.connects++;
      this.client.options.reconnectPeriod = opts.reconnectMinMs;
      if (this.filters.size) this.client.subscribe([...this.filters], { qos: opts.qos }, () => undefined);
      opts.onUp();
    });
    this.client.on('close', () => {
      // Backoff: each failed attempt doubles the wait, up to the cap.
      const cur = this.client.options.reconnectPeriod ?? opts.reconnectMinMs;
      if (!this.up) this.client.options.reconnectPeriod = Math.min(opts.reconnectMaxMs, Math.max(opts.reconnectMinMs, cur * 2));
      if (this.up) {
        this.up = false;
        this.disconnects++;
        opts.onDown();
      }
    });
    this.client.on('error', (err) => {
      this.lastError = err.message;
    });
    this.client.on('message', (topic, payload) => opts.onMessage(topic, payload));
  }

  /** Connects; rejects (and stops trying) when the first connection fails within `timeoutMs`. */
  static async open(opts: ConnectionOptions, timeoutMs: number): Promise<Connection> {
    const c = new Connection(opts);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(c.lastError ?? `no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error) => {
        // Refusals (bad credentials, protocol) will not heal by retrying right away.
        if ((err as { code?: unknown }).code !== undefined && typeof (err as { code?: unknown }).code === 'number') {
          cleanup();
          reject(err);
        }
      };
      // The first attempt failed (refused, unreachable): report it now; the runner retries with backoff.
      const onClose = () => {
        cleanup();
        reject(new Error(c.lastError ?? 'connection closed'));
      };
      const cleanup = () => {
        clearTimeout(timer);
        c.client.off('connect', onConnect);
        c.client.off('error', onError);
        c.client.off('close', onClose);
      };
      c.client.on('connect', onConnect);
      c.client.on('error', onError);
      c.client.on('close', onClose);
    }).catch(async (err: unknown) => {
      await c.close();
      throw err;
    });
    return c;
  }

  get connected(): boolean {
    return this.up;
  }

  get subscriptions(): string[] {
    return [...this.filters];
  }

  async subscribe(filters: string[]): Promise<void> {
    const fresh = filters.filter((f) => !this.filters.has(f));
    for (const f of fresh) this.filters.add(f);
    if (fresh.length && this.up) await this.client.subscribeAsync(fresh, { qos: this.opts.qos });
  }

  async unsubscribe(filters: string[]): Promise<void> {
    const gone = filters.filter((f) => this.filters.delete(f));
    if (gone.length && this.up) await this.client.unsubscribeAsync(gone);
  }

  /** Publishes; resolves when the broker acknowledged it (QoS 1) or it was written (QoS 0). */
  async publish(topic: string, payload: string, qos: 0 | 1 = 1): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}
