/**
 * Messages between a user and the admins: a user sees their one conversation; an admin picks a
 * user's conversation (unread counts). New messages arrive live, the other side's "typing…" shows
 * while they type, and your messages show "Read" once the other side has read them.
 */
import { html, nothing } from 'lit';
import { formatDateTime } from '../../lib/format.js';
import { JhPage, errorText, pageStyles } from '../shared.js';

interface Message {
  id: number; conversation: string; author: string | null; from: 'user' | 'admins'; body: string;
  created_at: string; read_at: string | null;
}
interface Conversation { conversation: string; last_message: Message | null; unread: number }
interface UserWire { id: string; email: string; name: string | null }

const TYPING_IDLE_MS = 3000;

export class JhMessagesPage extends JhPage {
  static override properties = {
    ...JhPage.properties,
    conversations: { state: true }, messages: { state: true }, users: { state: true },
    error: { state: true }, typing: { state: true }, draft: { state: true },
  };
  declare conversations: Conversation[] | undefined;
  declare messages: Message[] | undefined;
  declare users: Map<string, UserWire>;
  declare error: string | undefined;
  declare typing: boolean;
  declare draft: string;
  private offs: (() => void)[] = [];
  private typingSent = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private typingShownTimer: ReturnType<typeof setTimeout> | undefined;
  static override styles = [pageStyles];

  constructor() {
    super();
    this.users = new Map();
    this.typing = false;
    this.draft = '';
  }

  private get isAdmin(): boolean {
    return this.ctx.user?.role === 'admin';
  }

  /** The open conversation: a user's own; for an admin the one in the URL. */
  private get conversation(): string | undefined {
    return this.isAdmin ? this.params.user : this.ctx.user?.id;
  }

