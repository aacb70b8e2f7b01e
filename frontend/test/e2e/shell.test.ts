/**
 * The dashboard shell in a real browser against a real hub: logging in, live values, what each
 * user may see, the device page's hourly chart, notifications as a banner, the disconnected
 * indicator, onboarding and admin pages. Screenshots land in test-artifacts/e2e/.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestUser } from '../../../core/test/api/harness.js';
import { describeE2e, launch, logIn, newPage, poll, screenshot, startHub, type E2eHub } from './support.js';

// 2026-03-29 is the spring-forward day in Europe/Berlin: 23 hours.
const DAY = '2026-03-29';
const DAY_START = Date.parse('2026-03-28T23:00:00Z');
/** kWh in hour i of DAY. */
const hourKwh = (i: number) => Math.round(((i % 6) + 1) * 0.1 * 10) / 10;
const plain = (s: string | null) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ').trim();

describeE2e('dashboard shell in Chromium', (dbUrl) => {
  let h: E2eHub;
  let browser: Browser;
  let alice: TestUser;
  let bob: TestUser;

  const api = async (method: string, url: string, payload?: unknown) => {
    const res = await h.app.inject({ method: method as 'GET', url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as unknown;
  };

  beforeAll(async () => {
    h = await startHub(dbUrl);
    browser = await launch();
    alice = await h.createUser({ email: 'alice@example.org', password: 'alice-password-1' });
    bob = await h.createUser({ email: 'bob@example.org', password: 'bob-password-1' });
    await api('POST', '/api/v1/devices', { id: 'fridge', name: 'Kitchen fridge', address: 'Kitchen, ground floor', description: 'Bosch KGN', max_hourly_kwh: 0.5 });
    await api('POST', '/api/v1/devices', { id: 'oven', name: "Bob's oven", max_hourly_kwh: 3 });
    await api('POST', '/api/v1/devices', { id: 'spare', name: 'Spare plug' });
    await api('PATCH', '/api/v1/devices/fridge', { owner: alice.id });
    await api('PATCH', '/api/v1/devices/oven', { owner: bob.id });
    await h.hub.entities.register('fridge', { key: 'power', kind: 'power' });
    await h.hub.entities.register('oven', { key: 'power', kind: 'power' });
    // A meter on the fridge: one cumulative reading at every hour boundary of DAY (and the next midnight).
    let total = 100;
    const data = [];
    for (let i = 0; i <= 23; i++) {
      data.push({ datetime: new Date(DAY_START + i * 3_600_000).toISOString(), value: Math.round(total * 10) / 10 });
      total += hourKwh(i);
    }
    await api('POST', '/api/v1/devices/fridge/readings', { units: 'kWh', reading: 'cumulative', data });
    await h.hub.flush();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in and shows a device\'s power changing live, in the user\'s locale', async () => {
    const { context, page, errors } = await newPage(browser, { locale: 'de-DE' });
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/devices/fridge');
      await poll(() => page.url()).toContain('/devices/fridge');
      await page.getByRole('heading', { name: 'Kitchen fridge' }).waitFor();
      const live = page.getByTestId('live-power');
      await poll(async () => (await page.getByTestId('connection').textContent())?.trim()).toBe('Live');
      h.hub.report('fridge.power', 1234, h.clock.now());
      await poll(async () => plain(await live.textContent())).toMatch(/^1,23 kW/);
      h.hub.report('fridge.power', 250, h.clock.now());
      await poll(async () => plain(await live.textContent())).toMatch(/^250 W/);
      await expect(page.getByText('Kitchen, ground floor')).toBeDefined();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a user only their own devices', async () => {
    const { context, page } = await newPage(browser);
    try {
      await logIn(page, h.baseUrl, bob.email, bob.password, '/devices');
      const table = page.getByTestId('devices');
      await table.waitFor();
      await poll(async () => page.locator('[data-testid=devices] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')))).toEqual(['oven']);
      await screenshot(page, 'devices-bob');
      // The fridge is alice's: its page says so instead of showing it.
      await page.goto(`${h.baseUrl}/devices/fridge`);
      await page.getByRole('alert').filter({ hasText: 'not visible' }).waitFor();
      expect(await page.getByText('Kitchen fridge').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('draws the hourly chart of a DST day with 23 bars of the right heights', async () => {
    const { context, page, errors } = await newPage(browser, { timezoneId: 'Europe/Berlin' });
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, `/devices/fridge?date=${DAY}`);
      const summary = page.getByTestId('day-summary');
      await summary.waitFor();
      expect(plain(await summary.textContent())).toContain('23 hours');
      // The figures, as the screen-reader table lists them (00:00, 01:00, 03:00 … in Berlin time).
      const rows = page.locator('[data-testid=hourly-table] tbody tr');
      expect(await rows.count()).toBe(23);
      const table = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, Number(tr.children[1]!.getAttribute('data-kwh'))]));
      expect(table.slice(0, 3)).toEqual([['00:00', hourKwh(0)], ['01:00', hourKwh(1)], ['03:00', hourKwh(2)]]);
      expect(table.map((r) => r[1])).toEqual(Array.from({ length: 23 }, (_, i) => hourKwh(i)));
      // Hours above the 0.5 kWh maximum are counted.
      const over = Array.from({ length: 23 }, (_, i) => hourKwh(i)).filter((k) => k > 0.5).length;
      expect(plain(await summary.textContent())).toContain(`${over} hours over the maximum`);

      // The bars drawn: 23, and each one's height proportional to its hour's energy.
      const heights = await page.locator('jh-hourly-chart').evaluate(async (el) => {
        const root = el.shadowRoot!;
        for (let i = 0; i < 50 && root.querySelectorAll('svg path').length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        const accent = getComputedStyle(el).getPropertyValue('--jh-accent').trim().toLowerCase();
        const bars = [...root.querySelectorAll<SVGPathElement>('svg path')]
          .filter((p) => (p.getAttribute('fill') ?? '').toLowerCase() === accent)
          .map((p) => ({ x: p.getBBox().x, h: p.getBBox().height }))
          .sort((a, b) => a.x - b.x);
        return bars.map((b) => b.h);
      });
      expect(heights.length).toBe(23);
      const unit = heights[0]! / hourKwh(0);
      heights.forEach((height, i) => expect(height, `bar ${i}`).toBeCloseTo(hourKwh(i) * unit, 0));
      await screenshot(page, 'device-page-light');

      // Another date through the date field: an ordinary day has 24 hours (no data → flat bars).
      await page.getByLabel('Date').fill('2026-03-30');
      await poll(async () => plain(await summary.textContent())).toContain('24 hours');
      expect(page.url()).toContain('date=2026-03-30');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows an over-consumption notification as a banner, only to its user', async () => {
    const a = await newPage(browser);
    const b = await newPage(browser);
    try {
      await logIn(a.page, h.baseUrl, alice.email, alice.password, '/devices');
      await logIn(b.page, h.baseUrl, bob.email, bob.password, '/devices');
      for (const p of [a.page, b.page]) await poll(async () => (await p.getByTestId('connection').textContent())?.trim()).toBe('Live');
      await h.hub.notifications.notify({
        users: [alice.id], deviceId: 'fridge', level: 'warning',
        title: 'Kitchen fridge used 0.6 kWh in one hour', message: 'Its maximum is 0.5 kWh.',
      });
      const banner = a.page.getByTestId('notification-banner');
      await banner.waitFor();
      expect(plain(await banner.textContent())).toContain('Kitchen fridge used 0.6 kWh in one hour');
      const badge = a.page.getByTestId('unread-notifications');
      await poll(async () => plain(await badge.textContent())).toBe(', 1 unread');
      await screenshot(a.page, 'notification-banner');
      await b.page.waitForTimeout(300);
      expect(await b.page.getByTestId('notification-banner').count()).toBe(0);
      expect(await b.page.getByTestId('unread-notifications').count()).toBe(0);
      // It is in the list too; dismissing the banner marks it read, which clears the badge.
      await a.page.getByRole('link', { name: /^Notifications/ }).click();
      await a.page.getByTestId('notifications').getByText('Kitchen fridge used 0.6 kWh in one hour').waitFor();
      await a.page.getByRole('button', { name: /Dismiss notification/ }).click();
      expect(await banner.count()).toBe(0);
      await poll(() => badge.count()).toBe(0);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('shows "disconnected" while the hub is unreachable and goes live again after', async () => {
    const { context, page } = await newPage(browser);
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/devices/fridge');
      const indicator = page.getByTestId('connection');
      await poll(async () => (await indicator.textContent())?.trim()).toBe('Live');
      await page.getByRole('heading', { name: 'Kitchen fridge' }).waitFor();
      await context.setOffline(true);
      for (const socket of h.app.websocketServer.clients) socket.terminate();
      await poll(async () => (await indicator.textContent())?.trim(), { timeout: 10_000 }).toBe('Disconnected');
      await page.getByRole('alert').filter({ hasText: 'Connection to the hub lost' }).waitFor();
      await screenshot(page, 'disconnected');
      await context.setOffline(false);
      await poll(async () => (await indicator.textContent())?.trim(), { timeout: 15_000 }).toBe('Live');
      // Resubscribed: live values flow again.
      h.hub.report('fridge.power', 777, h.clock.now());
      await poll(async () => plain(await page.getByTestId('live-power').textContent())).toMatch(/^777 W/);
    } finally {
      await context.close();
    }
  });

  it('sends the user to the login page when their session ends elsewhere', async () => {
    const { context, page } = await newPage(browser);
    try {
      await logIn(page, h.baseUrl, bob.email, bob.password, '/devices');
      await poll(async () => (await page.getByTestId('connection').textContent())?.trim()).toBe('Live');
      // Logged out everywhere (a password change, an admin's action): the socket drops and cannot come back.
      await h.hub.auth.sessions.deleteForUser(bob.id);
      for (const socket of h.app.websocketServer.clients) socket.terminate();
      await page.getByRole('heading', { name: 'Log in to Joulehub' }).waitFor({ timeout: 20_000 });
      expect(page.url()).toContain('/login?next=%2Fdevices');
    } finally {
      await context.close();
    }
  });

  it('lets an admin assign an orphan device to a user, who then sees it', async () => {
    const admin = await newPage(browser);
    const user = await newPage(browser);
    try {
      await logIn(admin.page, h.baseUrl, h.admin!.email, h.admin!.password, '/admin/devices?orphans=true');
      await admin.page.getByRole('heading', { name: 'Orphan devices' }).waitFor();
      await admin.page.getByLabel('Owner of Spare plug').selectOption({ label: alice.email });
      await admin.page.getByRole('status').filter({ hasText: 'Spare plug assigned to alice@example.org' }).waitFor();
      await screenshot(admin.page, 'admin-devices');
      await admin.page.goto(`${h.baseUrl}/admin/users`);
      await admin.page.getByTestId('users').waitFor();
      await screenshot(admin.page, 'admin-users');

      await logIn(user.page, h.baseUrl, alice.email, alice.password, '/devices');
      await poll(async () => user.page.locator('[data-testid=devices] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')))).toEqual(['fridge', 'spare']);
      // A user has no admin pages.
      expect(await user.page.getByRole('link', { name: 'Users' }).count()).toBe(0);
      await user.page.goto(`${h.baseUrl}/admin/users`);
      await user.page.getByRole('heading', { name: 'Page not found' }).waitFor();
    } finally {
      await admin.context.close();
      await user.context.close();
    }
  });

  it('works at phone width in the dark theme, and by keyboard', async () => {
    const { context, page } = await newPage(browser, { width: 390, height: 844, colorScheme: 'dark' });
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/devices');
      await page.getByTestId('devices').waitFor();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      // Nothing wider than the screen.
      const wide = await page.evaluate(() => {
        const out: string[] = [];
        const walk = (root: Document | ShadowRoot) => {
          for (const el of root.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.right > 391) out.push(`${el.tagName}.${el.className} ${Math.round(r.right)}`);
            if (el.shadowRoot) walk(el.shadowRoot);
          }
        };
        walk(document);
        return out;
      });
      expect(wide).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, 'devices-phone-dark');
      // Tab to the fridge link and open it with Enter.
      const link = page.getByRole('link', { name: 'Kitchen fridge' });
      for (let i = 0; i < 30 && !(await link.evaluate((el) => el.matches(':focus'))); i++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Kitchen fridge' }).waitFor();
      await screenshot(page, 'device-page-phone-dark');
    } finally {
      await context.close();
    }
  });
});

