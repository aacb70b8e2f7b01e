/** Admin: users (create, edit email/name/role, reset password, delete), registration setting, invites. */
import { html, nothing } from 'lit';
import { formatDateTime } from '../../lib/format.js';
import { JhPage, errorText, formData, pageStyles } from '../shared.js';

interface UserWire { id: string; email: string; name: string | null; role: 'admin' | 'user'; has_password: boolean; created_at: string }

export class JhAdminUsersPage extends JhPage {
  static override properties = {
    ...JhPage.properties,
    users: { state: true }, error: { state: true }, editing: { state: true },
    registration: { state: true }, invite: { state: true },
  };
  declare users: UserWire[] | undefined;
  declare error: string | undefined;
  declare editing: string | undefined;
  declare registration: 'open' | 'invite' | undefined;
  declare invite: string | undefined;
  static override styles = [pageStyles];

  protected override async load(): Promise<void> {
    try {
      const [users, reg] = await Promise.all([
        this.ctx.client.get<{ data: UserWire[] }>('/users'),
        this.ctx.client.get<{ registration: 'open' | 'invite' }>('/settings/registration').catch(() => undefined),
      ]);
      this.users = users.data;
      this.registration = reg?.registration;
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async act(fn: () => Promise<unknown>, done: string): Promise<boolean> {
    try {
      await fn();
      this.ctx.toast(done);
      this.error = undefined;
      await this.load();
      return true;
    } catch (err) {
      this.error = errorText(err);
      return false;
    }
  }

  private async create(ev: Event): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const f = formData(form);
    const ok = await this.act(() => this.ctx.client.post('/users', {
      email: f.email, role: f.role, ...(f.name ? { name: f.name } : {}), ...(f.password ? { password: f.password } : {}),
    }), `User ${f.email} created`);
    if (ok) form.reset();
  }

  private async save(ev: Event, u: UserWire): Promise<void> {
    ev.preventDefault();
    const f = formData(ev.target as HTMLFormElement);
    const body: Record<string, unknown> = {};
    if (f.email !== u.email) body.email = f.email;
    if ((f.name || null) !== u.name) body.name = f.name || null;
    if (f.role !== u.role) body.role = f.role;
    if (f.password) body.password = f.password;
    if (Object.keys(body).length === 0) {
      this.editing = undefined;
      return;
    }
    if (await this.act(() => this.ctx.client.patch(`/users/${encodeURIComponent(u.id)}`, body), `Saved ${f.email}`)) this.editing = undefined;
  }

  private async removeUser(u: UserWire): Promise<void> {
    if (!confirm(`Delete ${u.email}? Their devices become orphans.`)) return;
    await this.act(() => this.ctx.client.delete(`/users/${encodeURIComponent(u.id)}`), `Deleted ${u.email}`);
  }

  private async setRegistration(mode: string): Promise<void> {
    await this.act(() => this.ctx.client.put('/settings/registration', { registration: mode }), `Registration: ${mode}`);
  }

  private async createInvite(ev: Event): Promise<void> {
    ev.preventDefault();
    const f = formData(ev.target as HTMLFormElement);
    try {
      const r = await this.ctx.client.post<{ invite: string }>('/invites', { ...(f.email ? { email: f.email } : {}), role: f.role });
      this.invite = `${location.origin}/register?invite=${encodeURIComponent(r.invite)}`;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private row(u: UserWire) {
    if (this.editing === u.id) {
      return html`<tr><td colspan="4">
        <form class="row" @submit=${(e: Event) => this.save(e, u)} aria-label="Edit ${u.email}">
          <label>Email <input name="email" type="email" required .value=${u.email} /></label>
          <label>Name <input name="name" .value=${u.name ?? ''} /></label>
          <label>Role <select name="role">
            <option value="user" ?selected=${u.role === 'user'}>user</option>
            <option value="admin" ?selected=${u.role === 'admin'}>admin</option>
          </select></label>
          <label>New password (leave empty to keep) <input name="password" type="password" autocomplete="new-password" minlength="8" /></label>
          <button type="submit">Save</button>
          <button type="button" class="secondary" @click=${() => { this.editing = undefined; }}>Cancel</button>
        </form></td></tr>`;
    }
    const me = u.id === this.ctx.user?.id;
    return html`<tr data-user=${u.email}>
      <td>${u.email}${u.name ? html`<div class="muted">${u.name}</div>` : nothing}</td>
      <td>${u.role}</td>
      <td class="hide-narrow">${formatDateTime(u.created_at, this.ctx.locale, this.ctx.timeZone)}</td>
      <td><div class="row">
        <button type="button" class="secondary" @click=${() => { this.editing = u.id; }} aria-label="Edit ${u.email}">Edit</button>
        <a class="button secondary" style="background:transparent;color:var(--jh-accent)" href="/admin/devices?owner=${encodeURIComponent(u.id)}">Devices</a>
        ${me ? nothing : html`<button type="button" class="danger" @click=${() => this.removeUser(u)} aria-label="Delete ${u.email}">Delete</button>`}
      </div></td>
    </tr>`;
  }

  override render() {
    return html`
      <h1>Users</h1>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${!this.users ? html`<p aria-busy="true">Loading…</p>` : html`
        <div class="panel table-wrap"><table data-testid="users">
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col" class="hide-narrow">Created</th><th scope="col">Actions</th></tr></thead>
          <tbody>${this.users.map((u) => this.row(u))}</tbody>
        </table></div>`}
      <section class="panel">
        <h2 style="margin-top:0">Add a user</h2>
        <form class="stack" @submit=${this.create}>
          <label>Email <input name="email" type="email" required /></label>
          <label>Name <input name="name" /></label>
          <label>Password (at least 8 characters) <input name="password" type="password" autocomplete="new-password" minlength="8" /></label>
          <label>Role <select name="role"><option value="user">user</option><option value="admin">admin</option></select></label>
          <button type="submit">Add user</button>
        </form>
      </section>
      <section class="panel">
        <h2 style="margin-top:0">Registration</h2>
        <label class="inline">Who may register
          <select @change=${(e: Event) => this.setRegistration((e.target as HTMLSelectElement).value)}>
            <option value="invite" ?selected=${this.registration === 'invite'}>Only with an invite</option>
            <option value="open" ?selected=${this.registration === 'open'}>Anyone (open registration)</option>
          </select>
        </label>
        <form class="row" style="margin-top:0.75rem" @submit=${this.createInvite}>
          <label>Invite for email (optional) <input name="email" type="email" /></label>
          <label>Role <select name="role"><option value="user">user</option><option value="admin">admin</option></select></label>
          <button type="submit">Create invite link</button>
        </form>
        ${this.invite ? html`<p role="status">Invite link (shown once): <code style="word-break:break-all">${this.invite}</code></p>` : nothing}
      </section>`;
  }
}
customElements.define('jh-admin-users-page', JhAdminUsersPage);
