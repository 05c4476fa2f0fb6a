import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HANDOFF_PHRASES, INSTRUCTIONS_MAX, KNOWLEDGE_MAX } from '../../src/modules/ai/ai.schema.js';
import { ROOT } from '../processes.js';
import { ADMIN, hasChromium, seriousViolations, startHarness, type Harness } from './harness.js';

/** The inbox's AI bot screen (GET/PUT/DELETE /app/api/admin/ai): the same settings as the admin API and the CLI. */


const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
const PROVIDER_KEY = 'sk-browser-test-provider-key-do-not-show';
const KNOWLEDGE = 'We open Sunday to Thursday, 9:00 to 18:00.\nDelivery in Tel Aviv takes one working day.';

describe.skipIf(!hasChromium)('the AI bot settings screen in Chromium', () => {
  let h: Harness;
  let page: Page;
  /** The admin, signed in, in a window of their own. */
  const adminPage = async (lang: 'en' | 'he', height = 860) => {
    const opened = await (await h.context({ lang })).newPage();
    opened.setDefaultTimeout(10_000);
    await opened.setViewportSize({ width: 1280, height });
    await h.signIn(opened, ADMIN.email, ADMIN.password);
    return opened;
  };

  beforeAll(async () => {
    // A stored provider key is sealed with OPENMUMBLE_SECRET_KEY.
    h = await startHarness({ OPENMUMBLE_SECRET_KEY: 'browser-tests-secret-key-0123456789abcdef' });
    page = await adminPage('en');
    const team = await page.request.post('/app/api/admin/teams', { data: { name: 'Support' }, headers: { 'x-openmumble-csrf': '1' } });
    expect(team.status(), await team.text()).toBeLessThan(300);
  }, 120_000);
  afterAll(() => h?.stop());

  const field = (name: string) => page.getByRole('textbox', { name, exact: true });
  const stored = async () => {
    const response = await page.request.get('/app/api/admin/ai');
    return { status: response.status(), text: await response.text() };
  };

  it('starts empty, with a note that the server-wide defaults apply, and shows refusals inline', async () => {
    await page.goto('/app/admin/people');
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'AI bot' }).click();
    await page.getByRole('heading', { name: 'AI bot' }).waitFor();
    await page.getByText(/^Not configured for this account yet\..*AI_BASE_URL, AI_API_KEY, AI_MODEL/).waitFor();
    expect(await field('Base URL').inputValue()).toBe('');
    // The screen's copies of the server's bounds and default phrases agree with it.
    expect(await field('Hand-over phrases').getAttribute('placeholder')).toBe(DEFAULT_HANDOFF_PHRASES.join('\n'));
    expect(await field('Knowledge').getAttribute('maxlength')).toBe(String(KNOWLEDGE_MAX));
    expect(await field('Instructions').getAttribute('maxlength')).toBe(String(INSTRUCTIONS_MAX));
    await page.getByText('No key is stored.').waitFor();
    expect(await page.getByRole('checkbox', { name: 'Remove key' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Remove settings' }).count()).toBe(0);

    // A model on this machine needs AI_ALLOW_PRIVATE_BASE_URL: the server's message, nothing stored.
    await field('Base URL').fill('http://127.0.0.1:11434/v1');
    await field('Model').fill('llama3.1');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^base_url must be a public address/);
    expect((await stored()).status).toBe(404);
  });

  it('saves the settings; after a reload it shows them and that a key is stored, never the key', async () => {
    await field('Base URL').fill('https://api.openai.com/v1');
    await field('Model').fill('gpt-4o-mini');
    await page.getByLabel('API key', { exact: true }).fill(PROVIDER_KEY);
    await field('Instructions').fill('You are the assistant of Dana Flowers. Answer briefly.');
    await field('Knowledge').fill(KNOWLEDGE);
    await page.getByText(`${KNOWLEDGE.length} of 200,000 characters`).waitFor();
    await page.getByRole('combobox', { name: 'Hand-over team' }).selectOption({ label: 'Support' });
    await page.getByRole('spinbutton', { name: 'Max replies per conversation' }).fill('5');
    await page.getByRole('spinbutton', { name: 'Temperature' }).fill('0.3');
    await field('Hand-over phrases').fill('manager\n  \nמנהל');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('AI settings saved').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);

    await page.reload();
    await page.getByText('A key is stored.', { exact: false }).waitFor();
    expect(await field('Base URL').inputValue()).toBe('https://api.openai.com/v1');
    expect(await field('Model').inputValue()).toBe('gpt-4o-mini');
    expect(await page.getByLabel('API key', { exact: true }).inputValue()).toBe('');
    expect(await field('Knowledge').inputValue()).toBe(KNOWLEDGE);
    expect(await page.getByRole('combobox', { name: 'Hand-over team' }).locator('option:checked').textContent()).toBe('Support');
    expect(await page.getByRole('spinbutton', { name: 'Max replies per conversation' }).inputValue()).toBe('5');
    expect(await page.getByRole('spinbutton', { name: 'Temperature' }).inputValue()).toBe('0.3');
    expect(await field('Hand-over phrases').inputValue()).toBe('manager\nמנהל');
    expect(await page.getByText(/^Not configured/).count()).toBe(0);
    expect(await page.content()).not.toContain(PROVIDER_KEY);
    const reply = await stored();
    expect(reply.text).not.toContain(PROVIDER_KEY);
    expect(JSON.parse(reply.text).ai).toMatchObject({ base_url: 'https://api.openai.com/v1', model: 'gpt-4o-mini', has_api_key: true, handoff_phrases: ['manager', 'מנהל'] });

    // The admin body scrolls by itself: a window tall enough for the whole form.
    await page.setViewportSize({ width: 1280, height: 1240 });
    await page.screenshot({ path: join(SCREENSHOTS, 'ai-settings-desktop-en.png') });
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows the screen in Hebrew, right to left', async () => {
    // The admin body scrolls by itself: a window tall enough for the whole form.
    const hebrew = await adminPage('he', 1240);
    await hebrew.goto('/app/admin/ai');
    await hebrew.getByRole('heading', { name: 'בוט AI' }).waitFor();
    await hebrew.getByText(/^שמור מפתח\./).waitFor();
    expect(await hebrew.locator('html').getAttribute('dir')).toBe('rtl');
    await hebrew.screenshot({ path: join(SCREENSHOTS, 'ai-settings-desktop-he.png') });
    expect(await seriousViolations(hebrew)).toEqual([]);
    await hebrew.context().close();
  });

  it('keeps the key when the field is left empty, removes it with "Remove key", and removes the settings', async () => {
    await field('Model').fill('gpt-4.1-mini');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('AI settings saved').waitFor();
    expect(JSON.parse((await stored()).text).ai).toMatchObject({ model: 'gpt-4.1-mini', has_api_key: true });

    await page.getByRole('checkbox', { name: 'Remove key' }).check();
    expect(await page.getByLabel('API key', { exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('No key is stored.').waitFor();
    expect(JSON.parse((await stored()).text).ai).toMatchObject({ model: 'gpt-4.1-mini', has_api_key: false });

    await page.getByRole('button', { name: 'Remove settings' }).click();
    await page.getByText('AI settings removed').waitFor();
    await page.getByText(/^Not configured for this account yet/).waitFor();
    expect(await field('Model').inputValue()).toBe('');
    expect((await stored()).status).toBe(404);
  });
});
