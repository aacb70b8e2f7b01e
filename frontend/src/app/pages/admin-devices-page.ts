/** Admin: every device (or orphans, or one user's), create/edit/delete, assign and unassign owners. */
import { html, nothing } from 'lit';
import type { Device } from '../../cards/types.js';
import { query } from '../../lib/api.js';
import { JhPage, errorText, formData, pageStyles } from '../shared.js';

type AdminDevice = Device & { owner?: string | null };
interface UserWire { id: string; email: string }

const FIELDS = ['name', 'description', 'address', 'max_hourly_kwh'] as const;

export class JhAdminDevicesPage extends JhPage {
  static override properties = {
    ...JhPage.properties,
    devices: { state: true }, users: { state: true }, error: { state: true }, editing: { state: true },
  };
  declare devices: AdminDevice[] | undefined;
  declare users: UserWire[];
  declare error: string | undefined;
  declare editing: string | undefined;
  static override styles = [pageStyles];

  constructor() {
    super();
    this.users = [];
  }

  private get filter(): { orphans?: boolean; owner?: string } {
    if (this.query.get('orphans') === 'true') return { orphans: true };
    const owner = this.query.get('owner');
    return owner ? { owner } : {};
  }

  protected override async load(): Promise<void> {
    try {
      const [devices, users] = await Promise.all([
        this.ctx.client.get<{ data: AdminDevice[] }>(`/devices${query(this.filter)}`),
        this.ctx.client.get<{ data: UserWire[] }>('/users'),
      ]);
      this.devices = devices.data;
      this.users = users.data;
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async act(fn: () => Promise<unknown>, done: string): Promise<boolean> {
    try {
      await fn();
      this.ctx.conn?.invalidate();
      this.ctx.toast(done);
      this.error = undefined;
      await this.load();
      return true;
    } catch (err) {
      this.error = errorText(err);
      return false;
    }
  }

  private fields(f: Record<string, string>, d?: AdminDevice): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const k of FIELDS) {
      const raw = (f[k] ?? '').trim();
      const value = k === 'max_hourly_kwh' ? (raw === '' ? null : Number(raw)) : raw === '' ? null : raw;
      if (k === 'name' && value === null) continue;
      if (!d || value !== (d[k] ?? null)) {
        if (d || value !== null) body[k] = value;
      }
    }
    return body;
  }

  private async create(ev: Event): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const f = formData(form);
    const ok = await this.act(async () => {
      await this.ctx.client.post('/devices', { id: f.id, ...this.fields(f) });
      if (f.owner) await this.ctx.client.patch(`/devices/${encodeURIComponent(f.id!)}`, { owner: f.owner });
    }, `Device ${f.id} created`);
    if (ok) form.reset();
  }

  private async save(ev: Event, d: AdminDevice): Promise<void> {
    ev.preventDefault();
    const body = this.fields(formData(ev.target as HTMLFormElement), d);
    if (Object.keys(body).length === 0) {
      this.editing = undefined;
      return;
    }
    if (await this.act(() => this.ctx.client.patch(`/devices/${encodeURIComponent(d.id)}`, body), `Saved ${d.id}`)) this.editing = undefined;
  }

  private async assign(d: AdminDevice, owner: string): Promise<void> {
    const email = this.users.find((u) => u.id === owner)?.email;
    await this.act(() => this.ctx.client.patch(`/devices/${encodeURIComponent(d.id)}`, { owner: owner || null }),
      owner ? `${d.name} assigned to ${email}` : `${d.name} is now an orphan`);
  }

  private async removeDevice(d: AdminDevice): Promise<void> {
    if (!confirm(`Delete ${d.name} (${d.id}) with all its readings and energy?`)) return;
    await this.act(() => this.ctx.client.delete(`/devices/${encodeURIComponent(d.id)}`), `Deleted ${d.id}`);
  }

  private ownerSelect(d: AdminDevice) {
    return html`<select aria-label="Owner of ${d.name}" @change=${(e: Event) => this.assign(d, (e.target as HTMLSelectElement).value)}>
      <option value="" ?selected=${!d.owner}>— none (orphan) —</option>
      ${this.users.map((u) => html`<option value=${u.id} ?selected=${d.owner === u.id}>${u.email}</option>`)}
    </select>`;
  }

  private row(d: AdminDevice) {
    if (this.editing === d.id) {
      return html`<tr><td colspan="4"><form class="row" @submit=${(e: Event) => this.save(e, d)} aria-label="Edit ${d.id}">
        <label>Name <input name="name" required .value=${d.name} /></label>
        <label>Description <input name="description" .value=${d.description ?? ''} /></label>
        <label>Address <input name="address" .value=${d.address ?? ''} /></label>
        <label>Max kWh per hour <input name="max_hourly_kwh" type="number" min="0" step="any" .value=${d.max_hourly_kwh === null ? '' : String(d.max_hourly_kwh)} /></label>
        <button type="submit">Save</button>
        <button type="button" class="secondary" @click=${() => { this.editing = undefined; }}>Cancel</button>
      </form></td></tr>`;
    }
    return html`<tr data-device=${d.id}>
      <td><a href="/devices/${encodeURIComponent(d.id)}">${d.name}</a><div class="muted"><code>${d.id}</code></div></td>
      <td class="hide-narrow">${d.address ?? ''}</td>
      <td>${this.ownerSelect(d)}</td>
      <td><div class="row">
        <button type="button" class="secondary" @click=${() => { this.editing = d.id; }} aria-label="Edit ${d.id}">Edit</button>
        <button type="button" class="danger" @click=${() => this.removeDevice(d)} aria-label="Delete ${d.id}">Delete</button>
      </div></td>
    </tr>`;
  }

  override render() {
    const f = this.filter;
    const ownerEmail = f.owner ? this.users.find((u) => u.id === f.owner)?.email ?? f.owner : undefined;
    return html`
      <h1>${f.orphans ? 'Orphan devices' : ownerEmail ? `Devices of ${ownerEmail}` : 'All devices'}</h1>
      <p class="row">
        <a href="/admin/devices">All</a> · <a href="/admin/devices?orphans=true">Orphans (no owner)</a>
      </p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${!this.devices ? html`<p aria-busy="true">Loading…</p>` : html`
        <div class="panel table-wrap"><table data-testid="admin-devices">
          <thead><tr><th scope="col">Device</th><th scope="col" class="hide-narrow">Address</th><th scope="col">Owner</th><th scope="col">Actions</th></tr></thead>
          <tbody>${this.devices.map((d) => this.row(d))}</tbody>
        </table>${this.devices.length === 0 ? html`<p>No devices.</p>` : nothing}</div>`}
      <section class="panel">
        <h2 style="margin-top:0">Add a device</h2>
        <form class="stack" @submit=${this.create}>
          <label>Id (lower-case letters, digits, _ and -; never changes) <input name="id" required pattern="[a-z0-9][a-z0-9_\\-]*" /></label>
          <label>Name <input name="name" required /></label>
          <label>Description <input name="description" /></label>
          <label>Address <input name="address" /></label>
          <label>Maximum hourly consumption (kWh) <input name="max_hourly_kwh" type="number" min="0" step="any" /></label>
          <label>Owner <select name="owner"><option value="">— none —</option>${this.users.map((u) => html`<option value=${u.id}>${u.email}</option>`)}</select></label>
          <button type="submit">Add device</button>
        </form>
      </section>`;
  }
}
customElements.define('jh-admin-devices-page', JhAdminDevicesPage);