describeE2e('first start in Chromium', (dbUrl) => {
  let h: E2eHub;
  let browser: Browser;
  beforeAll(async () => {
    h = await startHub(dbUrl, { admin: false });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('creates the first admin on the onboarding page; once logged out, pages ask to log in', async () => {
    const { context, page, errors } = await newPage(browser);
    let p: Page = page;
    try {
      await p.goto(`${h.baseUrl}/`);
      await p.getByRole('heading', { name: 'Welcome to Joulehub' }).waitFor();
      await screenshot(p, 'onboarding');
      await p.getByLabel('Email').fill('first@example.org');
      await p.getByLabel('Password (at least 8 characters)').fill('first-admin-pw');
      await p.getByLabel('Repeat the password').fill('first-admin-pw');
      await p.getByRole('button', { name: 'Create the admin account' }).click();
      await p.getByRole('button', { name: 'Log out' }).waitFor();
      expect(await p.getByRole('link', { name: 'Users' }).count()).toBe(1);

      // Log out, and the login page is what a visitor gets now.
      await p.getByRole('button', { name: 'Log out' }).click();
      await p.getByRole('heading', { name: 'Log in to Joulehub' }).waitFor();
      await screenshot(p, 'login');
      p = await context.newPage();
      await p.goto(`${h.baseUrl}/devices`);
      await p.getByRole('heading', { name: 'Log in to Joulehub' }).waitFor();
      expect(p.url()).toContain('/login?next=%2Fdevices');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
