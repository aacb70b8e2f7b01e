/**
 * Messages between a user and the admins in two real browsers: live delivery, the unread badge,
 * "typing…" on the other side, and the read receipt coming back to the author.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestUser } from '../../../core/test/api/harness.js';
import { describeE2e, launch, logIn, newPage, poll, screenshot, startHub, type E2eHub } from './support.js';

const plain = (s: string | null) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ').trim();

describeE2e('messages in Chromium', (dbUrl) => {
  let h: E2eHub;
  let browser: Browser;
  let alice: TestUser;

  beforeAll(async () => {
    h = await startHub(dbUrl);
    browser = await launch();
    alice = await h.createUser({ email: 'alice@example.org', password: 'alice-password-1', name: 'Alice' });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('delivers messages live both ways with unread badge, typing indicator and read receipt', async () => {
    const user = await newPage(browser);
    const admin = await newPage(browser);
    try {
      await logIn(user.page, h.baseUrl, alice.email, alice.password, '/messages');
      await logIn(admin.page, h.baseUrl, h.admin!.email, h.admin!.password, '/devices');
      for (const p of [user.page, admin.page]) await poll(async () => (await p.getByTestId('connection').textContent())?.trim()).toBe('Live');

      // Alice writes to the admins; the admin's navigation shows it unread at once.
      await user.page.getByLabel('Message').fill('The fridge reading looks wrong since Monday.');
      await user.page.getByRole('button', { name: 'Send' }).click();
      const sent = user.page.getByTestId('messages').locator('li').last();
      await poll(async () => plain(await sent.textContent())).toContain('Sent');
      const badge = admin.page.getByTestId('unread-messages');
      await poll(async () => plain(await badge.textContent())).toBe(', 1 unread');

      // The admin opens the conversation: it is read, alice sees the receipt, the badge clears.
      await admin.page.getByRole('link', { name: /^Messages/ }).click();
      await admin.page.getByRole('link', { name: 'Alice' }).click();
      await admin.page.getByText('The fridge reading looks wrong since Monday.').waitFor();
      await poll(async () => plain(await sent.textContent())).toContain('Read');
      await poll(() => badge.count()).toBe(0);

      // The admin types: alice sees it; then the reply arrives live.
      await admin.page.getByLabel('Message').pressSequentially('Checking', { delay: 20 });
      await user.page.getByText('An admin is typing…').waitFor();
      await admin.page.getByLabel('Message').fill('Checking it now — the meter was replaced.');
      await admin.page.getByRole('button', { name: 'Send' }).click();
      await user.page.getByText('Checking it now — the meter was replaced.').waitFor();
      await poll(() => user.page.getByText(/is typing/).count()).toBe(0);
      await screenshot(user.page, 'messages-user');
      await screenshot(admin.page, 'messages-admin');
    } finally {
      await user.context.close();
      await admin.context.close();
    }
  });
});
