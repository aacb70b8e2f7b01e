/**
 * OpenID Connect login against a real local provider (oidc-provider, started here) and the hub
 * listening on a port, with a small cookie-keeping "browser" that follows redirects and submits
 * the provider's login and consent forms.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { OidcSettings } from '../../src/auth/oidc.js';
import { describeDb } from '../support/db.js';
import { startApi, type ApiHarness } from '../api/harness.js';

const ACCOUNTS: Record<string, { email: string; email_verified: boolean; name: string }> = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice' },
  newcomer: { email: 'new@example.org', email_verified: true, name: 'New Comer' },
  mallory: { email: 'mallory@example.org', email_verified: false, name: 'Mallory' },
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Keeps cookies (one host, every port: as browsers do), follows redirects, fills the provider's forms. */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly visited: string[] = [];

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const cleared = value === '' || attrs.some((a) => /^\s*max-age=0\s*$/iu.test(a) || /expires=thu, 01 jan 1970/iu.test(a));
      if (cleared) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    this.visited.push(url);
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    this.remember(res);
    return res;
  }

  /** Follows redirects from `url`; stops at the first non-redirect answer, or at a URL `stopAt` accepts. */
  async follow(url: string, stopAt: (u: string) => boolean = () => false, init: { method?: string; form?: Record<string, string> } = {}) {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, current).href;
      if (stopAt(next)) return { res, next };
      current = next;
      res = await this.request(current);
    }
    return { res, next: current };
  }

  /** Submits the provider's (dev interactions) form on `page`, with extra fields. */
  async submit(page: { res: Response; next: string }, fields: Record<string, string>, stopAt: (u: string) => boolean) {
    const html = await page.res.text();
    const action = /<form[^>]*action="([^"]+)"/u.exec(html)?.[1];
    if (!action) throw new Error(`no form on ${page.next}: ${html.slice(0, 300)}`);
    const form: Record<string, string> = {};
    for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gu)) form[m[1]] = m[2];
    return this.follow(new URL(action, page.next).href, stopAt, { method: 'POST', form: { ...form, ...fields } });
  }
}

