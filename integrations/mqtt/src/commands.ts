/**
 * Switch commands: published at QoS 1, then pending until the device confirms the state it was
 * asked for; no confirmation within the timeout → a recorded failure (diagnostics) and a log line.
 * The state itself only ever comes from the device.
 */
import { JoulehubError, type Command, type IntegrationContext, type ScheduledTask } from '@joulehub/core/sdk';
import type { SwitchControl } from './model.js';

export interface CommandFailure { entity_id: string; command: string; at: string; reason: string }

interface Pending { command: Command; expected: 'on' | 'off' | undefined; sentAt: number; timer: ScheduledTask }

const KEEP_FAILURES = 50;

export class Commands {
  private readonly pending = new Map<string, Pending>();
  readonly failures: CommandFailure[] = [];
  sent = 0;
  confirmed = 0;
  failed = 0;

  constructor(
    private readonly ctx: Pick<IntegrationContext, 'log' | 'clock' | 'scheduler'>,
    private readonly timeoutMs: number,
  ) {}

  /** Publishes the family's command; throws a coded error (the API's COMMAND_FAILED) when it cannot. */
  async send(
    command: Command,
    control: SwitchControl | undefined,
    current: 'on' | 'off' | undefined,
    publish: ((topic: string, payload: string) => Promise<void>) | undefined,
  ): Promise<void> {
    if (!control) throw this.refuse(command, 'MQTT_NOT_CONTROLLABLE', `${command.entityId} has no known command topic yet (the device has not reported its switch state)`);
    const payload = control.payload(command.command);
    if (payload === undefined) throw this.refuse(command, 'MQTT_COMMAND_UNSUPPORTED', `${command.command} is not supported by ${command.entityId}`);
    if (!publish) throw this.refuse(command, 'MQTT_DISCONNECTED', 'not connected to the MQTT broker');
    const expected = command.command === 'turn_on' ? 'on' : command.command === 'turn_off' ? 'off' : current === undefined ? undefined : current === 'on' ? 'off' : 'on';
    // Pending before publishing: a quick device can answer before our publish's PUBACK is processed,
    // and that answer must count as the confirmation.
    this.pending.get(command.entityId)?.timer.stop(); // superseded by this newer command
    const timer = this.ctx.scheduler.after(this.timeoutMs, () => this.timeout(command.entityId));
    const entry: Pending = { command, expected, sentAt: this.ctx.clock.now(), timer };
    this.pending.set(command.entityId, entry);
    try {
      await publish(control.topic, payload);
    } catch (err) {
      timer.stop();
      if (this.pending.get(command.entityId) === entry) this.pending.delete(command.entityId);
      throw this.refuse(command, 'MQTT_PUBLISH_FAILED', `publishing to ${control.topic} failed: ${(err as Error).message}`);
    }
    this.sent++;
    this.ctx.log.debug({ entityId: command.entityId, topic: control.topic, payload }, 'switch command published');
  }

  /** A switch state arrived from the device. */
  observe(entityId: string, state: 'on' | 'off'): void {
    const p = this.pending.get(entityId);
    if (!p || (p.expected !== undefined && p.expected !== state)) return;
    p.timer.stop();
    this.pending.delete(entityId);
    this.confirmed++;
  }

  pendingList(): { entity_id: string; command: string; since: string }[] {
    return [...this.pending.values()].map((p) => ({ entity_id: p.command.entityId, command: p.command.command, since: new Date(p.sentAt).toISOString() }));
  }

  stop(): void {
    for (const p of this.pending.values()) p.timer.stop();
    this.pending.clear();
  }

  private timeout(entityId: string): void {
    const p = this.pending.get(entityId);
    if (!p) return;
    this.pending.delete(entityId);
    this.record(p.command, `the device did not confirm ${p.command.command} within ${this.timeoutMs} ms`);
  }

  private refuse(command: Command, code: string, reason: string): JoulehubError {
    this.record(command, reason);
    return new JoulehubError(code, reason, { entityId: command.entityId });
  }

  private record(command: Command, reason: string): void {
    this.failed++;
    this.failures.push({ entity_id: command.entityId, command: command.command, at: new Date(this.ctx.clock.now()).toISOString(), reason });
    if (this.failures.length > KEEP_FAILURES) this.failures.shift();
    this.ctx.log.warn({ entityId: command.entityId, command: command.command, reason }, `switch command failed: ${reason}`);
  }
}
