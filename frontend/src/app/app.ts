/**
 * <jh-app>: the shell. Finds out who is logged in (or whether the first admin must be created),
 * opens the one live connection of the tab, and shows the header (navigation, live/disconnected
 * indicator, theme, user), the notification banner and the routed page. Pages are loaded on
 * demand, so the first paint needs only the shell.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiClient, ApiProblem } from '../lib/api.js';
import { LiveConnection, type HubUser } from '../lib/connection.js';
import { browserLocale, browserTimeZone, usableLocale, usableTimeZone } from '../lib/format.js';
import type { AppContext } from './context.js';
import { matchRoute, Router, type Match, type Route } from './router.js';
import { effectiveTheme, initTheme, setTheme, themeChoice, type ThemeChoice } from './theme.js';
import './banner.js';

export const ROUTES: readonly Route[] = [
  { pattern: '/', page: 'dashboards' },
  { pattern: '/dashboards/:id', page: 'dashboards' },
  { pattern: '/devices', page: 'devices' },
  { pattern: '/devices/:id', page: 'device' },
  { pattern: '/notifications', page: 'notifications' },
  { pattern: '/messages', page: 'messages' },
  { pattern: '/messages/:user', page: 'messages' },
  { pattern: '/account', page: 'account' },
  { pattern: '/admin/users', page: 'admin-users', admin: true },
  { pattern: '/admin/devices', page: 'admin-devices', admin: true },
  { pattern: '/admin/audit', page: 'admin-audit', admin: true },
  { pattern: '/login', page: 'login', public: true },
  { pattern: '/register', page: 'register', public: true },
  { pattern: '/onboarding', page: 'onboarding', public: true },
  { pattern: '/logout', page: 'logout', public: true },
];

/** Page name → module (code-split) and element. */
const PAGES: Record<string, { load: () => Promise<unknown>; tag: string; title: string }> = {
  dashboards: { load: () => import('./pages/dashboards-page.js'), tag: 'jh-dashboards-page', title: 'Dashboards' },
  devices: { load: () => import('./pages/devices-page.js'), tag: 'jh-devices-page', title: 'My devices' },
  device: { load: () => import('./pages/device-page.js'), tag: 'jh-device-page', title: 'Device' },
  notifications: { load: () => import('./pages/notifications-page.js'), tag: 'jh-notifications-page', title: 'Notifications' },
  messages: { load: () => import('./pages/messages-page.js'), tag: 'jh-messages-page', title: 'Messages' },
  account: { load: () => import('./pages/account-page.js'), tag: 'jh-account-page', title: 'Account' },
  'admin-users': { load: () => import('./pages/admin-users-page.js'), tag: 'jh-admin-users-page', title: 'Users' },
  'admin-devices': { load: () => import('./pages/admin-devices-page.js'), tag: 'jh-admin-devices-page', title: 'All devices' },
  'admin-audit': { load: () => import('./pages/admin-audit-page.js'), tag: 'jh-admin-audit-page', title: 'Audit log' },
  login: { load: () => import('./pages/auth-pages.js'), tag: 'jh-login-page', title: 'Log in' },
  register: { load: () => import('./pages/auth-pages.js'), tag: 'jh-register-page', title: 'Register' },
  onboarding: { load: () => import('./pages/auth-pages.js'), tag: 'jh-onboarding-page', title: 'Welcome' },
  logout: { load: () => import('./pages/auth-pages.js'), tag: 'jh-logout-page', title: 'Log out' },
  'not-found': { load: () => import('./pages/not-found-page.js'), tag: 'jh-not-found-page', title: 'Not found' },
};

interface MeResponse {
  user: { id: string; email: string; name: string | null; role: 'admin' | 'user' };
  /** Stored on the account (account page); null = the browser's. */
  preferences?: { locale: string | null; time_zone: string | null };
}

export class JhApp extends LitElement {
  static override properties = {
    ready: { state: true },
    match: { state: true },
    connected: { state: true },
    theme: { state: true },
    toastText: { state: true },
    loadError: { state: true },
    offline: { state: true },
    unread: { state: true },
  };
  /** Unread counts shown as badges in the navigation. */
  declare unread: { notifications: number; messages: number };
  private offFrames: (() => void)[] = [];
  /** Shown after the link has been down a moment (no flash on a blip or while first connecting). */
  declare offline: boolean;
  private offlineTimer: ReturnType<typeof setTimeout> | undefined;
  declare ready: boolean;
  declare match: Match | undefined;
  declare connected: boolean;
  declare theme: ThemeChoice;
  declare toastText: { text: string; kind: 'ok' | 'bad' } | undefined;
  declare loadError: string | undefined;

