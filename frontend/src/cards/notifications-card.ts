/**
 * Notifications: the most recent ones (GET /api/v1/notifications), with new ones prepended live
 * as the hub pushes them. Until the hub offers notifications (404) the card says so instead of failing.
 */
import { css, html } from 'lit';
import { formatDateTime } from '../lib/format.js';
import { cardStyles } from './base.js';
import { DataCard } from './data-card.js';
import type { CardConfig, Device, Entity } from './types.js';
import { schemaParts } from './validate.js';

export interface NotificationsConfig extends CardConfig { type: 'notifications'; limit: number; name?: string }

export interface NotificationItem { id: string; title: string; message: string; at: string; level: string; read: boolean }

/** Reads the fields a notification may carry (the hub's shape, tolerant of near variants). Pure. */
export function toNotification(raw: Record<string, unknown>, i = 0): NotificationItem {
  const str = (...keys: string[]) => { for (const k of keys) if (typeof raw[k] === 'string') return raw[k] as string; return undefined; };
  return {
    id: str('id') ?? String(raw.id ?? `n${i}`),
    title: str('title', 'subject', 'kind', 'type') ?? 'Notification',
    message: str('message', 'body', 'text', 'detail') ?? '',
    at: str('created_at', 'at', 'datetime', 'time') ?? '',
    level: str('level', 'severity') ?? 'info',
    read: raw.read === true || typeof raw.read_at === 'string',
  };
}

export class NotificationsCard extends DataCard<NotificationsConfig, NotificationItem[] | 'unavailable'> {
  static override configSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: 'notifications' },
      name: schemaParts.name,
      limit: { type: 'integer', minimum: 1, maximum: 50, default: 5, title: 'How many' },
    },
  };

  static override styles = [cardStyles, css`
    ul { list-style: none; margin: 0; padding: 0; }
    li { padding: 6px 0; border-bottom: 1px solid var(--jh-border, #eef0f4); }
    li.warning strong, li.critical strong, li.error strong { color: var(--jh-bad, #b42318); }
    li.unread strong::before { content: '● '; color: var(--jh-accent, #1570ef); }
    button.read { font: 12px system-ui, sans-serif; margin-top: 2px; padding: 2px 8px; border-radius: 6px; border: 1px solid var(--jh-border, #b9c0cc);
      background: var(--jh-surface, #fff); color: inherit; cursor: pointer; }
  `];

  static getStubConfig(_e: Entity[], _d: Device[]): NotificationsConfig { return { type: 'notifications', limit: 5 }; }

  override getCardSize(): number { return 2 + Math.min(this.config?.limit ?? 5, 4); }

  private offFrame?: () => void;

  protected async fetchData(c: NotificationsConfig): Promise<NotificationItem[] | 'unavailable'> {
    try {
      const res = await this.hub!.api<unknown>(`/notifications?limit=${c.limit}`);
      const list = Array.isArray(res) ? res : ((res as { data?: unknown[] }).data ?? []);
      return (list as Record<string, unknown>[]).slice(0, c.limit).map(toNotification);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return 'unavailable';
      throw err;
    }
  }

  protected override hubChanged(): void {
    this.offFrame?.();
    this.offFrame = this.hub?.onFrame('notification', (frame: Record<string, unknown>) => this.pushed(frame));
    super.hubChanged();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hub && !this.offFrame) this.offFrame = this.hub.onFrame('notification', (frame: Record<string, unknown>) => this.pushed(frame));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offFrame?.();
    this.offFrame = undefined;
  }

  private pushed(frame: Record<string, unknown>): void {
    const c = this.config;
    if (!c) return;
    const raw = (frame.notification && typeof frame.notification === 'object' ? frame.notification : frame) as Record<string, unknown>;
    const item = toNotification(raw);
    const list = Array.isArray(this.data) ? this.data.filter((n) => n.id !== item.id) : [];
    this.data = [item, ...list].slice(0, c.limit);
    this.requestUpdate();
  }

  /** Marks one read through the API; the list shows it read once the hub confirms. */
  async markRead(id: string): Promise<void> {
    try {
      const n = await this.hub!.api<Record<string, unknown>>(`/notifications/${encodeURIComponent(id)}/read`, { method: 'POST' });
      if (Array.isArray(this.data)) this.data = this.data.map((x) => (x.id === id ? { ...x, ...toNotification(n), read: true } : x));
      this.loadError = undefined;
    } catch (err) {
      this.loadError = (err as Error).message;
    }
    this.requestUpdate();
  }

  protected renderCard(c: NotificationsConfig) {
    const data = this.data;
    return html`<h2>${c.name ?? 'Notifications'}</h2>${this.status()}
      ${data === 'unavailable' ? html`<div class="muted">This hub does not offer notifications yet</div>`
        : data && data.length === 0 ? html`<div class="muted">No notifications</div>`
          : html`<ul aria-live="polite">${(data ?? []).map((n) => html`<li class="${n.level} ${n.read ? '' : 'unread'}">
              <strong>${n.title}</strong> ${n.at ? html`<small class="muted">${formatDateTime(n.at, this.locale, this.timeZone)}</small>` : ''}
              <div>${n.message}</div>
              ${n.read ? '' : html`<button type="button" class="read" @click=${() => this.markRead(n.id)} aria-label=${`Mark "${n.title}" read`}>Mark read</button>`}</li>`)}</ul>`}`;
  }
}

customElements.define('jh-notifications-card', NotificationsCard);
