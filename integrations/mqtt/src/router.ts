/**
 * Routes every received message: size check → Home Assistant discovery (configs, then the state and
 * availability topics they announced) → generic mappings → built-in families. What a parser makes of
 * a message is applied here: devices and entities registered on first sight (in order per device),
 * readings reported, availability set, problems counted per device.
 */
import { JoulehubError, type Command, type EntityInfo, type IntegrationContext } from '@joulehub/core/sdk';
import { Commands } from './commands.js';
import type { CounterContinuity } from './counters.js';
import { Diagnostics } from './diagnostics.js';
import { discoveredAvailability, discoveredState, matchDiscoveryTopic, parseDiscovery, type DiscoveredEntity } from './families/ha-discovery.js';
import { deviceId as toDeviceId } from './ids.js';
import type { DeviceMessage, Family, ParseResult, SwitchControl } from './model.js';
import { matchTopic } from './values.js';

type Ctx = Pick<IntegrationContext, 'log' | 'clock' | 'scheduler' | 'devices' | 'entities' | 'report' | 'setAvailable'>;

/** First and longest wait (hub clock) before trying again to register a device the hub could not take. */
const REGISTER_RETRY_MIN_MS = 500;
const REGISTER_RETRY_MAX_MS = 30_000;
/**
 * Messages held in memory, all devices together, while their devices' registration waits (for the
 * database, mostly). Registering takes milliseconds, but a device publishing thousands of messages a
 * second piles them up meanwhile, more so while the database is busy: the bound is for memory
 * (a few hundred bytes a message), not for ordinary bursts.
 */
const MAX_WAITING_MESSAGES = 250_000;

interface KnownDevice {
  info: string;
  entities: Map<string, string>;
  /** Registration in progress: later messages of this device wait for it (order is kept). */
  chain?: Promise<void>;
  family: string;
  /** The device's own availability signal; unknown until it sends one. */
  available?: boolean;
}

export interface RouterOptions {
  families: Family[];
  discoveryPrefix?: string;
  maxPayloadBytes: number;
  counters: CounterContinuity;
  commandTimeoutMs: number;
  subscribe(filters: string[]): Promise<void>;
  unsubscribe(filters: string[]): Promise<void>;
}

export class Router {
  readonly diagnostics: Diagnostics;
  readonly commands: Commands;
  private readonly known = new Map<string, KnownDevice>();
  private readonly controls = new Map<string, SwitchControl>();
  private readonly switchStates = new Map<string, 'on' | 'off'>();
  private readonly discovered = new Map<string, DiscoveredEntity>();
  private readonly byStateTopic = new Map<string, Set<string>>();
  private readonly byAvailabilityTopic = new Map<string, Set<string>>();
  private readonly rejected = new Map<string, { config_topic: string; reason: string; severity: string }>();
  private discoveryRemoved = 0;
  private unmatched = { messages: 0, last_topic: '' };
  private connected = false;
  /** Messages waiting for their device's registration, all devices together. */
  private waiting = 0;

  constructor(private readonly ctx: Ctx, private readonly opts: RouterOptions) {
    this.diagnostics = new Diagnostics(ctx.log, () => ctx.clock.now());
    this.commands = new Commands(ctx, opts.commandTimeoutMs);
  }

  /** Topic filters the families need (discovery adds state topics as configs arrive). */
  baseSubscriptions(): string[] {
    const out = new Set(this.opts.families.flatMap((f) => f.subscriptions));
    if (this.opts.discoveryPrefix) out.add(`${this.opts.discoveryPrefix}/#`);
    return [...out];
  }

  // --- messages ------------------------------------------------------------------------------------