  private readonly router = new Router();
  private readonly client = new ApiClient();
  private conn: LiveConnection | undefined;
  private user: HubUser | null = null;
  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  private offConnection: (() => void) | undefined;
  private pageEl: HTMLElement | undefined;
  private pageKey = '';

  constructor() {
    super();
    this.ready = false;
    this.connected = false;
    this.offline = false;
    this.unread = { notifications: 0, messages: 0 };
    this.theme = themeChoice();
    initTheme();
  }

  private get ctx(): AppContext {
    return {
      client: this.client,
      conn: this.conn,
      user: this.user,
      router: this.router,
      locale: this.user?.locale ?? browserLocale(),
      timeZone: this.user?.timeZone ?? browserTimeZone(),
      signedIn: (next) => this.signedIn(next),
      reloadUser: () => this.reloadUser(),
      signOut: () => this.signOut(),
      toast: (text, kind = 'ok') => this.toast(text, kind),
    };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.router.onChange(() => void this.route());
    this.client.setUnauthorizedHandler(() => {
      // The session ended (expired, logged out elsewhere, account deleted): back to the login page.
      if (!this.user) return;
      this.dropSession();
      const match = matchRoute(ROUTES, this.router.current);
      if (!match?.route.public) this.router.navigate(`/login?next=${encodeURIComponent(this.router.current)}`, { replace: true });
    });
    window.addEventListener('online', () => this.conn?.reconnectNow());
    void this.boot();
  }

  private async boot(): Promise<void> {
    // In parallel: the page's module, whether onboarding is due, and who is logged in.
    const first = matchRoute(ROUTES, this.router.current)?.route.page;
    if (first) void PAGES[first]?.load().catch(() => undefined);
    const status = this.client.get<{ onboarding: boolean }>('/auth/status').catch(() => ({ onboarding: false }));
    const user = this.loadUser().then(() => undefined, (err: unknown) => err);
    if ((await status).onboarding) {
      this.ready = true;
      this.router.navigate('/onboarding', { replace: true });
      await this.route();
      return;
    }
    const err = await user;
    if (err && !(err instanceof ApiProblem && err.status === 401)) this.loadError = (err as Error).message;
    this.ready = true;
    await this.route();
  }

  private async loadUser(): Promise<void> {
    const me = await this.client.get<MeResponse>('/auth/me');
    // The account's stored locale and zone win over the browser's, so every browser shows the same.
    this.user = {
      id: me.user.id, email: me.user.email, role: me.user.role,
      locale: usableLocale(me.preferences?.locale) ?? browserLocale(),
      timeZone: usableTimeZone(me.preferences?.time_zone) ?? browserTimeZone(),
    };
    this.conn?.stop();
    this.offConnection?.();
    this.conn = new LiveConnection(this.user, { api: this.client });
    this.offConnection = this.conn.onConnectionChange((up) => this.setConnected(up));
    this.conn.start();
    this.setConnected(false);
    this.watchUnread(this.conn);
  }

  /** Keeps the badges current: counted at login, then moved by live frames and page events. */
  private watchUnread(conn: LiveConnection): void {
    for (const off of this.offFrames) off();
    const me = this.user?.id;
    const refreshMessages = () => this.client.get<{ total: number }>('/messages/unread')
      .then((r) => { this.unread = { ...this.unread, messages: r.total }; }).catch(() => {});
    const refreshNotifications = () => this.client.get<{ unread?: number }>('/notifications?limit=1')
      .then((r) => { this.unread = { ...this.unread, notifications: r.unread ?? 0 }; }).catch(() => {});
    void refreshMessages();
    void refreshNotifications();
    const onMessagesRead = () => void refreshMessages();
    const onNotificationsRead = () => void refreshNotifications();
    window.addEventListener('jh-messages-read', onMessagesRead);
    window.addEventListener('jh-notifications-read', onNotificationsRead);
    this.offFrames = [
      conn.onFrame('notification', () => { this.unread = { ...this.unread, notifications: this.unread.notifications + 1 }; }),
      conn.onFrame('message', (f: { message?: { author?: string | null } }) => { if (f.message?.author !== me) void refreshMessages(); }),
      () => window.removeEventListener('jh-messages-read', onMessagesRead),
      () => window.removeEventListener('jh-notifications-read', onNotificationsRead),
    ];
  }

