/**
 * Stored locale and time zone in Chromium against a real hub: a user in an en-US browser in
 * Honolulu sets de-DE and Asia/Kathmandu on the account page, reloads, and sees numbers with a
 * decimal comma and the device page's "today" and hourly chart cut in Kathmandu; another browser
 * shows the same. The browser's clock is fixed where the two zones are on different dates.
 * Also: ordering the dashboards with the keyboard on the dashboards page, kept after a reload.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestUser } from '../../../core/test/api/harness.js';
import { describeE2e, launch, logIn, newPage, poll, screenshot, startHub, type E2eHub } from './support.js';

// 20:00 UTC: 10:00 on 2026-03-28 in Honolulu (UTC−10), 01:45 on 2026-03-29 in Kathmandu (UTC+05:45).
const NOW = '2026-03-28T20:00:00Z';
const KTM_DAY = '2026-03-29';
const KTM_DAY_START = Date.parse('2026-03-28T18:15:00Z');
const hourKwh = (i: number) => Math.round(((i % 4) + 1) * 0.1 * 10) / 10;
const plain = (s: string | null) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ').trim();

describeE2e('stored locale and time zone in Chromium', (dbUrl) => {
  let h: E2eHub;
  let browser: Browser;
  let alice: TestUser;

  const api = async (method: string, url: string, payload?: unknown) => {
    const res = await h.app.inject({ method: method as 'GET', url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as unknown;
  };

  /** A browser profile whose JavaScript clock reads NOW (timers keep running). */
  const open = async (o: { locale: string; timezoneId: string }) => {
    const p = await newPage(browser, o);
    await p.context.clock.setFixedTime(new Date(NOW));
    return p;
  };

  beforeAll(async () => {
    h = await startHub(dbUrl);
    browser = await launch();
    alice = await h.createUser({ email: 'alice@example.org', password: 'alice-password-1' });
    await api('POST', '/api/v1/devices', { id: 'meter', name: 'House meter' });
    await api('PATCH', '/api/v1/devices/meter', { owner: alice.id });
    await h.hub.entities.register('meter', { key: 'power', kind: 'power' });
    // A cumulative reading at every hour boundary of the Kathmandu day (they fall at :15 UTC).
    let total = 500;
    const data = [];
    for (let i = 0; i <= 24; i++) {
      data.push({ datetime: new Date(KTM_DAY_START + i * 3_600_000).toISOString(), value: Math.round(total * 10) / 10 });
      total += hourKwh(i);
    }
    await api('POST', '/api/v1/devices/meter/readings', { units: 'kWh', reading: 'cumulative', data });
    await h.hub.flush();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const sample = (page: Page) => page.getByTestId('prefs-sample');

  it('sets de-DE and Asia/Kathmandu on the account page; after a reload numbers and days follow them', async () => {
    const { context, page, errors } = await open({ locale: 'en-US', timezoneId: 'Pacific/Honolulu' });
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/account');
      // Nothing stored yet: the browser's.
      await poll(async () => plain(await sample(page).textContent())).toContain('1.23 kW');
      expect(plain(await sample(page).textContent())).toContain('(Pacific/Honolulu)');
      expect(await page.getByLabel('Number and date format (language tag)').getAttribute('placeholder')).toContain('en-US');

      await page.getByLabel('Number and date format (language tag)').fill('de-DE');
      await page.getByLabel('Time zone', { exact: true }).selectOption('Asia/Kathmandu');
      await page.getByRole('button', { name: 'Save language and time zone' }).click();
      await page.getByText('Saved.').waitFor();

      await page.reload();
      await poll(async () => plain(await sample(page).textContent())).toContain('1,23 kW');
      expect(plain(await sample(page).textContent())).toContain('(Asia/Kathmandu)');
      expect(await page.getByLabel('Number and date format (language tag)').inputValue()).toBe('de-DE');
      expect(await page.getByLabel('Time zone', { exact: true }).inputValue()).toBe('Asia/Kathmandu');
      await screenshot(page, 'account-preferences');

      // The device page: "today" is Kathmandu's date (Honolulu's is the day before), its hours start
      // at Kathmandu midnight, and figures use a decimal comma.
      await page.goto(`${h.baseUrl}/devices/meter`);
      const summary = page.getByTestId('day-summary');
      await summary.waitFor();
      expect(await page.getByLabel('Date').inputValue()).toBe(KTM_DAY);
      expect(plain(await summary.textContent())).toContain('24 hours');
      expect(plain(await summary.textContent())).toContain('times in Asia/Kathmandu');
      expect(plain(await page.getByRole('heading', { name: /Energy per hour/ }).textContent())).toContain('29. März 2026');
      const rows = page.locator('[data-testid=hourly-table] tbody tr');
      const table = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, Number(tr.children[1]!.getAttribute('data-kwh'))]));
      expect(table.map((r) => r[1])).toEqual(Array.from({ length: 24 }, (_, i) => hourKwh(i)));
      expect(table.slice(0, 2).map((r) => r[0])).toEqual(['00:00', '01:00']);

      await poll(async () => (await page.getByTestId('connection').textContent())?.trim()).toBe('Live');
      h.hub.report('meter.power', 1234, h.clock.now());
      await poll(async () => plain(await page.getByTestId('live-power').textContent())).toMatch(/^1,23 kW/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the stored values on another browser, and "browser\'s" puts that browser\'s back', async () => {
    const { context, page, errors } = await open({ locale: 'en-GB', timezoneId: 'Europe/London' });
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/account');
      await poll(async () => plain(await sample(page).textContent())).toContain('1,23 kW');
      expect(plain(await sample(page).textContent())).toContain('(Asia/Kathmandu)');

      await page.getByLabel('Number and date format (language tag)').fill('');
      await page.getByLabel('Time zone', { exact: true }).selectOption('');
      await page.getByRole('button', { name: 'Save language and time zone' }).click();
      await page.getByText('Saved.').waitFor();
      await poll(async () => plain(await sample(page).textContent())).toContain('1.23 kW');
      expect(plain(await sample(page).textContent())).toContain('(Europe/London)');
      expect((await h.app.inject({ url: '/api/v1/auth/me', headers: alice.headers })).json().preferences).toEqual({ locale: null, time_zone: null });

      // A tag that is not one is refused before it is sent.
      await page.getByLabel('Number and date format (language tag)').fill('not a tag!');
      await page.getByRole('button', { name: 'Save language and time zone' }).click();
      await page.getByRole('alert').filter({ hasText: 'is not a language tag' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('orders the dashboards with the move buttons, from the keyboard, and keeps the order after a reload', async () => {
    for (const title of ['Home', 'Solar', 'Heating']) await h.app.inject({ method: 'POST', url: '/api/v1/dashboards', headers: alice.headers, payload: { title } });
    const { context, page, errors } = await open({ locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/');
      const tabs = page.getByRole('navigation', { name: 'Dashboards' }).getByRole('button');
      const first = 'Home';
      await poll(async () => (await tabs.allTextContents()).map((t) => t.trim())).toEqual([first, 'Solar', 'Heating']);

      await page.getByRole('button', { name: 'Arrange dashboards' }).click();
      const up = page.getByRole('button', { name: 'Move Heating up' });
      await up.focus();
      await page.keyboard.press('Enter');
      await poll(async () => (await tabs.allTextContents()).map((t) => t.trim())).toEqual([first, 'Heating', 'Solar']);
      // Focus stays on the moved dashboard's button: Enter again moves it to the top.
      await poll(() => page.evaluate(() => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return el?.getAttribute('aria-label');
      })).toBe('Move Heating up');
      await page.keyboard.press('Enter');
      await poll(async () => (await tabs.allTextContents()).map((t) => t.trim())).toEqual(['Heating', first, 'Solar']);
      await page.getByRole('status').filter({ hasText: '"Heating" is now 1 of 3.' }).waitFor();
      expect(await page.getByRole('button', { name: 'Move Heating up' }).isDisabled()).toBe(true);
      await screenshot(page, 'dashboards-arrange');

      await page.reload();
      await poll(async () => (await tabs.allTextContents()).map((t) => t.trim())).toEqual(['Heating', first, 'Solar']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
