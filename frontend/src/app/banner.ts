/**
 * <jh-notification-banner>: notifications pushed live over the WebSocket (`{type:'notification'}`
 * user frames, e.g. an over-consumption rule firing) appear at the top of every page until
 * dismissed; dismissing marks them read.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { AppContext } from './context.js';
import { formatTime } from '../lib/format.js';

export interface NotificationWire {
  id?: string | number;
  level?: 'info' | 'warning' | 'critical' | string;
  title?: string;
  message?: string;
  device_id?: string | null;
  created_at?: string;
  read_at?: string | null;
}

/** The notification inside a user frame (tolerates a bare notification too). */
export function notificationOf(frame: unknown): NotificationWire {
  const f = frame as { notification?: NotificationWire } & NotificationWire;
  return f.notification ?? f;
}

export class JhNotificationBanner extends LitElement {
  static override properties = { ctx: { attribute: false }, items: { state: true } };
  declare ctx: AppContext;
  declare items: NotificationWire[];
  private off: (() => void) | undefined;
  private boundConn: unknown;

  constructor() {
    super();
    this.items = [];
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('ctx') && this.ctx?.conn !== this.boundConn) {
      this.off?.();
      this.boundConn = this.ctx?.conn;
      this.off = this.ctx?.conn?.onFrame('notification', (frame) => {
        this.items = [notificationOf(frame), ...this.items].slice(0, 3);
      });
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    this.off = undefined;
    this.boundConn = undefined;
  }

  private dismiss(n: NotificationWire): void {
    this.items = this.items.filter((x) => x !== n);
    if (n.id !== undefined) {
      this.ctx.client.post(`/notifications/${encodeURIComponent(String(n.id))}/read`)
        .then(() => window.dispatchEvent(new CustomEvent('jh-notifications-read')), () => {});
    }
  }

  static override styles = css`
    :host { display: block; }
    .item {
      display: flex; gap: 0.75rem; align-items: flex-start; padding: 0.6rem 1rem;
      background: var(--jh-warn-bg); color: var(--jh-fg); border-bottom: 1px solid var(--jh-border);
    }
    .item.critical { background: var(--jh-bad-bg); }
    .text { flex: 1; }
    strong { display: block; }
    .when { color: var(--jh-muted); font-size: 0.85rem; }
    button {
      font: inherit; background: transparent; color: inherit; border: 1px solid var(--jh-border);
      border-radius: 6px; padding: 0.25rem 0.6rem; min-height: 2.25rem; cursor: pointer;
    }
    button:focus-visible, a:focus-visible { outline: 3px solid var(--jh-focus); outline-offset: 2px; }
    a { color: var(--jh-accent); }
  `;

  override render() {
    if (this.items.length === 0) return nothing;
    return html`${this.items.map((n) => html`
      <div class="item ${n.level ?? ''}" role="alert" data-testid="notification-banner">
        <div class="text">
          <strong>${n.title ?? 'Notification'}</strong>
          ${n.message ? html`<span>${n.message}</span>` : nothing}
          ${n.created_at ? html` <span class="when">${formatTime(n.created_at, this.ctx.locale, this.ctx.timeZone)}</span>` : nothing}
          ${n.device_id ? html` · <a href="/devices/${encodeURIComponent(n.device_id)}">device</a>` : nothing}
        </div>
        <button type="button" @click=${() => this.dismiss(n)} aria-label="Dismiss notification: ${n.title ?? ''}">Dismiss</button>
      </div>`)}`;
  }
}
customElements.define('jh-notification-banner', JhNotificationBanner);
