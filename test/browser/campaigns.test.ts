import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../processes.js';
import { ADMIN, hasChromium, seriousViolations, startHarness, type Harness } from './harness.js';

/** The Campaigns screen: create with a live preview, watch a campaign complete (sandbox), pause, resume and cancel. */

const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
const TEMPLATE_BODY = 'Hi {{1}}, our winter sale starts today: 20% off everything until Sunday.';

describe.skipIf(!hasChromium)('the Campaigns screen in Chromium', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    h = await startHarness({ JOBS_POLL_INTERVAL: '200ms' });
    const { data } = await h.mumble<{ data: { id: string } }>('create-template', { name: 'winter_sale', language: 'en_US', category: 'MARKETING', body: TEMPLATE_BODY, body_examples: ['Dana'] });
    await h.mumble('sandbox/set-template-status', { template_id: data.id, status: 'APPROVED' });
    for (const label of ['VIP', 'Newsletter', 'Churned']) await h.mumble('add-new-label', { label_name: label });
    const customers: [string, string | null, string[]][] = [
      ['972503330001', 'Dana Levi', ['VIP', 'Newsletter']],
      ['972503330002', null, ['VIP']],
      ['972503330003', 'Noa', ['VIP', 'Churned']],
      ['972503330004', 'Omer', ['Newsletter']],
      ['972503330005', 'Gil', ['Newsletter']],
    ];
    for (const [phone, name, labels] of customers) {
      await h.mumble('add-new-customer', { customer_phone: phone, ...(name && { name }) });
      for (const label of labels) await h.mumble('add-customer-to-label', { customer_phone: phone, label_name: label });
    }
    context = await h.context({ lang: 'en' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.setViewportSize({ width: 1280, height: 900 });
    await h.signIn(page, ADMIN.email, ADMIN.password);
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
  });

  const preview = () => page.locator('figure.campaign-preview');
  const badge = () => page.locator('#campaign-title .badge');

  it('creates a campaign to a label with a live preview, and watches it complete', async () => {
    await page.goto('/app/admin/campaigns');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByText('No campaigns yet.').waitFor();
    await page.getByRole('textbox', { name: 'Campaign name' }).fill('Winter sale');
    await page.getByRole('combobox', { name: 'Approved template' }).selectOption({ label: 'winter_sale (en_US)' });
    // The first variable starts as the name with a fallback; without an audience, the fallback shows.
    expect(await page.getByRole('textbox', { name: 'Variable 1' }).inputValue()).toBe('{{customer.name|there}}');
    await expect.poll(() => preview().textContent()).toContain('Hi there, our winter sale');
    await page.getByRole('listbox', { name: 'Any of these labels' }).selectOption(['VIP']);
    await page.getByRole('listbox', { name: 'None of these labels' }).selectOption(['Churned']);
    await expect.poll(() => preview().textContent()).toContain('Preview for Dana Levi (972503330001)');
    expect(await preview().textContent()).toContain('Hi Dana Levi, our winter sale starts today');
    // A reference without a fallback, for a sample recipient without the value: the warning.
    await page.getByRole('textbox', { name: 'Variable 1' }).fill('{{fields.city}}');
    await expect.poll(() => preview().textContent()).toContain('Empty for this recipient: variable 1');
    await page.getByRole('textbox', { name: 'Variable 1' }).fill('{{customer.name|friend}}');
    await expect.poll(() => preview().textContent()).toContain('Hi Dana Levi,');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('heading', { name: /Winter sale/ }).waitFor();
    await expect.poll(() => badge().textContent(), { timeout: 20_000 }).toBe('Completed');
    const counts = page.getByRole('definition');
    await expect.poll(async () => (await counts.allTextContents()).map(Number).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    const table = page.getByRole('table', { name: 'Recipients' });
    await expect.poll(() => table.getByRole('row').count()).toBe(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'campaigns-view-desktop-en.png'), fullPage: true });
    expect(await table.textContent()).toContain('972503330001');
    expect(await table.textContent()).not.toContain('972503330003');
    const { campaigns } = await h.mumble<{ campaigns: { name: string; status: string; recipients: number }[] }>('get-campaigns');
    expect(campaigns).toEqual([expect.objectContaining({ name: 'Winter sale', status: 'completed', recipients: 2 })]);
    // What the customers got: their own names, the fallback for the one without.
    const texts = async (phone: string) => (await h.mumble<{ messages: { text: string }[] }>('get-conversation', { customer_phone: phone })).messages.map((message) => message.text);
    expect(await texts('972503330001')).toContain('Hi Dana Levi, our winter sale starts today: 20% off everything until Sunday.');
    expect(await texts('972503330002')).toContain('Hi friend, our winter sale starts today: 20% off everything until Sunday.');
    // Filtering the recipients by status.
    await page.getByRole('combobox', { name: 'Recipient status' }).selectOption({ label: 'Skipped' });
    await expect.poll(() => table.getByRole('row').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('pauses, resumes and cancels a scheduled campaign', async () => {
    await page.getByRole('button', { name: 'All campaigns' }).click();
    await page.getByRole('button', { name: 'Open Winter sale' }).waitFor();
    await page.getByRole('textbox', { name: 'Campaign name' }).fill('Newsletter, next week');
    await page.getByRole('combobox', { name: 'Approved template' }).selectOption({ label: 'winter_sale (en_US)' });
    await page.getByRole('listbox', { name: 'Any of these labels' }).selectOption(['Newsletter']);
    await page.getByRole('spinbutton', { name: 'Messages per second' }).fill('5');
    const nextWeek = new Date(Date.now() + 7 * 86_400_000);
    const local = new Date(nextWeek.getTime() - nextWeek.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Start at (optional)').fill(local);
    await expect.poll(() => preview().textContent()).toContain('Preview for Dana Levi');
    await page.getByRole('textbox', { name: 'Campaign name' }).focus();
    await page.screenshot({ path: join(SCREENSHOTS, 'campaigns-desktop-en.png'), fullPage: true });

    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('heading', { name: /Newsletter, next week/ }).waitFor();
    await expect.poll(() => badge().textContent()).toBe('Scheduled');
    expect(await page.getByRole('button', { name: 'Resume' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => badge().textContent()).toBe('Paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => badge().textContent()).toBe('Scheduled');
    await page.getByRole('button', { name: 'Cancel campaign' }).click();
    await expect.poll(() => badge().textContent()).toBe('Cancelled');
    for (const name of ['Pause', 'Resume', 'Cancel campaign', 'Retry failed']) expect(await page.getByRole('button', { name }).isDisabled()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    const { campaigns } = await h.mumble<{ campaigns: { name: string; status: string }[] }>('get-campaigns');
    expect(campaigns.map((campaign) => [campaign.name, campaign.status])).toEqual([
      ['Newsletter, next week', 'cancelled'],
      ['Winter sale', 'completed'],
    ]);
    await page.getByRole('button', { name: 'All campaigns' }).click();
    await page.getByRole('table', { name: 'Campaigns' }).getByRole('row').nth(2).waitFor();
  });

  it('reads right to left in Hebrew', async () => {
    const hebrew = await h.context({ lang: 'he' });
    const he = await hebrew.newPage();
    he.setDefaultTimeout(10_000);
    await he.setViewportSize({ width: 1280, height: 900 });
    await h.signIn(he, ADMIN.email, ADMIN.password);
    await he.goto('/app/admin/campaigns');
    await he.getByRole('heading', { name: 'קמפיינים' }).waitFor();
    expect(await he.evaluate('document.documentElement.dir')).toBe('rtl');
    await he.getByRole('textbox', { name: 'שם הקמפיין' }).fill('מבצע חורף');
    await he.getByRole('combobox', { name: 'תבנית מאושרת' }).selectOption({ label: 'winter_sale (en_US)' });
    await he.getByRole('listbox', { name: 'אחת מהתוויות האלה', exact: true }).selectOption(['VIP']);
    await expect.poll(() => he.locator('figure.campaign-preview').textContent()).toContain('Dana Levi');
    await he.getByRole('textbox', { name: 'שם הקמפיין' }).blur();
    await he.screenshot({ path: join(SCREENSHOTS, 'campaigns-desktop-he.png'), fullPage: true });
    expect(await seriousViolations(he)).toEqual([]);
    await hebrew.close();
  });
});
