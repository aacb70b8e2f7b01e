/** Device list: the devices the user can see, each with its live power and whether it reports. */
import { css, html } from 'lit';
import { formatPower, formatRelative } from '../lib/format.js';
import { cardStyles } from './base.js';
import { DataCard } from './data-card.js';
import type { CardConfig, Device, Entity, EntityState } from './types.js';
import { schemaParts } from './validate.js';

export interface DeviceListConfig extends CardConfig { type: 'device-list'; devices?: string[]; name?: string }

interface Row { device: Device; power?: string }

export class DeviceListCard extends DataCard<DeviceListConfig, Row[]> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: 'device-list' },
      name: schemaParts.name,
      devices: schemaParts.devices('Only these devices (default: all)', 200),
    },
  };

  static override styles = [cardStyles, css`
    ul { list-style: none; margin: 0; padding: 0; overflow: auto; max-height: calc(100% - 30px); }
    li { display: flex; justify-content: space-between; gap: 8px; padding: 5px 0; border-bottom: 1px solid var(--jh-border, #eef0f4); }
    .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--jh-muted, #98a2b3); }
    .dot.ok { background: var(--jh-ok, #12b76a); }
    .dot.down { background: var(--jh-bad, #d92d20); }
    /* Fixed size, laid out alone (contain: strict): a new value relayouts and repaints this box only. */
    .power { font-variant-numeric: tabular-nums; white-space: nowrap; flex: 0 0 6.5em; height: 1.4em; text-align: right; contain: strict; }
  `];

  static getStubConfig(_entities: Entity[], _devices: Device[]): DeviceListConfig { return { type: 'device-list' }; }

  override getCardSize(): number { return Math.min(8, 2 + (this.data?.length ?? 3)); }

  protected override entityIds(): string[] {
    return (this.data ?? []).flatMap((r) => (r.power ? [r.power] : []));
  }

  protected async fetchData(c: DeviceListConfig): Promise<Row[]> {
    const [devices, entities] = await Promise.all([this.hub!.devices(), this.hub!.entities()]);
    const wanted = c.devices ? devices.filter((d) => c.devices!.includes(d.id)) : devices;
    return wanted.sort((a, b) => a.name.localeCompare(b.name)).map((device) => {
      const power = entities.find((e) => e.device_id === device.id && e.kind === 'power' && e.flow !== 'out')
        ?? entities.find((e) => e.device_id === device.id && e.kind === 'power');
      return { device, ...(power ? { power: power.id } : {}) };
    });
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    this.resubscribe(); // the rows (and so the entities) arrive with the data
  }

  /** "now", "3 seconds ago" … by whole seconds of age, each text made once (an Intl formatter per call is slow). */
  private readonly relTexts = new Map<number, string>();
  private relLocale?: string;

  private relative(t: string, now: number): string {
    const at = new Date(t).getTime();
    if (!Number.isFinite(at)) return formatRelative(t, this.locale, now);
    const seconds = Math.round((at - now) / 1000);
    if (this.relLocale !== this.locale || this.relTexts.size > 500) {
      this.relTexts.clear();
      this.relLocale = this.locale;
    }
    let text = this.relTexts.get(seconds);
    if (text === undefined) this.relTexts.set(seconds, (text = formatRelative(now + seconds * 1000, this.locale, now)));
    return text;
  }

  private rowStatus(s: EntityState | undefined, now: number): { cls: string; text: string } {
    if (!s) return { cls: '', text: 'no readings yet' };
    if (!s.available) return { cls: 'down', text: `unavailable since ${this.relative(s.last_changed, now)}` };
    return { cls: 'ok', text: `reported ${this.relative(s.last_reported, now)}` };
  }

  protected renderCard(c: DeviceListConfig) {
    const rows = this.data;
    const now = Date.now();
    return html`<h2>${c.name ?? 'Devices'}</h2>${this.status()}
      ${rows && rows.length === 0 ? html`<div class="muted">No devices yet</div>` : ''}
      <ul>${(rows ?? []).map((r) => {
        const s = r.power ? this.state(r.power) : undefined;
        const st = this.rowStatus(s, now);
        return html`<li data-device=${r.device.id}>
          <span><span class="dot ${st.cls}" aria-hidden="true"></span>${r.device.name}<br><small class="muted">${r.power ? st.text : 'no power reading'}</small></span>
          <span class="power">${s && s.available && s.value !== null ? formatPower(s.value, this.locale) : '–'}</span></li>`;
      })}</ul>`;
  }
}

customElements.define('jh-device-list-card', DeviceListCard);
