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
    .power { font-variant-numeric: tabular-nums; white-space: nowrap; }
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

  private rowStatus(s: EntityState | undefined): { cls: string; text: string } {
    if (!s) return { cls: '', text: 'no readings yet' };
    if (!s.available) return { cls: 'down', text: `unavailable since ${formatRelative(s.last_changed, this.locale)}` };
    return { cls: 'ok', text: `reported ${formatRelative(s.last_reported, this.locale)}` };
  }

  protected renderCard(c: DeviceListConfig) {
    const rows = this.data;
    return html`<h2>${c.name ?? 'Devices'}</h2>${this.status()}
      ${rows && rows.length === 0 ? html`<div class="muted">No devices yet</div>` : ''}
      <ul>${(rows ?? []).map((r) => {
        const s = r.power ? this.state(r.power) : undefined;
        const st = this.rowStatus(s);
        return html`<li data-device=${r.device.id}>
          <span><span class="dot ${st.cls}" aria-hidden="true"></span>${r.device.name}<br><small class="muted">${r.power ? st.text : 'no power reading'}</small></span>
          <span class="power">${s && s.available && s.value !== null ? formatPower(s.value, this.locale) : '–'}</span></li>`;
      })}</ul>`;
  }
}

customElements.define('jh-device-list-card', DeviceListCard);