describeDb('OpenID Connect login', (target) => {
  let h: ApiHarness;
  let provider: Server;
  let hubUrl: string;
  let issuer: string;

  const start = async (oidc: Partial<OidcSettings> = {}) => {
    const providerPort = await freePort();
    issuer = `http://127.0.0.1:${providerPort}`;
    h = await startApi(target.url, {
      server: { oidc: { issuer, clientId: 'joulehub', clientSecret: 'provider-secret', name: 'Home login', ...oidc } },
    });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    hubUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    const op = new Provider(issuer, {
      clients: [{
        client_id: 'joulehub',
        client_secret: 'provider-secret',
        redirect_uris: [`${hubUrl}/api/v1/auth/oidc/callback`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
      }],
      findAccount: (_ctx, id) => (ACCOUNTS[id] ? { accountId: id, claims: () => ({ sub: id, ...ACCOUNTS[id] }) } : undefined),
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: true } },
      pkce: { methods: ['S256'], required: () => true },
      cookies: { keys: ['oidc-test-cookie-key'] },
    });
    provider = op.listen(providerPort, '127.0.0.1');
    await new Promise<void>((resolve) => provider.once('listening', () => resolve()));
  };

  const isCallback = (u: string) => u.startsWith(`${hubUrl}/api/v1/auth/oidc/callback`);

  /** Logs in at the provider as `account` and returns the browser at the hub's callback URL. */
  const throughProvider = async (browser: Browser, account: string, returnTo = '/devices') => {
    const login = await browser.follow(`${hubUrl}/api/v1/auth/oidc/login?return_to=${encodeURIComponent(returnTo)}`);
    expect(login.res.status, login.next).toBe(200); // the provider's login page
    expect(browser.visited[1]).toMatch(new RegExp(`^${issuer}/auth\\?.*code_challenge_method=S256`));
    const afterLogin = await browser.submit(login, { prompt: 'login', login: account, password: 'anything' }, isCallback);
    if (isCallback(afterLogin.next)) return afterLogin.next;
    const afterConsent = await browser.submit(afterLogin, { prompt: 'consent' }, isCallback);
    expect(isCallback(afterConsent.next), afterConsent.next).toBe(true);
    return afterConsent.next;
  };

  beforeEach(() => undefined);
  afterEach(async () => {
    await new Promise<void>((resolve) => (provider ? provider.close(() => resolve()) : resolve()));
    await h?.close();
  });

  it('logs a new verified email in through the provider while registration is open: account created, session cookie, back to the page', async () => {
    await start();
    const open = await h.app.inject({ method: 'PUT', url: '/api/v1/settings/registration', payload: { registration: 'open' } });
    expect(open.statusCode, open.body).toBe(200);
    expect((await fetch(`${hubUrl}/api/v1/auth/oidc`)).status).toBe(200);
    expect(await (await fetch(`${hubUrl}/api/v1/auth/oidc`)).json()).toEqual({ enabled: true, name: 'Home login', login_url: '/api/v1/auth/oidc/login' });

    const browser = new Browser();
    const callback = await throughProvider(browser, 'newcomer');
    const done = await browser.request(callback);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/devices');
    expect(browser.cookies.has('joulehub_session')).toBe(true);
    expect(browser.cookies.has('joulehub_oidc_state')).toBe(false);

    const me = await browser.request(`${hubUrl}/api/v1/auth/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: 'new@example.org', role: 'user' }, via: 'session' });

    // The code cannot be used twice.
    const again = await browser.request(callback);
    expect(again.status).toBe(401);
  });

  it('matches an existing account by email, case-insensitively', async () => {
    await start();
    const existing = await h.createUser({ email: 'Alice@Example.org' });
    const browser = new Browser();
    await browser.request(await throughProvider(browser, 'alice'));
    const me = (await (await browser.request(`${hubUrl}/api/v1/auth/me`)).json()) as { user: { id: string } };
    expect(me.user.id).toBe(existing.id);
  });

  it('refuses an unverified email, a new email on an invite-only hub, and a callback from another browser', async () => {
    await start();
    const mallory = new Browser();
    const refused = await mallory.request(await throughProvider(mallory, 'mallory'));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/email_verified/u);
    expect(mallory.cookies.has('joulehub_session')).toBe(false);

    const newcomer = new Browser();
    const noAccount = await newcomer.request(await throughProvider(newcomer, 'newcomer'));
    expect(noAccount.status).toBe(403);
    expect(((await noAccount.json()) as { detail: string }).detail).toMatch(/no account for new@example\.org/u);
    expect(await h.hub.auth.users.getByEmail('new@example.org')).toBeUndefined();

    // A callback URL handed to someone else's browser (no state cookie) logs nobody in.
    await h.createUser({ email: 'alice@example.org' });
    const attacker = new Browser();
    const lure = await throughProvider(attacker, 'alice');
    const victim = new Browser();
    const res = await victim.request(lure);
    expect(res.status).toBe(401);
    expect(victim.cookies.has('joulehub_session')).toBe(false);
  });

  it('creates accounts when create_users says so, and only returns to paths on the hub', async () => {
    await start({ createUsers: true });
    const browser = new Browser();
    const done = await browser.request(await throughProvider(browser, 'newcomer', '//evil.example/phish'));
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/');
  });
});

describeDb('OpenID Connect login, not configured', (target) => {
  let h: ApiHarness;
  afterEach(async () => h?.close());
  it('says so, and its login and callback answer 404', async () => {
    h = await startApi(target.url);
    const info = await h.anonymous.inject({ method: 'GET', url: '/api/v1/auth/oidc' });
    expect(info.json()).toEqual({ enabled: false, name: null, login_url: null });
    expect((await h.anonymous.inject({ method: 'GET', url: '/api/v1/auth/oidc/login' })).statusCode).toBe(404);
    expect((await h.anonymous.inject({ method: 'GET', url: '/api/v1/auth/oidc/callback?code=x&state=y' })).statusCode).toBe(404);
  });
});
