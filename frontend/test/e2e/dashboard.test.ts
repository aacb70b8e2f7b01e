/**
 * The dashboard page in a real browser against a real hub: the generated first dashboard's gauge
 * follows the device live, and a card added in edit mode is saved and still there after a reload.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestUser } from '../../../core/test/api/harness.js';
import { describeE2e, launch, logIn, newPage, poll, screenshot, startHub, type E2eHub } from './support.js';

const plain = (s: string | null) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ').trim();

describeE2e('dashboards in Chromium', (dbUrl) => {
  let h: E2eHub;
  let browser: Browser;
  let alice: TestUser;

  beforeAll(async () => {
    h = await startHub(dbUrl);
    browser = await launch();
    alice = await h.createUser({ email: 'alice@example.org', password: 'alice-password-1' });
    for (const [id, name] of [['fridge', 'Kitchen fridge'], ['heatpump', 'Heat pump']] as const) {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id, name, max_power_w: 4000 } });
      expect(res.statusCode, res.body).toBe(201);
      await h.app.inject({ method: 'PATCH', url: `/api/v1/devices/${id}`, payload: { owner: alice.id } });
      await h.hub.entities.register(id, { key: 'power', kind: 'power' });
    }
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in and the gauge follows the device live', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/');
      const gauge = page.locator('jh-gauge-card').filter({ hasText: 'Kitchen fridge' });
      await gauge.first().waitFor();
      await poll(async () => (await page.getByTestId('connection').textContent())?.trim()).toBe('Live');
      h.hub.report('fridge.power', 1500, h.clock.now());
      const value = gauge.first().locator('.value-text');
      await poll(async () => plain(await value.textContent())).toBe('1.5 kW');
      h.hub.report('fridge.power', 80, h.clock.now());
      await poll(async () => plain(await value.textContent())).toBe('80 W');
      expect(await gauge.first().getByRole('meter').getAttribute('aria-valuenow')).toBe('80');
      await screenshot(page, 'dashboard');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps a card added in edit mode after a reload', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await logIn(page, h.baseUrl, alice.email, alice.password, '/');
      await page.locator('jh-gauge-card').first().waitFor();
      const notes = page.locator('jh-notifications-card');
      // What the stored dashboard holds (each card's module loads on its own, so counting the page
      // as soon as a gauge shows could miss a notifications card still on its way), then the page.
      const before = await page.evaluate(async () => {
        const list = (await (await fetch('/api/v1/dashboards')).json()) as { data: { id: string }[] };
        const first = (await (await fetch(`/api/v1/dashboards/${list.data[0].id}`)).json()) as { cards: { config: { type: string } }[] };
        return first.cards.filter((c) => c.config.type === 'notifications').length;
      });
      await poll(() => notes.count()).toBe(before);
      await page.getByRole('button', { name: 'Edit dashboard' }).click();
      await page.getByRole('button', { name: 'Add card' }).click();
      await page.locator('dialog[open] button[data-type="notifications"], dialog[open] button[data-type="jh-notifications-card"]').first().click();
      await poll(() => notes.count()).toBe(before + 1);
      await page.getByRole('button', { name: 'Save' }).click();
      await poll(async () => page.getByRole('button', { name: 'Edit dashboard' }).count()).toBe(1);
      await screenshot(page, 'dashboard-after-add');

      await page.reload();
      await page.locator('jh-gauge-card').first().waitFor();
      await poll(() => notes.count()).toBe(before + 1);
      // Restored from the database on any browser: a fresh profile sees it too.
      const other = await newPage(browser);
      try {
        await logIn(other.page, h.baseUrl, alice.email, alice.password, '/');
        await other.page.locator('jh-gauge-card').first().waitFor();
        await poll(() => other.page.locator('jh-notifications-card').count()).toBe(before + 1);
      } finally {
        await other.context.close();
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
