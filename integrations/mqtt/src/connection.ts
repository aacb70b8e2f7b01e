/**
 * One MQTT client connection: reconnects with exponential backoff (min … max), subscribes again to
 * every filter on each (re)connect — a restarted broker may have lost the session — and tells its
 * owner when it goes up or down.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** The TLS files given, by option name, for error messages (`{ ca: 'certs/ca.pem' }`). */
export type TlsFiles = Partial<Record<'ca' | 'cert' | 'key', string>>;

/**
 * A TLS problem, in words a user can act on. `fix` 'config': retrying cannot help (TLS files set for
 * a plain-text URL); 'retry': the handshake failed (wrong CA, refused client certificate …), which a
 * fixed file or a renewed broker certificate cures without a restart of the hub.
 */
export class MqttTlsError extends Error {
  constructor(message: string, readonly fix: 'config' | 'retry', readonly reason?: string) {
    super(message);
    this.name = 'MqttTlsError';
  }
}

const TLS_SCHEMES = new Set(['mqtts:', 'wss:', 'ssl:', 'tls:']);

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);

/** Node's TLS error (code and OpenSSL text) → what is wrong and which option fixes it; undefined = not TLS. */
export function describeTlsError(err: Error, url: string, files: TlsFiles): MqttTlsError | undefined {
  const code = String((err as { code?: unknown }).code ?? '');
  // OpenSSL's text is `<hex>:error:<hex>:SSL routines:<function>:<reason>:<source file>…`: keep the reason.
  const text0 = /SSL routines:[^:]*:([^:]+)/u.exec(err.message)?.[1] ?? err.message.split('\n')[0];
  const reason = code ? `${code}: ${text0}` : text0;
  const file = (k: keyof TlsFiles) => (files[k] ? ` (${k}: ${files[k]})` : ' (no `' + k + '` set)');
  const host = (() => {
    try {
      return new URL(url).hostname;
    } catch {
      return url;
    }
  })();
  let text: string | undefined;
  if (UNTRUSTED.has(code)) {
    text = `the broker's TLS certificate is not trusted${file('ca')}: set \`ca\` to the PEM file of the CA that signed the broker's certificate`;
  } else if (code === 'CERT_HAS_EXPIRED') {
    text = "the broker's TLS certificate has expired: renew it on the broker";
  } else if (code === 'CERT_NOT_YET_VALID') {
    text = "the broker's TLS certificate is not valid yet (check the clocks of the broker and the hub)";
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    text = `the broker's TLS certificate is not for "${host}": use a host name the certificate names in the URL`;
  } else if (/CERTIFICATE_REQUIRED|certificate required/iu.test(reason)) {
    text = 'the broker requires a client certificate: set `cert` and `key` (PEM files) to one signed by a CA the broker trusts';
  } else if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR)|alert (unknown ca|bad certificate)/iu.test(reason)) {
    text = `the broker refused the client certificate${file('cert')}: it must be signed by a CA the broker trusts`;
  } else if (/KEY_VALUES_MISMATCH|key values mismatch/iu.test(reason)) {
    text = `\`key\`${file('key')} is not the private key of \`cert\`${file('cert')}`;
  } else if (/^ERR_SSL_|^ERR_TLS_|^ERR_OSSL_|wrong version number/iu.test(code || reason)) {
    text = /wrong version number/iu.test(reason)
      ? 'the broker does not speak TLS on this port: use its TLS port (often 8883), or mqtt:// for a plain one'
      : 'the TLS handshake with the broker failed';
  }
  return text ? new MqttTlsError(`${text} [${reason.trim()}]`, 'retry', reason.trim()) : undefined;
}

export interface ConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Where ca/cert/key came from, for error messages. */
  tlsFiles?: TlsFiles;
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
  /** The last TLS failure, described (also in lastError). */
  lastTlsError: MqttTlsError | undefined;

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
      const tls = describeTlsError(err, opts.url, opts.tlsFiles ?? {});
      this.lastTlsError = tls;
      this.lastError = tls?.message ?? err.message;
    });
    this.client.on('message', (topic, payload) => opts.onMessage(topic, payload));
  }

  /** Connects; rejects (and stops trying) when the first connection fails within `timeoutMs`. */
  static async open(opts: ConnectionOptions, timeoutMs: number): Promise<Connection> {
    const files = Object.keys(opts.tlsFiles ?? {}).filter((k) => opts.tlsFiles?.[k as keyof TlsFiles]);
    if ((opts.ca || opts.cert || opts.key) && !TLS_SCHEMES.has(safeProtocol(opts.url))) {
      // Silently ignored by mqtt.js: the hub would talk plain text to a broker the user meant to reach over TLS.
      throw new MqttTlsError(`${files.join(', ') || 'ca/cert/key'} set, but ${opts.url.replace(/\/\/[^@/]*@/u, '//')} is not a TLS URL: use mqtts:// (or wss://), or remove them`, 'config');
    }
    const c = new Connection(opts);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(c.lastTlsError ?? new Error(c.lastError ?? `no connection within ${timeoutMs} ms`));
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
        reject(c.lastTlsError ?? new Error(c.lastError ?? 'connection closed'));
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

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}
