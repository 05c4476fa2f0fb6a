import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../processes.js';
import { ADMIN, hasChromium, seriousViolations, startHarness, type Harness } from './harness.js';

/**
 * The side panel's edits (customer fields, a new label, Take over / Return to bot) and the admin
 * screens added after the first inbox: flow bots, teams, API keys, webhooks, WhatsApp, templates.
 */

const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
const SMALL_FLOW = {
  version: 1,
  start: 'hi',
  nodes: [
    { id: 'hi', type: 'message', text: 'Hello from the bot' },
    { id: 'done', type: 'end' },
  ],
  edges: [{ from: 'hi', to: 'done' }],
};

describe.skipIf(!hasChromium)('the inbox side panel and admin screens in Chromium', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    h = await startHarness();
    context = await h.context({ lang: 'en' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.setViewportSize({ width: 1280, height: 860 });
    await h.signIn(page, ADMIN.email, ADMIN.password);
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
  });

  const row = (name: string) => page.getByRole('list', { name: 'Conversations' }).getByRole('listitem', { name, exact: true });
  const openConversation = async (name: string) => {
    await page.goto('/app');
    await row(name).getByRole('link').click();
    await page.getByRole('complementary', { name: 'Details' }).waitFor();
  };
  const appApi = async (method: 'POST' | 'PUT', path: string, data: unknown) => {
    const response = await page.request.fetch(`/app/api${path}`, { method, data, headers: { 'x-openmumble-csrf': '1' } });
    expect(response.status(), await response.text()).toBeLessThan(300);
    return (await response.json()) as Record<string, any>;
  };

  it("edits the customer's name, email and custom fields, as the Mumble API then shows", async () => {
    await h.mumble('sandbox/receive-message', { customer_phone: '972502220001', name: 'Yael', text: 'Hello there' });
    await openConversation('Yael');
    const panel = page.getByRole('complementary', { name: 'Details' });
    await panel.getByRole('button', { name: 'Edit customer' }).click();
    await panel.getByRole('textbox', { name: 'Name', exact: true }).fill('Yael Mizrahi');
    await panel.getByRole('textbox', { name: 'Email' }).fill('yael@example.com');
    await panel.getByRole('button', { name: 'Add field' }).click();
    await panel.getByRole('textbox', { name: 'Field name 1' }).fill('order_number');
    await panel.getByRole('textbox', { name: 'Value of order_number' }).fill('#4521');
    await page.screenshot({ path: join(SCREENSHOTS, 'side-panel-edit-desktop-en.png') });
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByRole('button', { name: 'Edit customer' }).waitFor();
    await expect.poll(() => panel.textContent()).toContain('#4521');
    const { customer } = await h.mumble<{ customer: Record<string, any> }>('get-customer', { customer_phone: '972502220001' });
    expect(customer).toMatchObject({ name: 'Yael Mizrahi', email: 'yael@example.com', custom_fields: { order_number: '#4521' } });

    // A bad email: the server's message, nothing changed.
    await panel.getByRole('button', { name: 'Edit customer' }).click();
    await panel.getByRole('textbox', { name: 'Email' }).fill('yael@');
    await panel.getByRole('textbox', { name: 'Email' }).evaluate((input) => input.setAttribute("type", "text"));
    await panel.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => panel.getByRole('alert').textContent()).toBe('email: Invalid email address');
    await panel.getByRole('button', { name: 'Cancel' }).click();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('creates a label from the side panel and adds it to the conversation', async () => {
    const panel = page.getByRole('complementary', { name: 'Details' });
    await panel.getByRole('textbox', { name: 'New label' }).fill('Returning customer');
    await panel.getByRole('button', { name: 'Create label' }).click();
    await panel.getByRole('button', { name: 'Remove label Returning customer' }).waitFor();
    const { customer } = await h.mumble<{ customer: { labels: string[] } }>('get-customer', { customer_phone: '972502220001' });
    expect(customer.labels).toEqual(['Returning customer']);
    expect((await h.mumble<{ labels: string[] }>('get-labels')).labels).toContain('Returning customer');
  });

  it('edits a flow bot with inline validation errors, draws it, saves it and makes it the default flow', async () => {
    await page.goto('/app/admin/bots');
    await page.getByRole('textbox', { name: 'Bot name' }).fill('Greeter');
    await page.getByRole('button', { name: 'New bot' }).click();
    const editor = page.getByRole('textbox', { name: 'Flow (JSON)' });
    await editor.waitFor();
    const check = page.locator('[id^="flow-check-"]');
    await expect.poll(() => check.textContent()).toMatch(/^Valid: 3 nodes, 3 edges$/);
    await expect.poll(() => page.getByRole('img', { name: 'Flow preview' }).locator('.flow-node').count()).toBe(3);

    // Typing something that is not JSON yet, then a flow the server refuses: the message names the node.
    await editor.fill('{ "version": 1, ');
    await expect.poll(() => check.textContent()).toMatch(/^Not JSON yet/);
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    const tooMany = {
      ...SMALL_FLOW,
      nodes: [{ id: 'hi', type: 'buttons', text: 'Pick', buttons: [1, 2, 3, 4].map((n) => ({ id: `b${n}`, title: `B${n}` })) }, { id: 'done', type: 'end' }],
      edges: [{ from: 'hi', to: 'done', on: 'no_match' }],
    };
    await editor.fill(JSON.stringify(tooMany, null, 2));
    await expect.poll(() => check.textContent()).toMatch(/^Invalid flow: node "hi"/);
    expect(await page.getByRole('button', { name: 'Save Greeter' }).isDisabled()).toBe(true);

    await editor.fill(JSON.stringify(SMALL_FLOW, null, 2));
    await expect.poll(() => check.textContent()).toBe('Valid: 2 nodes, 1 edges');
    await page.getByRole('button', { name: 'Save Greeter' }).click();
    await expect.poll(() => page.getByText('Saved (version 1)').count()).toBe(1);
    await page.getByRole('combobox', { name: "Default flow for a new customer's first message" }).selectOption({ label: 'Greeter' });
    await expect.poll(async () => (await (await page.request.get('/app/api/admin/settings')).json()).settings.default_bot_id).toEqual(expect.any(String));
    await page.getByRole('textbox', { name: 'Flow (JSON)' }).evaluate((element) => element.scrollIntoView());
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-bots-desktop-en.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    // Back to none, so the other tests' customers get no bot of their own.
    await page.getByRole('combobox', { name: "Default flow for a new customer's first message" }).selectOption({ label: 'None' });
    await expect.poll(async () => (await (await page.request.get('/app/api/admin/settings')).json()).settings.default_bot_id).toBeNull();
  });

  it('takes over from a flow bot and returns the conversation to it', async () => {
    const { bot } = await appApi('POST', '/admin/bots', { name: 'Hand-over bot', flow: SMALL_FLOW });
    await h.mumble('sandbox/receive-message', { customer_phone: '972502220002', name: 'Omer', text: 'Is anyone there?' });
    await h.mumble('assign-bot', { customer_phone: '972502220002', bot_token: bot.id });
    await openConversation('Omer');
    const panel = page.getByRole('complementary', { name: 'Details' });
    await panel.getByText('The bot Hand-over bot answers').waitFor();
    await panel.getByRole('button', { name: 'Take over' }).click();
    await panel.getByRole('button', { name: 'Return to bot' }).waitFor();
    await panel.getByText('The bot Hand-over bot is paused: a person answers').waitFor();
    const paused = await page.request.get(`/app/api/conversations/${new URL(page.url()).pathname.split('/').pop()}`);
    expect((await paused.json()).conversation.bot).toMatchObject({ active: false });
    await panel.getByRole('button', { name: 'Return to bot' }).click();
    await panel.getByRole('button', { name: 'Take over' }).waitFor();
    const resumed = await page.request.get(`/app/api/conversations/${new URL(page.url()).pathname.split('/').pop()}`);
    expect((await resumed.json()).conversation.bot).toMatchObject({ active: true });
  });

  it('creates a team', async () => {
    await page.goto('/app/admin/teams');
    await page.getByRole('textbox', { name: 'Team name' }).fill('Night shift');
    await page.getByRole('button', { name: 'Add team' }).click();
    await page.getByRole('heading', { name: 'Night shift' }).waitFor();
    expect((await h.mumble<{ teams: Array<{ name: string }> }>('get-teams')).teams.map((team) => team.name)).toContain('Night shift');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('creates an API key shown once, which the Mumble API accepts until it is revoked', async () => {
    await page.goto('/app/admin/api-keys');
    await page.getByRole('textbox', { name: 'Key name' }).fill('Zapier');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('code.secret').textContent())!;
    expect(key).toMatch(/^om_live_/);
    const withKey = () => fetch(`${h.server.url}/mumbleapi/get-labels`, { headers: { 'mumble-api-key': key } });
    expect((await withKey()).status).toBe(200);
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-api-keys-desktop-en.png') });
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Revoke Zapier' }).click();
    await page.getByRole('row', { name: /Zapier.*Revoked/ }).waitFor();
    expect((await withKey()).status).toBe(401);
    // Shown once: a reload shows only its prefix.
    await page.reload();
    await page.getByRole('row', { name: /Zapier/ }).waitFor();
    expect(await page.content()).not.toContain(key);
  });

  it('adds a webhook and shows its deliveries', async () => {
    await page.goto('/app/admin/webhooks');
    await page.getByRole('textbox', { name: 'URL' }).fill('https://example.com/hooks');
    await page.getByRole('textbox', { name: 'Events' }).fill('customer.updated');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect.poll(() => page.locator('code.secret').textContent()).toMatch(/^whsec_/);
    await h.mumble('edit-customer', { customer_phone: '972502220001', name: 'Yael M.' });
    await page.getByRole('button', { name: 'Deliveries of https://example.com/hooks' }).click();
    const deliveries = page.getByRole('table', { name: 'Deliveries of https://example.com/hooks' });
    await deliveries.getByText('customer.updated').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-webhooks-desktop-en.png') });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows the WhatsApp connection and creates a template that waits for review', async () => {
    await page.goto('/app/admin/whatsapp');
    await page.getByText(/^Sandbox: no WhatsApp number is connected/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto('/app/admin/templates');
    await page.getByRole('textbox', { name: 'Template name' }).fill('order_ready');
    await page.getByRole('textbox', { name: 'Body', exact: true }).fill('Hi {{1}}, your order {{2}} is ready.');
    await page.getByRole('button', { name: 'Create template' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Invalid template configuration');
    await page.getByRole('textbox', { name: 'Examples for the variables, one a line' }).fill('Dana\n#4521');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('Submitted for review: PENDING').waitFor();
    await page.getByRole('row', { name: /order_ready.*PENDING/ }).waitFor();
    const { templates } = await h.mumble<{ templates: Array<{ name: string; status: string }> }>('get-templates');
    expect(templates).toContainEqual(expect.objectContaining({ name: 'order_ready', status: 'PENDING' }));
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-templates-desktop-en.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows the new screens in Hebrew, right to left', async () => {
    const hebrew = await (await h.context({ lang: 'he' })).newPage();
    await hebrew.setViewportSize({ width: 1280, height: 860 });
    await h.signIn(hebrew, ADMIN.email, ADMIN.password);
    await hebrew.goto('/app/admin/bots');
    await hebrew.getByRole('button', { name: 'עריכה Greeter' }).click();
    await hebrew.getByRole('img', { name: 'תצוגה מקדימה של הזרימה' }).waitFor();
    expect(await hebrew.locator("html").getAttribute("dir")).toBe('rtl');
    await hebrew.screenshot({ path: join(SCREENSHOTS, 'admin-bots-desktop-he.png'), fullPage: true });
    expect(await seriousViolations(hebrew)).toEqual([]);
    await hebrew.goto('/app');
    await hebrew.getByRole('list', { name: 'שיחות' }).getByRole('listitem', { name: 'Yael M.' }).getByRole('link').click();
    await hebrew.getByRole('button', { name: 'עריכת הלקוח' }).click();
    await hebrew.screenshot({ path: join(SCREENSHOTS, 'side-panel-edit-desktop-he.png') });
    expect(await seriousViolations(hebrew)).toEqual([]);
    await hebrew.context().close();
  });
});