  protected override async load(): Promise<void> {
    this.bindFrames();
    this.messages = undefined;
    this.typing = false;
    try {
      if (this.isAdmin) {
        const [convs, users] = await Promise.all([
          this.ctx.client.get<{ data: Conversation[] }>('/messages/conversations'),
          this.ctx.client.get<{ data: UserWire[] }>('/users'),
        ]);
        this.conversations = convs.data;
        this.users = new Map(users.data.map((u) => [u.id, u]));
      }
      const c = this.conversation;
      if (c) {
        const page = await this.ctx.client.get<{ data: Message[] }>(`/messages/conversations/${encodeURIComponent(c)}`);
        this.messages = [...page.data].sort((a, b) => a.id - b.id);
        await this.markRead();
      }
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private bindFrames(): void {
    for (const off of this.offs) off();
    const conn = this.ctx.conn;
    if (!conn) return;
    this.offs = [
      conn.onFrame('message', (f: { message: Message }) => {
        const m = f.message;
        if (m.conversation === this.conversation && this.messages && !this.messages.some((x) => x.id === m.id)) {
          this.messages = [...this.messages, m];
          if (m.author !== this.ctx.user?.id) {
            this.typing = false;
            void this.markRead();
          }
        }
        if (this.isAdmin) this.bumpConversation(m);
      }),
      conn.onFrame('typing', (f: { conversation: string; user: string; state: 'start' | 'stop' }) => {
        if (f.conversation !== this.conversation || f.user === this.ctx.user?.id) return;
        this.typing = f.state === 'start';
        clearTimeout(this.typingShownTimer);
        // A lost "stop" must not leave "typing…" up for ever.
        if (this.typing) this.typingShownTimer = setTimeout(() => { this.typing = false; }, 10_000);
      }),
      conn.onFrame('message_read', (f: { conversation: string; messages: number[]; read_at: string }) => {
        if (f.conversation !== this.conversation || !this.messages) return;
        const ids = new Set(f.messages);
        this.messages = this.messages.map((m) => (ids.has(m.id) ? { ...m, read_at: f.read_at } : m));
      }),
    ];
  }

  private bumpConversation(m: Message): void {
    const list = this.conversations ?? [];
    const old = list.find((c) => c.conversation === m.conversation);
    const mine = m.author === this.ctx.user?.id || m.conversation === this.conversation;
    const updated: Conversation = { conversation: m.conversation, last_message: m, unread: (old?.unread ?? 0) + (mine ? 0 : 1) };
    this.conversations = [updated, ...list.filter((c) => c !== old)];
  }

  private async markRead(): Promise<void> {
    const c = this.conversation;
    const unread = this.messages?.some((m) => m.author !== this.ctx.user?.id && !m.read_at);
    if (!c || !unread) return;
    try {
      await this.ctx.client.post(`/messages/conversations/${encodeURIComponent(c)}/read`, {});
      if (this.conversations) this.conversations = this.conversations.map((x) => (x.conversation === c ? { ...x, unread: 0 } : x));
      window.dispatchEvent(new CustomEvent('jh-messages-read'));
    } catch {
      // Read receipts are best effort; the next open retries.
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopTyping();
    for (const off of this.offs) off();
    this.offs = [];
  }

  private onInput(ev: Event): void {
    this.draft = (ev.target as HTMLTextAreaElement).value;
    const c = this.conversation;
    if (!c) return;
    if (!this.typingSent && this.draft) this.typingSent = this.ctx.conn?.sendFrame({ type: 'typing', conversation: c, state: 'start' }) ?? false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    clearTimeout(this.typingTimer);
    const c = this.conversation;
    if (this.typingSent && c) this.ctx.conn?.sendFrame({ type: 'typing', conversation: c, state: 'stop' });
    this.typingSent = false;
  }

  private async send(ev: Event): Promise<void> {
    ev.preventDefault();
    const c = this.conversation;
    const body = this.draft.trim();
    if (!c || !body) return;
    this.stopTyping();
    try {
      const m = await this.ctx.client.post<Message>(`/messages/conversations/${encodeURIComponent(c)}`, { body });
      this.draft = '';
      if (this.messages && !this.messages.some((x) => x.id === m.id)) this.messages = [...this.messages, m];
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private name(userId: string | null): string {
    if (!userId) return 'deleted account';
    if (userId === this.ctx.user?.id) return 'You';
    const u = this.users.get(userId);
    return u ? (u.name ?? u.email) : this.isAdmin ? userId : 'Admin';
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      (ev.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  }

  private conversationList() {
    const known = new Set((this.conversations ?? []).map((c) => c.conversation));
    const others = [...this.users.values()].filter((u) => !known.has(u.id));
    return html`<nav aria-label="Conversations" class="panel" style="min-width:14rem">
      <ul style="list-style:none;margin:0;padding:0">
        ${(this.conversations ?? []).map((c) => html`<li style="padding:0.3rem 0">
          <a href="/messages/${encodeURIComponent(c.conversation)}" aria-current=${c.conversation === this.conversation ? 'page' : 'false'}>${this.name(c.conversation)}</a>
          ${c.unread > 0 ? html`<span class="badge" aria-label="${c.unread} unread"> (${c.unread})</span>` : nothing}
        </li>`)}
      </ul>
      ${others.length ? html`<label style="margin-top:0.75rem">Write to
        <select @change=${(e: Event) => { const v = (e.target as HTMLSelectElement).value; if (v) this.ctx.router.navigate(`/messages/${encodeURIComponent(v)}`); }}>
          <option value="">— pick a user —</option>
          ${others.map((u) => html`<option value=${u.id}>${u.email}</option>`)}
        </select></label>` : nothing}
    </nav>`;
  }

  override render() {
    const c = this.conversation;
    const title = this.isAdmin ? (c ? `Messages with ${this.name(c)}` : 'Messages') : 'Messages with the admins';
    return html`
      <h1>${title}</h1>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="row" style="align-items:flex-start">
        ${this.isAdmin ? this.conversationList() : nothing}
        ${c ? html`<section class="panel" style="flex:1;min-width:16rem">
          <ol style="list-style:none;margin:0;padding:0;max-height:60vh;overflow:auto" aria-live="polite" data-testid="messages">
            ${(this.messages ?? []).map((m) => html`<li style="padding:0.4rem 0;border-bottom:1px solid var(--jh-border)">
              <div><strong>${this.name(m.author)}</strong> <span class="muted">${formatDateTime(m.created_at, this.ctx.locale, this.ctx.timeZone)}</span></div>
              <div style="white-space:pre-wrap">${m.body}</div>
              ${m.author === this.ctx.user?.id ? html`<div class="muted" style="font-size:0.8rem">${m.read_at ? `Read ${formatDateTime(m.read_at, this.ctx.locale, this.ctx.timeZone)}` : 'Sent'}</div>` : nothing}
            </li>`)}
          </ol>
          ${this.messages?.length === 0 ? html`<p class="muted">No messages yet.</p>` : nothing}
          <p class="muted" aria-live="polite" style="min-height:1.4em">${this.typing ? `${this.isAdmin ? this.name(c) : 'An admin'} is typing…` : ''}</p>
          <form @submit=${this.send} class="row">
            <label style="flex:1">Message <textarea rows="2" .value=${this.draft} @input=${this.onInput} @keydown=${this.onKey} maxlength="4000"></textarea></label>
            <button type="submit" ?disabled=${!this.draft.trim()}>Send</button>
          </form>
        </section>` : html`<p>Pick a conversation.</p>`}
      </div>`;
  }
}
customElements.define('jh-messages-page', JhMessagesPage);
