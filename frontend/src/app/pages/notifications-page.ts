/** Notifications: the user's own, newest first; unread ones can be marked read; new ones appear live. */
import { html, nothing } from 'lit';
import { formatDateTime } from '../../lib/format.js';
import { notificationOf, type NotificationWire } from '../banner.js';
import { JhPage, errorText, pageStyles } from '../shared.js';

export class JhNotificationsPage extends JhPage {
  static override properties = { ...JhPage.properties, items: { state: true }, error: { state: true } };
  declare items: NotificationWire[] | undefined;
  declare error: string | undefined;
  private off: (() => void) | undefined;

  static override styles = [pageStyles];

  protected override async load(): Promise<void> {
    this.off?.();
    this.off = this.ctx.conn?.onFrame('notification', (frame) => {
      this.items = [notificationOf(frame), ...(this.items ?? [])];
    });
    try {
      const r = await this.ctx.client.get<{ data: NotificationWire[] }>('/notifications');
      this.items = r.data;
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    this.off = undefined;
  }

  private async markRead(n: NotificationWire): Promise<void> {
    if (n.id === undefined) return;
    try {
      await this.ctx.client.post(`/notifications/${encodeURIComponent(String(n.id))}/read`);
      this.items = this.items?.map((x) => (x === n ? { ...x, read_at: new Date().toISOString() } : x));
      window.dispatchEvent(new CustomEvent('jh-notifications-read'));
    } catch (err) {
      this.ctx.toast(errorText(err), 'bad');
    }
  }

  override render() {
    return html`
      <h1>Notifications</h1>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${!this.items && !this.error ? html`<p aria-busy="true">Loading…</p>` : nothing}
      ${this.items?.length === 0 ? html`<p>No notifications yet. Over-consumption rules and automations send them here.</p>` : nothing}
      ${this.items?.length ? html`<ul class="panel" style="list-style:none;padding:0" data-testid="notifications">
        ${this.items.map((n) => html`<li style="padding:0.75rem 1rem;border-bottom:1px solid var(--jh-border)">
          <div class="row" style="justify-content:space-between">
            <div>
              <strong>${n.read_at ? '' : html`<span class="sr-only">Unread: </span>●&nbsp;`}${n.title ?? 'Notification'}</strong>
              ${n.message ? html`<div>${n.message}</div>` : nothing}
              <div class="muted">${n.created_at ? formatDateTime(n.created_at, this.ctx.locale, this.ctx.timeZone) : ''}
                ${n.device_id ? html` · <a href="/devices/${encodeURIComponent(n.device_id)}">${n.device_id}</a>` : nothing}</div>
            </div>
            ${n.read_at || n.id === undefined ? nothing : html`<button type="button" class="secondary" @click=${() => this.markRead(n)}>Mark read</button>`}
          </div>
        </li>`)}
      </ul>` : nothing}`;
  }
}
customElements.define('jh-notifications-page', JhNotificationsPage);