  private setConnected(up: boolean): void {
    if (up && !this.connected) (this.pageEl as { reconnected?: () => void } | undefined)?.reconnected?.();
    this.connected = up;
    clearTimeout(this.offlineTimer);
    if (up) this.offline = false;
    else this.offlineTimer = setTimeout(() => { this.offline = !this.connected && this.conn !== undefined; }, up ? 0 : 1500);
  }

  /** The account's preferences changed: load the user again, so pages and cards format with them. */
  private async reloadUser(): Promise<void> {
    await this.loadUser();
    // The page keeps its element (route() hands ctx only on navigation): give it the new context.
    if (this.pageEl) (this.pageEl as HTMLElement & { ctx: AppContext }).ctx = this.ctx;
    this.requestUpdate();
  }

  private async signedIn(next?: string): Promise<void> {
    await this.loadUser();
    this.router.navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    this.requestUpdate();
  }

  private dropSession(): void {
    for (const off of this.offFrames) off();
    this.offFrames = [];
    this.unread = { notifications: 0, messages: 0 };
    this.conn?.stop();
    this.offConnection?.();
    this.conn = undefined;
    this.user = null;
    this.connected = false;
    this.offline = false;
    clearTimeout(this.offlineTimer);
    this.pageKey = '';
  }

  private async signOut(): Promise<void> {
    try {
      await this.client.post('/auth/logout');
    } finally {
      this.dropSession();
      this.router.navigate('/login', { replace: true });
    }
  }

