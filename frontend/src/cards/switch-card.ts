/**
 * Switch: toggles a switch entity through the command API. The new state shows only when the
 * device confirms it (a state frame); until then the card says "switching…", and if no
 * confirmation comes within `confirmMs` it says so and shows the real state again.
 */
import { css, html } from 'lit';
import { deviceName } from './stubs.js';
import { JhCard, cardStyles } from './base.js';
import type { CardConfig, Device, Entity, EntityState } from './types.js';
import { schemaParts } from './validate.js';

export interface SwitchConfig extends CardConfig { type: 'switch'; entity: string; name?: string }

export const CONFIRM_MS = 10_000;

export class SwitchCard extends JhCard<SwitchConfig> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'entity'],
    properties: { type: { const: 'switch' }, name: schemaParts.name, entity: schemaParts.entity('Switch entity', 'a switch entity such as plug.switch') },
  };

  static override styles = [cardStyles, css`
    .row { display: flex; align-items: center; justify-content: space-between; gap: 12px; }
    button[role=switch] {
      width: 56px; height: 30px; border-radius: 15px; border: 2px solid var(--jh-border, #b9c0cc);
      background: var(--jh-track, #e6e9ef); position: relative; cursor: pointer; flex: none;
    }
    button[role=switch]::after {
      content: ''; position: absolute; top: 3px; left: 3px; width: 20px; height: 20px; border-radius: 50%;
      background: var(--jh-card-fg, #1d2430); transition: left 0.15s;
    }
    button[aria-checked=true] { background: var(--jh-accent, #1570ef); }
    button[aria-checked=true]::after { left: 29px; background: #fff; }
    button:focus-visible { outline: 3px solid var(--jh-focus, #84adff); outline-offset: 2px; }
    button[disabled] { opacity: 0.5; cursor: default; }
  `];

  static getStubConfig(entities: Entity[], devices: Device[]): SwitchConfig {
    const s = entities.find((e) => e.kind === 'switch');
    return s ? { type: 'switch', entity: s.id, name: deviceName(devices, s.device_id) } : { type: 'switch', entity: 'plug.switch' };
  }

  override getCardSize(): number { return 2; }

  /** The state asked for and not yet confirmed. */
  pending?: boolean;
  private pendingTimer?: ReturnType<typeof setTimeout>;
  private problem?: string;
  confirmMs = CONFIRM_MS;

  protected override entityIds(): string[] { return [this.config!.entity]; }

  private isOn(s: EntityState | undefined): boolean | undefined {
    if (!s || !s.available) return undefined;
    if (s.text === 'on' || s.value === 1) return true;
    if (s.text === 'off' || s.value === 0) return false;
    return undefined;
  }

  protected override statesChanged(changed: EntityState[]): void {
    if (this.pending !== undefined && this.isOn(this.state(this.config!.entity)) === this.pending) this.settle();
    super.statesChanged(changed);
  }

  private settle(problem?: string): void {
    clearTimeout(this.pendingTimer);
    this.pending = undefined;
    this.problem = problem;
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.pendingTimer);
  }

  async toggle(): Promise<void> {
    const c = this.config;
    if (!c || !this.hub || this.pending !== undefined) return;
    const on = this.isOn(this.state(c.entity));
    if (on === undefined) return;
    this.pending = !on;
    this.problem = undefined;
    this.requestUpdate();
    this.pendingTimer = setTimeout(() => this.settle('The device did not confirm the change'), this.confirmMs);
    try {
      await this.hub.api(`/entities/${encodeURIComponent(c.entity)}/command`, { method: 'POST', body: { command: this.pending ? 'turn_on' : 'turn_off' } });
    } catch (err) {
      this.settle((err as Error).message);
    }
  }

  protected renderCard(c: SwitchConfig) {
    const s = this.state(c.entity);
    const on = this.isOn(s);
    const label = c.name ?? c.entity;
    const shown = this.pending ?? on;
    const text = this.pending !== undefined ? `switching ${this.pending ? 'on' : 'off'}…` : on === undefined ? 'unavailable' : on ? 'on' : 'off';
    return html`<div class="row">
        <div><h2 id="label">${label}</h2><div class="muted state" aria-live="polite">${text}</div></div>
        <button role="switch" aria-labelledby="label" aria-checked=${shown === true ? 'true' : 'false'}
          aria-busy=${this.pending !== undefined ? 'true' : 'false'}
          ?disabled=${on === undefined || this.pending !== undefined} @click=${() => this.toggle()}></button>
      </div>
      ${this.problem ? html`<div class="problem" role="alert">${this.problem}</div>` : ''}`;
  }
}

customElements.define('jh-switch-card', SwitchCard);