  handle(topic: string, buf: Buffer): void {
    if (buf.length > this.opts.maxPayloadBytes) {
      const id = this.deviceOfTopic(topic);
      this.diagnostics.device(id).messages++;
      this.diagnostics.problem(id, topic, { kind: 'oversized', detail: `${buf.length} bytes (limit ${this.opts.maxPayloadBytes})` });
      return;
    }
    const payload = buf.toString('utf8');
    const prefix = this.opts.discoveryPrefix;
    if (prefix && topic.startsWith(`${prefix}/`)) {
      if (matchDiscoveryTopic(topic, prefix)) this.onDiscovery(topic, payload);
      return; // HA's own state topics under the prefix (birth messages, statestream) are not devices
    }
    const states = this.byStateTopic.get(topic);
    const avail = this.byAvailabilityTopic.get(topic);
    if (states || avail) {
      for (const id of states ?? []) this.onDiscoveredState(id, topic, payload);
      for (const id of avail ?? []) this.onDiscoveredAvailability(id, topic, payload);
      return;
    }
    for (const family of this.opts.families) {
      const res = family.parse(topic, payload);
      if (res) {
        this.apply(family.id, topic, res);
        return;
      }
    }
    this.unmatched.messages++;
    this.unmatched.last_topic = topic;
  }

  /**
   * The devices a concrete topic belongs to, as far as the router can tell (the embedded broker's
   * subscription check): topics discovery announced, known command topics, then what the families
   * parse. Empty when none of them names a device.
   */
  devicesOfTopic(topic: string): string[] {
    const ids = new Set<string>();
    for (const d of [...(this.byStateTopic.get(topic) ?? []), ...(this.byAvailabilityTopic.get(topic) ?? [])]) {
      const e = this.discovered.get(d);
      if (e) ids.add(e.device.id);
    }
    for (const [entityId, control] of this.controls) if (control.topic === topic) ids.add(entityId.slice(0, entityId.lastIndexOf('.')));
    if (ids.size) return [...ids];
    for (const family of this.opts.families) {
      const res = family.parse(topic, '');
      if (res?.kind === 'devices') return [...new Set(res.messages.map((m) => m.device.id))];
      if (res?.kind === 'unknown' && res.deviceId) return [res.deviceId];
      if (res) break;
    }
    return [];
  }

  private deviceOfTopic(topic: string): string {
    for (const family of this.opts.families) {
      const res = family.parse(topic, '');
      if (res?.kind === 'devices' && res.messages[0]) return res.messages[0].device.id;
      if (res?.kind === 'unknown' && res.deviceId) return res.deviceId;
      if (res) break;
    }
    return toDeviceId(topic.split('/').slice(0, 2).join('_'));
  }

  private apply(family: string, topic: string, res: ParseResult): void {
    if (res.kind === 'ignored') return;
    if (res.kind === 'unknown') {
      const id = res.deviceId ?? this.deviceOfTopic(topic);
      this.diagnostics.device(id).messages++;
      this.diagnostics.problem(id, topic, res.problem);
      return;
    }
    for (const msg of res.messages) this.applyDevice(family, topic, msg);
  }

  private applyDevice(family: string, topic: string, msg: DeviceMessage): void {
    const id = msg.device.id;
    const counters = this.diagnostics.device(id);
    counters.messages++;
    for (const p of msg.problems) this.diagnostics.problem(id, topic, p);
    let dev = this.known.get(id);
    if (!dev && msg.entities.length === 0) {
      // Nothing to record yet (an LWT before the first reading): remember the availability only.
      if (msg.available !== undefined) this.known.set(id, { info: '', entities: new Map(), family, available: msg.available });
      return;
    }
    if (!dev) {
      dev = { info: '', entities: new Map(), family };
      this.known.set(id, dev);
    }
    if (dev.chain || this.missing(dev, msg)) {
      const d = dev;
      if (this.waiting >= MAX_WAITING_MESSAGES) {
        // Devices have not been registered for a long time: memory stays bounded.
        this.diagnostics.problem(id, topic, { kind: 'unsupported', detail: `dropped: ${MAX_WAITING_MESSAGES} messages already wait for their devices to be registered (is the database reachable?)` });
        return;
      }
      this.waiting++;
      // Readings without a time of their own are taken at receipt, not whenever they get delivered.
      const receivedAt = this.ctx.clock.now();
      for (const r of msg.readings) r.at ??= receivedAt;
      const prev = d.chain ?? Promise.resolve();
      const next: Promise<void> = prev
        .then(async () => {
          if (await this.registerUntilDone(d, msg, topic)) this.deliver(d, msg);
        })
        .catch((err: unknown) => this.ctx.log.error({ err, deviceId: id }, 'delivering an MQTT message failed'))
        .finally(() => {
          this.waiting--;
          if (d.chain === next) d.chain = undefined;
        });
      d.chain = next;
      return;
    }
    this.deliver(dev, msg);
  }

