/**
 * OpenID Connect login (issue 4), as an option next to passwords: the authorization code flow with
 * PKCE and a nonce, through openid-client. `start()` makes the provider URL and remembers the
 * attempt under its random `state` (which the browser also carries in a cookie, so a callback
 * cannot be replayed into someone else's browser); `finish()` exchanges the code, checks the ID
 * token, and finds the account by the provider's *verified* email, or creates one (a `user` without
 * a password) when `create_users` allows it (default: when the hub's registration is open). The session is then made by AuthService.createSession
 * like any login.
 *
 * Plain http is accepted only for an issuer on a loopback address (a provider on the same machine);
 * anything else must be https.
 */
import * as client from 'openid-client';
import { JoulehubError } from '../sdk/errors.js';
import type { Clock } from '../sdk/types.js';
import type { AuthService, RequestMeta } from './service.js';
import type { Session } from './sessions.js';
import type { User } from './users.js';

/** `auth.oidc` in joulehub.yaml, as loadConfig() maps it. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The callback URL registered at the provider; default: this hub's /api/v1/auth/oidc/callback as the browser reached it. */
  redirectUri?: string;
  /** Scopes to ask for (default openid email profile). */
  scopes?: string[];
  /** Button label for the login page (default "Single sign-on"). */
  name?: string;
  /**
   * Create an account (role user) for a verified email without one. Default: as the hub's
   * registration setting says (open: yes; invite-only: no), so a public provider cannot open the hub.
   */
  createUsers?: boolean;
}

export const OIDC_ERRORS = {
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SERVICE_UNAVAILABLE: 503,
} as const;

/** Codes shared with api/errors.ts (same status), so the API answers with them as they are. */
export class OidcError extends JoulehubError {
  declare readonly code: keyof typeof OIDC_ERRORS;
  readonly statusCode: number;
  constructor(code: keyof typeof OIDC_ERRORS, message: string) {
    super(code, message);
    this.statusCode = OIDC_ERRORS[code];
  }
}

interface Pending { verifier: string; nonce: string; redirectUri: string; returnTo: string; expiresAt: number }

/** An attempt must come back within this time. */
const ATTEMPT_TTL_MS = 10 * 60_000;
const MAX_PENDING = 10_000;

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\./u.test(url.hostname);
}

/** Only paths on this hub may be returned to (no `//host`, no scheme). */
export function safeReturnTo(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  return value;
}

export class OidcLogin {
  private config: Promise<client.Configuration> | undefined;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly settings: OidcSettings, private readonly auth: AuthService, private readonly clock: Clock) {}

  get displayName(): string {
    return this.settings.name ?? 'Single sign-on';
  }

  /** The provider's metadata, fetched once (again after a failure). */
  private configuration(): Promise<client.Configuration> {
    this.config ??= (async () => {
      let issuer: URL;
      try {
        issuer = new URL(this.settings.issuer);
      } catch {
        throw new OidcError('SERVICE_UNAVAILABLE', `auth.oidc.issuer "${this.settings.issuer}" is not a URL`);
      }
      const insecure = issuer.protocol === 'http:';
      if (insecure && !isLoopback(issuer)) {
        throw new OidcError('SERVICE_UNAVAILABLE', `auth.oidc.issuer must be https (plain http only on this machine): ${issuer.href}`);
      }
      try {
        return await client.discovery(issuer, this.settings.clientId, undefined, client.ClientSecretPost(this.settings.clientSecret), {
          ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
          timeout: 10,
        });
      } catch (err) {
        throw new OidcError('SERVICE_UNAVAILABLE', `the identity provider ${issuer.href} could not be reached: ${(err as Error).message}`);
      }
    })();
    this.config.catch(() => { this.config = undefined; });
    return this.config;
  }

  /** Begins a login: the URL to send the browser to, and the state for its cookie. */
  async start(opts: { redirectUri: string; returnTo?: string }): Promise<{ url: string; state: string }> {
    const config = await this.configuration();
    this.prune();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const redirectUri = this.settings.redirectUri ?? opts.redirectUri;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: (this.settings.scopes ?? ['openid', 'email', 'profile']).join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    this.pending.set(state, { verifier, nonce, redirectUri, returnTo: safeReturnTo(opts.returnTo), expiresAt: this.clock.now() + ATTEMPT_TTL_MS });
    return { url: url.href, state };
  }

  /**
   * Completes a login from the provider's redirect (`callbackUrl` with code and state; `cookieState`
   * from this browser's cookie). One use per attempt.
   */
  async finish(callbackUrl: URL, cookieState: string | undefined, meta: RequestMeta = {}): Promise<{ user: User; session: Session; secret: string; returnTo: string }> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const providerError = callbackUrl.searchParams.get('error');
    const attempt = this.pending.get(state);
    if (attempt) this.pending.delete(state);
    if (providerError) {
      const description = callbackUrl.searchParams.get('error_description');
      throw new OidcError('UNAUTHORIZED', `the identity provider refused the login: ${providerError}${description ? ` (${description})` : ''}`);
    }
    if (!attempt || attempt.expiresAt <= this.clock.now() || !cookieState || cookieState !== state) {
      throw new OidcError('UNAUTHORIZED', 'this login attempt is unknown, expired or from another browser; start again');
    }
    const config = await this.configuration();
    // The provider redirected to the registered URI; compare against it, not the proxy-internal URL.
    const current = new URL(attempt.redirectUri);
    current.search = callbackUrl.search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: attempt.verifier,
        expectedState: state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      claims = { ...idToken };
      // Many providers put email only in userinfo when an access token is issued (OIDC Core 5.4).
      if (typeof idToken.email !== 'string' && tokens.access_token) {
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...idToken };
      }
    } catch (err) {
      throw new OidcError('UNAUTHORIZED', `the identity provider's answer could not be verified: ${(err as Error).message}`);
    }
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    if (!email || claims.email_verified !== true) {
      throw new OidcError('FORBIDDEN', 'the identity provider did not vouch for an email address (email_verified); no account can be matched');
    }
    let user = await this.auth.users.getByEmail(email);
    if (!user) {
      const create = this.settings.createUsers ?? (await this.auth.settings.registration()) === 'open';
      if (!create) throw new OidcError('FORBIDDEN', `no account for ${email}; ask an admin to create one (or invite you)`);
      user = await this.auth.users.create({ email, role: 'user', name: typeof claims.name === 'string' ? claims.name : null });
      await this.auth.record({ actor: user, action: 'register', target: user.id, ip: meta.ip ?? null, detail: { via: 'oidc', issuer: this.settings.issuer } });
    }
    const { session, secret } = await this.auth.createSession(user.id, meta);
    await this.auth.record({ actor: user, action: 'login', target: user.id, ip: meta.ip ?? null, detail: { via: 'oidc', session: session.id } });
    return { user, session, secret, returnTo: attempt.returnTo };
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [state, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(state);
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}
