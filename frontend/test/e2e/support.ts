/**
 * End-to-end support: Debian's Chromium driven by playwright-core against a real hub (PostgreSQL,
 * createHub + buildServer listening on a port, serving the built dashboard) with real users.
 *
 * Without /usr/bin/chromium a suite is skipped with a printed reason on a developer's machine, and
 * fails under CI (CI=true), where .ci/run installs it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { dbSkipReason, dbTargets } from '../../../core/test/support/db.js';
import { startApi, type ApiHarness, type HarnessOptions } from '../../../core/test/api/harness.js';

export const CHROMIUM = '/usr/bin/chromium';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = path.join(REPO, 'frontend/dist');
export const ARTIFACTS = path.join(REPO, 'test-artifacts/e2e');

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) return undefined; // fail below instead
    return `${CHROMIUM} is missing (apt-get install chromium)`;
  }
  return dbSkipReason();
}

/**
 * Like describe, against one database target (the first: e2e suites are slow, and the storage
 * suites cover both servers). Skips with a printed reason when there is no browser or database.
 */
export function describeE2e(name: string, fn: (url: string) => void): void {
  const reason = skipReason();
  if (reason) {
    process.stderr.write(`[joulehub tests] skipping "${name}": ${reason}\n`);
    describe.skip(name, () => it(`needs a browser and PostgreSQL: ${reason}`, () => undefined));
    return;
  }
  // A browser test waits on real rendering and sockets: give each one room on a busy machine.
  describe(name, { timeout: 120_000 }, () => {
    if (!existsSync(CHROMIUM)) {
      it('has Chromium (CI installs the Debian package)', () => {
        throw new Error(`${CHROMIUM} is missing: .ci/run installs the Debian package chromium`);
      });
      return;
    }
    const targets = dbTargets();
    // Prefer the local PostgreSQL service when there is one (faster than the embedded server).
    fn((targets.find((t) => t.name === 'service') ?? targets[0]!).url);
  });
}

/**
 * expect.poll with room for a busy machine (its default gives up after 1 s): waits for what a user
 * would see, up to 15 s.
 */
export function poll<T>(fn: () => T | Promise<T>, opts: { timeout?: number; interval?: number } = {}) {
  return expect.poll(fn, { timeout: 15_000, interval: 100, ...opts });
}

/** Fails with the build error when the global setup could not build the dashboard. */
export function expectBuilt(): void {
  const build = inject('joulehubFrontendBuild');
  if (build && !build.ok) throw new Error(`the dashboard did not build: ${build.error}`);
  expect(existsSync(path.join(DIST, 'index.html')), 'frontend/dist/index.html').toBe(true);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

export interface E2eHub extends ApiHarness {
  baseUrl: string;
}

/** A real hub listening on 127.0.0.1:<random>, serving frontend/dist; state frames on real time. */
export async function startHub(dbUrl: string, opts: HarnessOptions = {}): Promise<E2eHub> {
  expectBuilt();
  const h = await startApi(dbUrl, {
    // The browser drops a session cookie whose expiry (hub clock + session lifetime) has passed
    // by its own clock: the hub clock starts at the real time.
    now: new Date().toISOString(),
    ...opts,
    server: {
      frontendDir: DIST,
      ws: { timer: { now: () => Date.now(), after: (ms, fn) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } } },
      ...opts.server,
    },
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as AddressInfo;
  return Object.assign(h, { baseUrl: `http://127.0.0.1:${port}` });
}

export interface ContextOptions { locale?: string; timezoneId?: string; colorScheme?: 'light' | 'dark'; width?: number; height?: number }

/** A fresh browser profile (own cookies), in a locale and time zone. Page errors fail the test. */
export async function newPage(browser: Browser, o: ContextOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    locale: o.locale ?? 'en-GB',
    timezoneId: o.timezoneId ?? 'Europe/Berlin',
    colorScheme: o.colorScheme ?? 'light',
    viewport: { width: o.width ?? 1280, height: o.height ?? 800 },
  });
  // Fail a step with its locator named, well before the test's own timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  return { context, page, errors };
}

/** Logs in through the login page and waits for the shell. */
export async function logIn(page: Page, baseUrl: string, email: string, password: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
