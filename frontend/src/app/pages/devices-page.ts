/** "My devices": the devices this user may see, with live power; each links to its page. */
import { html, nothing } from 'lit';
import type { Device, Entity, EntityState } from '../../cards/types.js';
import { formatEnergy, formatPower } from '../../lib/format.js';
import { JhPage, errorText, pageStyles } from '../shared.js';

/** The entity showing a device's live power: its `power` entity, else its first power entity. */
export function powerEntityOf(deviceId: string, entities: Entity[]): Entity | undefined {
  const power = entities.filter((e) => e.device_id === deviceId && e.kind === 'power');
  return power.find((e) => e.key === 'power') ?? power.find((e) => e.flow !== 'out') ?? power[0];
}

export class JhDevicesPage extends JhPage {
  static override properties = {
    ...JhPage.properties,
    devices: { state: true },
    error: { state: true },
    live: { state: true },
  };
  declare devices: Device[] | undefined;
  declare error: string | undefined;
  declare live: Map<string, EntityState>;
  private power = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;

  static override styles = [pageStyles];

  constructor() {
    super();
    this.live = new Map();
  }

  protected override async load(): Promise<void> {
    const conn = this.ctx.conn;
    if (!conn) return;
    try {
      const [devices, entities] = await Promise.all([conn.devices(), conn.entities()]);
      this.power = new Map();
      for (const d of devices) {
        const e = powerEntityOf(d.id, entities);
        if (e) this.power.set(d.id, e.id);
      }
      this.devices = devices;
      this.error = undefined;
      this.unsubscribe?.();
      this.unsubscribe = conn.subscribe([...this.power.values()], (changed) => {
        const next = new Map(this.live);
        for (const s of changed) next.set(s.entity_id, s);
        this.live = next;
      });
    } catch (err) {
      this.error = errorText(err);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.ctx && !this.unsubscribe && this.devices) void this.load();
  }

  private powerText(deviceId: string) {
    const id = this.power.get(deviceId);
    if (!id) return html`<span class="muted">no power meter</span>`;
    const s = this.live.get(id);
    if (!s) return html`<span class="muted">–</span>`;
    if (!s.available) return html`<span class="muted">unavailable</span>`;
    return s.value === null ? '–' : formatPower(s.value, this.ctx.locale);
  }

  override render() {
    if (this.error) return html`<h1>My devices</h1><p class="error" role="alert">${this.error}</p>`;
    if (!this.devices) return html`<h1>My devices</h1><p aria-busy="true">Loading…</p>`;
    return html`
      <h1>My devices</h1>
      ${this.devices.length === 0 ? html`<p>No devices are assigned to you yet. An admin assigns devices to users.</p>` : html`
        <div class="panel table-wrap">
          <table data-testid="devices">
            <thead><tr>
              <th scope="col">Device</th><th scope="col" class="hide-narrow">Id</th><th scope="col" class="hide-narrow">Address</th>
              <th scope="col" class="num hide-narrow">Max per hour</th><th scope="col" class="num">Power now</th>
            </tr></thead>
            <tbody>${this.devices.map((d) => html`
              <tr data-device=${d.id}>
                <td><a href="/devices/${encodeURIComponent(d.id)}">${d.name}</a></td>
                <td class="hide-narrow"><code>${d.id}</code></td>
                <td class="hide-narrow">${d.address ?? nothing}</td>
                <td class="num hide-narrow">${d.max_hourly_kwh !== null ? formatEnergy(d.max_hourly_kwh, this.ctx.locale) : '–'}</td>
                <td class="num" data-testid="power">${this.powerText(d.id)}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>`}`;
  }
}
customElements.define('jh-devices-page', JhDevicesPage);
