import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../processes.js';
import { ADMIN, hasChromium, seriousViolations, startHarness, type Harness } from './harness.js';

/** The web inbox, end to end: the scenarios of issue 13, in one server and one browser. */

const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

describe.skipIf(!hasChromium)('the web inbox in Chromium', () => {
  let h: Harness;
  let adminContext: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness();
    adminContext = await h.context({ lang: 'en' });
    page = await adminContext.newPage();
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
  });

  const row = (p: Page, name: string) => p.getByRole('list', { name: 'Conversations' }).getByRole('listitem', { name, exact: true });

  it('serves the app at /app with cache headers, sends browsers from / to it, and prints the inbox in the banner', async () => {
    expect(h.server.output()).toContain(`The inbox: ${h.server.url}/app`);
    const browserRoot = await fetch(`${h.server.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    expect(browserRoot.status).toBe(302);
    expect(browserRoot.headers.get('location')).toBe('/app');
    const jsonRoot = await fetch(`${h.server.url}/`, { headers: { accept: 'application/json' } });
    expect({ status: jsonRoot.status, body: await jsonRoot.json() }).toEqual({ status: 404, body: { error: true, message: 'Route not found' } });

    const index = await fetch(`${h.server.url}/app/c/some-conversation`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const script = await fetch(`${h.server.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    const unknownApi = await fetch(`${h.server.url}/app/api/nothing-here`);
    expect({ status: unknownApi.status, body: await unknownApi.json() }).toEqual({ status: 404, body: { error: true, message: 'Route not found' } });
  });

  it('signs in, and refuses a wrong password', async () => {
    await page.goto('/');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/app/login');
    await page.getByRole('textbox', { name: 'Email' }).fill(ADMIN.email);
    await page.getByRole('textbox', { name: 'Password' }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Invalid email or password');
    await h.signIn(page, ADMIN.email, ADMIN.password);
    expect(new URL(page.url()).pathname).toBe('/app');
    for (const name of ['Mine', 'Unassigned', 'All']) await page.getByRole('tab', { name, exact: true }).waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
  });

  it('shows an inbound sandbox message live in the list and in the open conversation', async () => {
    await h.mumble('sandbox/receive-message', { customer_phone: '972501110001', name: 'Dana Cohen', text: 'Hi, where is my order?' });
    await row(page, 'Dana Cohen').waitFor();
    await expect.poll(() => row(page, 'Dana Cohen').textContent()).toContain('Hi, where is my order?');
    await expect.poll(() => row(page, 'Dana Cohen').getByLabel('1 unread').count()).toBe(1);

    await row(page, 'Dana Cohen').getByRole('link').click();
    const log = page.getByRole('log', { name: 'Dana Cohen' });
    await log.getByText('Hi, where is my order?').waitFor();
    await h.mumble('sandbox/receive-message', { customer_phone: '972501110001', text: 'It was due yesterday' });
    await log.getByText('It was due yesterday').waitFor();
    // Read while open: no unread badge.
    await expect.poll(() => row(page, 'Dana Cohen').getByLabel(/unread/).count()).toBe(0);
  });

  it('replies with Enter, Shift+Enter makes a new line, and the ticks reach read', async () => {
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Let me check');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('one moment');
    expect(await composer.inputValue()).toBe('Let me check\none moment');
    await composer.press('Enter');
    expect(await composer.inputValue()).toBe('');
    const bubble = page.locator('.bubble.out', { hasText: 'one moment' });
    await bubble.waitFor();
    await bubble.getByRole('img', { name: 'Read' }).waitFor({ timeout: 10_000 });
    expect(await bubble.locator('.sender').textContent()).toBe('Admin');
    const conversation = await h.mumble<{ messages: { text: string; direction: string }[] }>('get-conversation', { customer_phone: '972501110001' });
    expect(conversation.messages.map((message) => message.text)).toContain('Let me check\none moment');
  });

  it('turns the composer into the template picker when the window is closed, and sends a template', async () => {
    const created = await h.mumble<{ data: { id: string } }>('create-template', {
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      body: 'Hi {{1}}, your order {{2}} is on its way.',
      body_examples: ['Dana', '#1001'],
    });
    await h.mumble('sandbox/set-template-status', { template_id: created.data.id, status: 'APPROVED' });
    // A customer who never wrote: the window is closed; a template from the API starts the conversation.
    await h.mumble('add-new-customer', { customer_phone: '972501110002', name: 'Yossi Levi', order: 'A-77' });
    await h.mumble('send-template-text-variable', { customer_phone: '972501110002', template_id: created.data.id, variable: ['Yossi', '#1000'] });
    await page.reload();
    await row(page, 'Yossi Levi').getByRole('link').click();
    await page.getByText('The 24-hour window is closed').waitFor();
    expect(await page.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Templates' }).click();
    const first = page.getByRole('textbox', { name: 'Variable 1' });
    expect(await first.inputValue()).toBe('Yossi Levi');
    await page.getByRole('textbox', { name: 'Variable 2' }).fill('#1002');
    await page.getByText('Hi Yossi Levi, your order #1002 is on its way.').waitFor();
    await page.getByRole('button', { name: 'Send template' }).click();
    await page.locator('.bubble.out', { hasText: '#1002' }).waitFor();
    const conversation = await h.mumble<{ messages: { text: string | null; type: string }[] }>('get-conversation', { customer_phone: '972501110002' });
    expect(conversation.messages.filter((message) => message.type === 'template')).toHaveLength(2);
  });

  it('changes status, assignment and labels and adds a note, as the Mumble API shows', async () => {
    await h.mumble('add-new-label', { label_name: 'VIP' });
    const { teams } = await h.admin<{ teams: { id: string; name: string }[] }>('GET', `/accounts/${h.accountId}/teams`);
    const team = teams.find((candidate) => candidate.name === 'Support') ?? (await h.admin<{ team: { id: string } }>('POST', `/accounts/${h.accountId}/teams`, { name: 'Support' })).team;
    await page.reload();
    await row(page, 'Dana Cohen').getByRole('link').click();
    await page.getByRole('log', { name: 'Dana Cohen' }).waitFor();

    await page.getByRole('combobox', { name: 'Status', exact: true }).selectOption({ label: 'Waiting for Agent' });
    await page.getByRole('combobox', { name: 'Assign agent' }).selectOption({ label: 'Admin' });
    await page.getByRole('combobox', { name: 'Assign team' }).selectOption({ label: 'Support' });
    await page.getByRole('combobox', { name: 'Add label' }).selectOption({ label: 'VIP' });
    await page.getByRole('button', { name: 'Remove label VIP' }).waitFor();
    await page.getByRole('radio', { name: 'Private note' }).click();
    await page.getByRole('textbox', { name: 'Note' }).fill('Called the courier, parcel is at the depot');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByRole('note').filter({ hasText: 'parcel is at the depot' }).waitFor();
    await page.getByRole('radio', { name: 'Reply' }).click();

    await expect
      .poll(async () => {
        const { customer } = await h.mumble<{ customer: Record<string, unknown> }>('get-customer', { customer_phone: '972501110001' });
        return { status: customer.conversation_status, labels: customer.labels, team: customer.team_id ?? (customer.team as { id?: string } | null)?.id };
      })
      .toMatchObject({ status: 'waiting_for_agent', labels: ['VIP'], team: team.id });
    const { customer } = await h.mumble<{ customer: Record<string, unknown> }>('get-customer', { customer_phone: '972501110001' });
    const { agents } = await h.admin<{ agents: { id: string; email: string | null }[] }>('GET', `/accounts/${h.accountId}/agents`);
    expect(customer.agent_id).toBe(agents.find((agent) => agent.email === ADMIN.email)!.id);
    // Notes stay in the inbox: never in the Mumble API's conversation.
    const conversation = await h.mumble<{ messages: { text: string | null }[] }>('get-conversation', { customer_phone: '972501110001' });
    expect(conversation.messages.map((message) => message.text)).not.toContain('Called the courier, parcel is at the depot');
    await row(page, 'Dana Cohen').getByText('Waiting for Agent').waitFor();
  });

  it('does not show an agent the customers of another agent', async () => {
    const noa = await h.person('Noa');
    const eli = await h.person('Eli');
    await h.mumble('sandbox/receive-message', { customer_phone: '972501110003', name: 'Customer of Eli', text: 'Eli knows my case' });
    await h.mumble('assign-customer-to-agent', { customer_phone: '972501110003', agent_id: eli.id });
    await h.mumble('assign-customer-to-agent', { customer_phone: '972501110002', agent_id: noa.id });
    const context = await h.context({ lang: 'en' });
    const agentPage = await context.newPage();
    await h.signIn(agentPage, noa.email, noa.password);
    await row(agentPage, 'Yossi Levi').waitFor();
    expect(await row(agentPage, 'Customer of Eli').count()).toBe(0);
    // Dana is assigned to the admin: not Noa's either.
    expect(await row(agentPage, 'Dana Cohen').count()).toBe(0);
    await agentPage.getByRole('searchbox', { name: 'Search' }).fill('Eli');
    await agentPage.waitForTimeout(600);
    expect(await row(agentPage, 'Customer of Eli').count()).toBe(0);
    // Not by its address either.
    const { customer } = await h.mumble<{ customer: { id: string } }>('get-customer', { customer_phone: '972501110003' });
    const hidden = await agentPage.evaluate(async (id) => (await fetch(`/app/api/conversations/${id}`)).status, customer.id);
    expect(hidden).toBe(404);
    await context.close();
  });

  it('lets an admin and an agent see each other’s changes live', async () => {
    const agent = await h.person('Maya');
    const context = await h.context({ lang: 'en' });
    const agentPage = await context.newPage();
    await h.signIn(agentPage, agent.email, agent.password);
    await agentPage.getByRole('tab', { name: 'Mine' }).click();
    expect(await row(agentPage, 'Dana Cohen').count()).toBe(0);

    // The admin (whose page knows Maya once reloaded) gives Dana to Maya: she appears in Maya's Mine tab without a reload.
    await page.reload();
    await page.getByRole('log', { name: 'Dana Cohen' }).waitFor();
    await page.getByRole('combobox', { name: 'Assign agent' }).selectOption({ label: 'Maya' });
    await row(agentPage, 'Dana Cohen').waitFor();
    await row(agentPage, 'Dana Cohen').getByRole('link').click();
    await agentPage.getByRole('log', { name: 'Dana Cohen' }).waitFor();

    // Maya replies; the admin, with the conversation open, sees it arrive, and its ticks move.
    await agentPage.getByRole('textbox', { name: 'Message' }).fill('Maya here, I will take care of it');
    await agentPage.getByRole('textbox', { name: 'Message' }).press('Enter');
    const seen = page.locator('.bubble.out', { hasText: 'Maya here' });
    await seen.waitFor();
    expect(await seen.locator('.sender').textContent()).toBe('Maya');
    await seen.getByRole('img', { name: 'Read' }).waitFor({ timeout: 10_000 });

    // Maya changes the status; the admin's side panel follows.
    await agentPage.getByRole('combobox', { name: 'Status', exact: true }).selectOption({ label: 'In Progress' });
    await expect.poll(() => page.getByRole('combobox', { name: 'Status', exact: true }).inputValue()).toBe('in_progress');
    await context.close();
  });

  it('moves between conversations with Alt+↑/↓ and closes one with Escape', async () => {
    await page.goto('/app');
    await page.getByRole('list', { name: 'Conversations' }).getByRole('listitem').first().waitFor();
    await page.keyboard.press('Alt+ArrowDown');
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/app\/c\//);
    const first = new URL(page.url()).pathname;
    await page.keyboard.press('Alt+ArrowDown');
    await expect.poll(() => new URL(page.url()).pathname).not.toBe(first);
    await page.keyboard.press('Alt+ArrowUp');
    await expect.poll(() => new URL(page.url()).pathname).toBe(first);
    await row(page, 'Dana Cohen').getByRole('link').click();
    await page.getByRole('log', { name: 'Dana Cohen' }).waitFor();
    await page.keyboard.press('Alt+m');
    expect(await page.evaluate('document.activeElement?.id')).toBe('composer');
    await page.getByRole('log', { name: 'Dana Cohen' }).focus();
    await page.keyboard.press('Escape');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/app');
  });

  it('has no serious accessibility violations on the sign-in page, the inbox, a conversation and the admin screens', async () => {
    await page.goto('/app');
    await row(page, 'Dana Cohen').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await row(page, 'Dana Cohen').getByRole('link').click();
    await page.getByRole('log', { name: 'Dana Cohen' }).getByText('Maya here').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    for (const section of ['people', 'teams', 'canned', 'settings']) {
      await page.goto(`/app/admin/${section}`);
      await page.getByRole('heading', { level: 2 }).waitFor();
      expect(await seriousViolations(page), section).toEqual([]);
    }
    const guest = await (await h.context()).newPage();
    await guest.goto('/app/login');
    await guest.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await seriousViolations(guest)).toEqual([]);
    await guest.context().close();
  });

  it('invites a person from the People screen; the link sets a password and signs in; sign-out ends the session', async () => {
    await page.goto('/app/admin/people');
    await page.getByRole('textbox', { name: 'Name' }).fill('Tal');
    await page.getByRole('textbox', { name: 'Email' }).fill('tal@example.com');
    await page.getByRole('button', { name: 'Invite' }).click();
    const notice = await page.getByRole('status').filter({ hasText: '/app/invite/' }).textContent();
    const link = /(http\S+\/app\/invite\/\S+)/.exec(notice!)![1]!;
    const context = await h.context({ lang: 'en' });
    const invited = await context.newPage();
    await invited.goto(link);
    await invited.getByText('Welcome, Tal.').waitFor();
    await invited.getByRole('textbox', { name: 'Password' }).fill('tal password 1');
    await invited.getByRole('button', { name: 'Set password and sign in' }).click();
    await invited.getByRole('list', { name: 'Conversations' }).waitFor();
    await invited.getByRole('button', { name: 'Sign out' }).click();
    await invited.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await invited.evaluate("fetch('/app/api/me').then((reply) => reply.status)")).toBe(401);
    await context.close();
  });

  it('renders Hebrew right to left, with mixed text in its own direction', async () => {
    await h.mumble('sandbox/receive-message', { customer_phone: '972501110004', name: 'רונית אברהם', text: 'שלום, ההזמנה שלי #4521 עוד לא הגיעה. אפשר tracking number?' });
    const context = await h.context({ lang: 'he' });
    const hebrew = await context.newPage();
    await h.signIn(hebrew, ADMIN.email, ADMIN.password);
    expect(await hebrew.evaluate('[document.documentElement.dir, document.documentElement.lang]')).toEqual(['rtl', 'he']);
    const list = hebrew.getByRole('list', { name: 'שיחות' });
    await list.getByRole('listitem', { name: 'רונית אברהם' }).getByRole('link').click();
    const log = hebrew.getByRole('log', { name: 'רונית אברהם' });
    const text = log.getByText('tracking number');
    await text.waitFor();
    // The list sits on the right of the conversation; the Hebrew message runs right to left.
    const listBox = (await list.boundingBox())!;
    const logBox = (await log.boundingBox())!;
    expect(listBox.x).toBeGreaterThan(logBox.x);
    expect(await text.evaluate((element) => element.ownerDocument.defaultView!.getComputedStyle(element).direction)).toBe('rtl');
    expect(await hebrew.getByRole('combobox', { name: 'סטטוס', exact: true }).locator('option:checked').textContent()).toBe('חדש');
    expect(await seriousViolations(hebrew)).toEqual([]);
    await context.close();
  });

  it('takes screenshots of the main screens, desktop and phone, English and Hebrew', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await h.mumble('sandbox/receive-message', { customer_phone: '972501110001', text: 'Great, thank you!' });
    for (const lang of ['en', 'he'] as const) {
      for (const phone of [false, true]) {
        const context = await h.context({ lang, phone });
        const shot = await context.newPage();
        await shot.goto('/app/login');
        await shot.locator('input[type=email]').fill(ADMIN.email);
        await shot.locator('input[type=password]').fill(ADMIN.password);
        if (!phone && lang === 'en') await shot.screenshot({ path: join(SCREENSHOTS, 'sign-in.png') });
        await shot.locator('button[type=submit]').click();
        await shot.locator('#conversation-list li').first().waitFor();
        const suffix = `${phone ? 'phone' : 'desktop'}-${lang}`;
        if (phone) await shot.screenshot({ path: join(SCREENSHOTS, `list-${suffix}.png`) });
        const name = lang === 'he' ? 'רונית אברהם' : 'Dana Cohen';
        await shot.locator('#conversation-list li', { hasText: name }).locator('a').click();
        await shot.locator('.timeline .bubble').last().waitFor();
        await shot.waitForTimeout(300);
        await shot.screenshot({ path: join(SCREENSHOTS, `conversation-${suffix}.png`) });
        await context.close();
      }
    }
    await page.goto('/app/admin/people');
    await page.getByRole('table').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-people-desktop-en.png') });
  });
});
