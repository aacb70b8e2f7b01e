/**
 * Login rate limit with a growing back-off, per account and per address (@fastify/rate-limit keys
 * one counter per request and cannot key by the email in the body, nor grow the wait).
 *
 * Each key (an email, an address) may fail `freeFailures` times; every further failure locks the key
 * for `baseDelayMs · 2^(n−1)` (capped at `maxDelayMs`). A success clears the account's key, not the
 * address's (one user logging in must not unlock an address guessing many accounts). Entries are
 * forgotten after `forgetAfterMs` without failures. Memory only: a restart clears it, which is an
 * acceptable gift to an attacker who can restart the hub.
 */
import type { Clock } from '../sdk/types.js';

export interface LoginLimiterOptions {
  /** Failures before the back-off starts, per account (default 5). */
  accountFreeFailures?: number;
  /** Failures before the back-off starts, per address (default 20: a household behind one NAT). */
  addressFreeFailures?: number;
  /** First lock (default 1 s), doubled with every further failure. */
  baseDelayMs?: number;
  /** Longest lock (default 15 min). */
  maxDelayMs?: number;
  /** A key with no failure for this long starts over (default 1 h). */
  forgetAfterMs?: number;
  /** Keys kept at most (oldest dropped first; default 100,000). */
  maxKeys?: number;
}

interface Entry { failures: number; lockedUntil: number; lastFailure: number }

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly o: Required<LoginLimiterOptions>;

  constructor(private readonly clock: Clock, opts: LoginLimiterOptions = {}) {
    this.o = {
      accountFreeFailures: opts.accountFreeFailures ?? 5,
      addressFreeFailures: opts.addressFreeFailures ?? 20,
      baseDelayMs: opts.baseDelayMs ?? 1_000,
      maxDelayMs: opts.maxDelayMs ?? 15 * 60_000,
      forgetAfterMs: opts.forgetAfterMs ?? 60 * 60_000,
      maxKeys: opts.maxKeys ?? 100_000,
    };
  }

  /** Milliseconds until this login may be tried (0 = now). */
  waitMs(email: string, ip: string | null): number {
    const now = this.clock.now();
    let wait = 0;
    for (const key of this.keys(email, ip)) {
      const e = this.live(key, now);
      if (e) wait = Math.max(wait, e.lockedUntil - now);
    }
    return wait;
  }

  failed(email: string, ip: string | null): void {
    const now = this.clock.now();
    for (const key of this.keys(email, ip)) {
      const e = this.live(key, now) ?? { failures: 0, lockedUntil: 0, lastFailure: now };
      e.failures++;
      e.lastFailure = now;
      const free = key.startsWith('a:') ? this.o.accountFreeFailures : this.o.addressFreeFailures;
      if (e.failures > free) {
        const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(30, e.failures - free - 1));
        e.lockedUntil = now + delay;
      }
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    while (this.entries.size > this.o.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  succeeded(email: string): void {
    this.entries.delete(`a:${email.trim().toLowerCase()}`);
  }

  private keys(email: string, ip: string | null): string[] {
    return [`a:${email.trim().toLowerCase()}`, ...(ip ? [`i:${ip}`] : [])];
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && now - e.lastFailure > this.o.forgetAfterMs && e.lockedUntil <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}