  /**
   * Registers what the message needs, trying again with backoff (on the hub clock) while the hub
   * cannot take it — its database is unreachable, say: the message and the device's later ones
   * wait, in order, and are delivered then. Nothing is lost to a passing outage. False when the
   * hub refuses the device or entity itself (an invalid description): that message is counted
   * and its readings dropped, the next message tries again.
   */
  private async registerUntilDone(dev: KnownDevice, msg: DeviceMessage, topic: string): Promise<boolean> {
    for (let delay = REGISTER_RETRY_MIN_MS, attempt = 1; ; delay = Math.min(delay * 2, REGISTER_RETRY_MAX_MS), attempt++) {
      if (!this.missing(dev, msg)) return true;
      try {
        await this.register(dev, msg);
        if (attempt > 1) this.ctx.log.info({ deviceId: msg.device.id, attempts: attempt }, 'MQTT device registered after the hub could take it again');
        return true;
      } catch (err) {
        if (err instanceof JoulehubError && err.code !== 'DEVICE_NOT_FOUND') {
          this.diagnostics.problem(msg.device.id, topic, { kind: 'unsupported', detail: `the hub refused the device: ${err.message}` });
          return false;
        }
        // The device was deleted between its upsert and an entity's registration: upsert it again.
        if (err instanceof JoulehubError) dev.info = '';
        if (attempt === 1 || delay === REGISTER_RETRY_MAX_MS) {
          this.ctx.log.warn({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code }, deviceId: msg.device.id, retryInMs: delay, waiting: this.waiting },
            'cannot register an MQTT device now; its messages wait in memory and registering is tried again');
        }
        await new Promise<void>((resolve) => { this.ctx.scheduler.after(delay, resolve); });
      }
    }
  }

  /**
   * True when the message needs a device upsert or an entity registration first. The hot path checks
   * keys only: a family describes a key the same way every time; discovery re-announcements that
   * change an entity clear its key first (see onDiscovery).
   */
  private missing(dev: KnownDevice, msg: DeviceMessage): boolean {
    if (dev.info === '') return true;
    for (const e of msg.entities) if (!dev.entities.has(e.key)) return true;
    return false;
  }

  private async register(dev: KnownDevice, msg: DeviceMessage): Promise<void> {
    if (dev.info === '') {
      await this.ctx.devices.upsert(msg.device);
      dev.info = JSON.stringify(msg.device);
    }
    for (const e of uniqueEntities(msg.entities)) {
      const k = infoKey(e);
      if (dev.entities.get(e.key) === k) continue;
      await this.ctx.entities.register(msg.device.id, e);
      dev.entities.set(e.key, k);
    }
    this.ctx.log.debug({ deviceId: msg.device.id, entities: [...dev.entities.keys()] }, 'MQTT device registered');
    // The broker or the device said offline before the entities existed: say it now.
    if (!this.connected || dev.available === false) this.ctx.setAvailable(msg.device.id, false);
  }

  private deliver(dev: KnownDevice, msg: DeviceMessage): void {
    const id = msg.device.id;
    if (msg.controls) for (const [key, c] of Object.entries(msg.controls)) this.controls.set(`${id}.${key}`, c);
    const epochs = msg.counters ? new Map(msg.counters.map((c) => [c.key, c.epoch])) : undefined;
    let n = 0;
    for (const r of msg.readings) {
      if (!dev.entities.has(r.key)) continue;
      let value = r.value;
      // The entity id is spelled out only where it is needed, not for every reading of the hot path.
      if (epochs?.has(r.key) && typeof value === 'number') value = this.opts.counters.adjust(`${id}.${r.key}`, value, epochs.get(r.key));
      try {
        this.ctx.report(id, r.key, value, r.at);
      } catch (err) {
        // The entity was deleted meanwhile (API): forget it, so the next message registers it again.
        dev.entities.delete(r.key);
        dev.info = '';
        this.ctx.log.warn({ err, entityId: `${id}.${r.key}` }, 'reading for an entity the hub no longer has; registering it again with the next message');
        continue;
      }
      n++;
      if (value === 'on' || value === 'off') {
        const entityId = `${id}.${r.key}`;
        this.switchStates.set(entityId, value);
        this.commands.observe(entityId, value);
      }
    }
    this.diagnostics.device(id).readings += n;
    if (msg.available !== undefined) {
      dev.available = msg.available;
      if (this.connected) this.ctx.setAvailable(id, msg.available);
    }
  }

  // --- Home Assistant discovery ------------------------------------------------------------------------

  private onDiscovery(topic: string, payload: string): void {
    const results = parseDiscovery(topic, payload, this.opts.discoveryPrefix) ?? [];
    const seen = new Set<string>();
    for (const r of results) {
      if (r.kind === 'removed') {
        this.removeDiscovered(topic);
        continue;
      }
      const id = r.kind === 'entity' ? r.entity.id : r.id;
      seen.add(id);
      if (r.kind === 'rejected') {
        this.dropDiscovered(id);
        this.rejected.set(id, { config_topic: r.configTopic, reason: r.reason, severity: r.severity });
        if (r.severity === 'reject') {
          const dev = r.deviceId ?? toDeviceId(topic.split('/').slice(-3, -1).join('_'));
          this.diagnostics.device(dev).messages++;
          this.diagnostics.problem(dev, topic, { kind: 'unsupported', detail: r.reason });
        } else this.ctx.log.debug({ topic, reason: r.reason }, 'discovery config skipped');
        continue;
      }
      const e = r.entity;
      const native = this.nativeFamily(e.stateTopic);
      if (native) {
        this.dropDiscovered(id);
        this.rejected.set(id, { config_topic: topic, reason: `state topic ${e.stateTopic} is read by the built-in ${native} support (counted once)`, severity: 'skip' });
        continue;
      }
      this.rejected.delete(id);
      this.dropDiscovered(id);
      this.discovered.set(id, e);
      const topics = [e.stateTopic, ...e.availability.map((a) => a.topic)];
      add(this.byStateTopic, e.stateTopic, id);
      for (const a of e.availability) add(this.byAvailabilityTopic, a.topic, id);
      if (e.unknownKeys.length) this.ctx.log.debug({ topic, unknownKeys: e.unknownKeys }, 'discovery config has keys Joulehub does not use');
      const fresh = topics.filter((t) => !this.coveredByBase(t));
      if (fresh.length) void this.opts.subscribe(fresh).catch((err: unknown) => this.ctx.log.warn({ err, topics: fresh }, 'subscribing to discovered topics failed'));
      const msg: DeviceMessage = { device: e.device, entities: [e.entity], readings: [], problems: [] };
      if (e.component === 'switch' && e.commandTopic) {
        const on = e.payloadOn;
        const off = e.payloadOff;
        msg.controls = { [e.entity.key]: { topic: e.commandTopic, payload: (c) => (c === 'turn_on' ? on : c === 'turn_off' ? off : undefined) } };
      }
      // A re-announced entity whose description changed is registered again.
      const known = this.known.get(e.device.id);
      if (known && known.entities.has(e.entity.key) && known.entities.get(e.entity.key) !== infoKey(e.entity)) known.entities.delete(e.entity.key);
      this.applyDevice('home_assistant', topic, msg);
      this.diagnostics.device(e.device.id).messages--; // a config is not a device message
    }
    // A device-based config that no longer lists a component removes it.
    for (const [id, e] of this.discovered) if (e.configTopic === topic && !seen.has(id) && results.every((r) => r.kind !== 'removed')) this.dropDiscovered(id, true);
  }

  private nativeFamily(stateTopic: string): string | undefined {
    for (const f of this.opts.families) {
      if (f.id === 'mapping') continue;
      const res = f.parse(stateTopic, '');
      if (res && res.kind !== 'unknown') return f.id;
    }
    return undefined;
  }

  private coveredByBase(topic: string): boolean {
    return this.baseSubscriptions().some((f) => matchTopic(f, topic) !== null);
  }

  private removeDiscovered(configTopic: string): void {
    for (const [id, e] of [...this.discovered]) if (e.configTopic === configTopic) this.dropDiscovered(id, true);
    for (const [id, r] of [...this.rejected]) if (r.config_topic === configTopic) this.rejected.delete(id);
  }

  private dropDiscovered(id: string, removed = false): void {
    const e = this.discovered.get(id);
    if (!e) return;
    this.discovered.delete(id);
    const gone: string[] = [];
    for (const [map, topic] of [[this.byStateTopic, e.stateTopic] as const, ...e.availability.map((a) => [this.byAvailabilityTopic, a.topic] as const)]) {
      const set = map.get(topic);
      set?.delete(id);
      if (set && set.size === 0) {
        map.delete(topic);
        if (!this.byStateTopic.has(topic) && !this.byAvailabilityTopic.has(topic) && !this.coveredByBase(topic)) gone.push(topic);
      }
    }
    if (gone.length) void this.opts.unsubscribe(gone).catch(() => undefined);
    if (removed) {
      this.discoveryRemoved++;
      this.controls.delete(`${e.device.id}.${e.entity.key}`);
      // The entity stays in the registry with its history; it is shown unavailable.
      if (this.known.get(e.device.id)?.entities.has(e.entity.key)) this.ctx.setAvailable(e.device.id, false, e.entity.key);
      this.ctx.log.info({ deviceId: e.device.id, key: e.entity.key }, 'discovered entity removed');
    }
  }

  private onDiscoveredState(id: string, topic: string, payload: string): void {
    const e = this.discovered.get(id);
    if (!e) return;
    const msg: DeviceMessage = { device: e.device, entities: [e.entity], readings: [], problems: [] };
    const s = discoveredState(e, payload);
    if (s && 'problem' in s) msg.problems.push({ kind: payload.trim().startsWith('{') || !e.template?.path ? 'wrong_type' : 'malformed', detail: s.problem });
    else if (s) msg.readings.push({ key: e.entity.key, value: s.value });
    this.applyDevice('home_assistant', topic, msg);
  }

  private onDiscoveredAvailability(id: string, _topic: string, payload: string): void {
    const e = this.discovered.get(id);
    if (!e) return;
    for (const a of e.availability) {
      if (a.topic !== _topic) continue;
      const v = discoveredAvailability(a, payload);
      if (v === undefined) continue;
      if (this.connected && this.known.get(e.device.id)?.entities.has(e.entity.key)) this.ctx.setAvailable(e.device.id, v, e.entity.key);
    }
  }

  // --- broker connection, commands, diagnostics ----------------------------------------------------------

  /** The broker went away (false) or came back (true): every device follows. */
  setConnected(up: boolean): void {
    this.connected = up;
    for (const [id, dev] of this.known) {
      if (dev.entities.size === 0) continue;
      // Coming back: only devices not known to be offline themselves; retained LWTs correct the rest.
      this.ctx.setAvailable(id, up ? dev.available !== false : false);
    }
  }

  async command(command: Command, publish: ((topic: string, payload: string) => Promise<void>) | undefined): Promise<void> {
    await this.commands.send(command, this.controls.get(command.entityId), this.switchStates.get(command.entityId), this.connected ? publish : undefined);
  }

  snapshot(): Record<string, unknown> {
    return {
      devices: this.diagnostics.snapshot(),
      unmatched: { ...this.unmatched },
      discovery: {
        entities: [...this.discovered.values()].map((e) => ({ config_topic: e.configTopic, entity_id: `${e.device.id}.${e.entity.key}`, state_topic: e.stateTopic, ...(e.unknownKeys.length ? { unknown_keys: e.unknownKeys } : {}) })),
        rejected: [...this.rejected.values()],
        removed: this.discoveryRemoved,
      },
      commands: {
        sent: this.commands.sent,
        confirmed: this.commands.confirmed,
        failed: this.commands.failed,
        pending: this.commands.pendingList(),
        failures: [...this.commands.failures],
      },
    };
  }

  /** Waits for every registration in progress (tests, stop). */
  async settle(): Promise<void> {
    for (;;) {
      const chains = [...this.known.values()].map((d) => d.chain).filter((c): c is Promise<void> => c !== undefined);
      if (!chains.length) return;
      await Promise.all(chains);
    }
  }
}

function infoKey(e: EntityInfo): string {
  return `${e.kind}|${e.unit ?? ''}|${e.name ?? ''}|${e.flow ?? ''}|${e.role ?? ''}`;
}

function uniqueEntities(list: EntityInfo[]): EntityInfo[] {
  return [...new Map(list.map((e) => [e.key, e])).values()];
}

function add(map: Map<string, Set<string>>, key: string, id: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(id);
}