  private toast(text: string, kind: 'ok' | 'bad'): void {
    this.toastText = { text, kind };
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { this.toastText = undefined; }, 5000);
  }

  /** Picks the page for the URL (or the login page), loads its module and shows it. */
  private async route(): Promise<void> {
    if (!this.ready) return;
    let match = matchRoute(ROUTES, this.router.current);
    if (match && !match.route.public && !this.user) {
      this.router.navigate(`/login?next=${encodeURIComponent(this.router.current)}`, { replace: true });
      return;
    }
    if (match?.route.admin && this.user?.role !== 'admin') match = undefined;
    this.match = match;
    const name = match?.route.page ?? 'not-found';
    const page = PAGES[name]!;
    document.title = `${page.title} · Joulehub`;
    try {
      await page.load();
    } catch (err) {
      this.loadError = `Could not load the page: ${(err as Error).message}`;
      return;
    }
    this.loadError = undefined;
    const key = `${name}|${this.user?.id ?? ''}`;
    if (key !== this.pageKey || !this.pageEl) {
      this.pageEl = document.createElement(page.tag);
      this.pageKey = key;
    }
    const el = this.pageEl as HTMLElement & { ctx: AppContext; params: Record<string, string>; query: URLSearchParams };
    el.ctx = this.ctx;
    el.params = match?.params ?? {};
    el.query = match?.query ?? new URLSearchParams();
    this.requestUpdate();
    // Move focus to the new page for keyboard and screen-reader users (not on the first load).
    await this.updateComplete;
    if (this.hasNavigated) this.renderRoot.querySelector<HTMLElement>('main')?.focus({ preventScroll: true });
    this.hasNavigated = true;
  }
  private hasNavigated = false;

  private cycleTheme(): void {
    const next: ThemeChoice = this.theme === 'auto' ? (effectiveTheme() === 'dark' ? 'light' : 'dark') : this.theme === 'dark' ? 'light' : 'auto';
    setTheme(next);
    this.theme = next;
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; min-height: 100vh; }
    *, *::before, *::after { box-sizing: border-box; }
    header {
      background: var(--jh-header-bg); color: var(--jh-header-fg);
      display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 1rem; padding: 0.5rem 1rem;
    }
    header a { color: inherit; text-decoration: none; }
    .brand { font-weight: 700; font-size: 1.1rem; margin-right: 0.5rem; }
    nav { display: flex; flex-wrap: wrap; gap: 0.25rem; flex: 1; }
    nav a { padding: 0.4rem 0.6rem; border-radius: 6px; }
    nav a[aria-current='page'] { background: rgba(255, 255, 255, 0.14); }
    nav a:hover { background: rgba(255, 255, 255, 0.08); }
    .tools { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; }
    .tools button {
      font: inherit; background: transparent; color: inherit; border: 1px solid rgba(255, 255, 255, 0.35);
      border-radius: 6px; padding: 0.3rem 0.6rem; min-height: 2.25rem; cursor: pointer;
    }
    .live { display: inline-flex; align-items: center; gap: 0.35rem; font-size: 0.85rem; }
    .dot { width: 0.6rem; height: 0.6rem; border-radius: 50%; background: #4ac26b; }
    .live.down .dot { background: #f85149; }
    .offline {
      background: var(--jh-warn-bg); color: var(--jh-fg); padding: 0.4rem 1rem; border-bottom: 1px solid var(--jh-border);
    }
    main { flex: 1; padding: 1rem; width: 100%; max-width: 1400px; margin: 0 auto; outline: none; }
    .toast {
      position: fixed; bottom: 1rem; left: 50%; transform: translateX(-50%); z-index: 20;
      background: var(--jh-surface); color: var(--jh-fg); border: 1px solid var(--jh-border);
      border-radius: 8px; padding: 0.6rem 1rem; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.2);
    }
    .toast.bad { border-color: var(--jh-bad); color: var(--jh-bad); }
    .error { margin: 1rem; color: var(--jh-bad); }
    .email { opacity: 0.85; font-size: 0.9rem; }
    .badge {
      display: inline-block; min-width: 1.3rem; padding: 0 0.35rem; border-radius: 999px; text-align: center;
      background: #f85149; color: #fff; font-size: 0.75rem; font-weight: 700; line-height: 1.3rem;
    }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    :is(a, button):focus-visible { outline: 3px solid var(--jh-focus); outline-offset: 2px; }
    @media (max-width: 640px) {
      header { padding: 0.5rem; }
      .email { display: none; }
      main { padding: 0.5rem; }
    }
  `;

  private navLink(href: string, label: string, unread = 0) {
    const here = this.match?.path.split('?')[0] ?? '';
    const current = href === '/' ? here === '/' || here.startsWith('/dashboards') : here === href || here.startsWith(`${href}/`);
    return html`<a href=${href} aria-current=${current ? 'page' : 'false'}>${label}${unread > 0
      ? html` <span class="badge" data-testid="unread-${href.slice(1)}"><span class="sr-only">, </span>${unread}<span class="sr-only"> unread</span></span>` : nothing}</a>`;
  }

  override render() {
    if (!this.ready) return html`<main aria-busy="true"><p>Loading…</p></main>`;
    const user = this.user;
    const themeLabel = this.theme === 'auto' ? 'Theme: system' : this.theme === 'dark' ? 'Theme: dark' : 'Theme: light';
    return html`
      ${user ? html`
        <header>
          <a class="brand" href="/">Joulehub</a>
          <nav aria-label="Main">
            ${this.navLink('/', 'Dashboards')}
            ${this.navLink('/devices', 'My devices')}
            ${this.navLink('/notifications', 'Notifications', this.unread.notifications)}
            ${this.navLink('/messages', 'Messages', this.unread.messages)}
            ${user.role === 'admin' ? html`${this.navLink('/admin/users', 'Users')}${this.navLink('/admin/devices', 'All devices')}${this.navLink('/admin/audit', 'Audit log')}` : nothing}
          </nav>
          <div class="tools">
            <span class="live ${this.offline ? 'down' : ''}" role="status" data-testid="connection">
              <span class="dot" aria-hidden="true"></span>${this.connected ? 'Live' : this.offline ? 'Disconnected' : 'Connecting…'}
            </span>
            <button type="button" @click=${this.cycleTheme} aria-label="${themeLabel} (change)" title=${themeLabel}>
              ${effectiveTheme(this.theme) === 'dark' ? '☾' : '☀'}
            </button>
            <a class="email" href="/account">${user.email}</a>
            <button type="button" @click=${() => void this.signOut()}>Log out</button>
          </div>
        </header>
        ${!this.offline ? nothing : html`<div class="offline" role="alert">Connection to the hub lost — live values are paused; reconnecting…</div>`}
        <jh-notification-banner .ctx=${this.ctx}></jh-notification-banner>
      ` : nothing}
      ${this.loadError ? html`<p class="error" role="alert">${this.loadError}</p>` : nothing}
      <main tabindex="-1">${this.pageEl ?? nothing}</main>
      ${this.toastText ? html`<div class="toast ${this.toastText.kind}" role="status">${this.toastText.text}</div>` : nothing}
    `;
  }
}
customElements.define('jh-app', JhApp);
