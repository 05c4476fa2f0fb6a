import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, newTenant, nextPhone, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { signedInPerson, type SignedInPerson } from './inbox-helpers.js';
import { approvedTemplate, assign, conversationWith, customerSendsFile, expectAppError, ok } from './inbox-fixtures.js';
import { mediaSample } from './media-samples.js';
import { STATUS_DELAY_MS, conversationOf } from './messaging.js';

const DAY = 24 * 60 * 60 * 1000;

/** The conversation list, one conversation and its timeline, and media files (GET /app/api/…). */
describeEachDatabase('inbox: conversations', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let admin: SignedInPerson;
  let agent: SignedInPerson;
  let teamId: string;

  // A new account (with its people) per test: each test sees only its own conversations.
  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  beforeEach(async () => {
    teamId = await t.add('teams', 'Sales');
    admin = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin', name: 'Ada Admin' });
    agent = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent', name: 'Avi Agent', teamIds: [teamId] });
  });
  afterEach(async () => {
    await ctx.scheduler.advance(10 * STATUS_DELAY_MS);
  });

  const list = async (person: SignedInPerson, query = '') => ok<{ conversations: Array<Record<string, any>>; next_cursor: string | null }>(await person.call('GET', `/app/api/conversations${query}`));
  const ids = async (person: SignedInPerson, query = '') => (await list(person, query)).conversations.map((row) => row.id);
  const counts = async (person: SignedInPerson, query = '') => ok(await person.call('GET', `/app/api/conversations/counts${query}`)).counts;
  const timeline = async (person: SignedInPerson, customerId: string, query = '') =>
    ok<{ items: Array<Record<string, any>>; next_cursor: string | null }>(await person.call('GET', `/app/api/conversations/${customerId}/timeline${query}`));

  describe('the list', () => {
    it('shows one row per customer with messages, newest activity first, with what the row needs', async () => {
      const phone = nextPhone();
      const first = await conversationWith(ctx, t, phone, 'Where is my order?', 'Dana Cohen');
      const wroteAt = ctx.clock.now();
      const second = await conversationWith(ctx, t, nextPhone(), 'Hi');
      // A customer without messages is no conversation.
      expect((await t.call('POST', api('add-new-customer'), { customer_phone: nextPhone(), name: 'Silent' })).statusCode).toBe(200);
      expect(await ids(admin)).toEqual([second, first]);

      ctx.clock.advance(1000);
      expect((await t.call('POST', api('send-text-message'), { customer_phone: phone, text: 'On its way' })).statusCode).toBe(200);
      await assign(t, phone, { agentId: agent.agentId, teamId });
      expect((await t.call('POST', api('add-customer-to-label'), { customer_phone: phone, label_name: 'vip' })).statusCode).toBeLessThan(500);
      const { conversations, next_cursor } = await list(admin);
      expect(conversations.map((row) => row.id)).toEqual([first, second]);
      expect(next_cursor).toBeNull();
      expect(conversations[0]).toEqual({
        id: first,
        name: 'Dana Cohen',
        phone,
        conversation_status: 'new',
        last_activity_at: ctx.clock.now().toISOString(),
        last_message: { id: expect.any(Number), type: 'text', text: 'On its way', direction: 'outbound', status: expect.any(String), created_at: ctx.clock.now().toISOString() },
        unread: 1,
        agent: { id: agent.agentId, name: 'Avi Agent' },
        team: { id: teamId, name: 'Sales' },
        labels: [],
        bot: { bot: null, active: false, paused_at: null, paused_by: null },
        window_closes_at: new Date(wroteAt.getTime() + DAY).toISOString(),
      });
    });

    it('keeps tabs: mine (assigned to me), unassigned (no agent), all; and counts each on the server', async () => {
      const mine = nextPhone();
      const teams = nextPhone();
      const nobody = nextPhone();
      const otherAgent = await t.add('agents', 'Other');
      const ids_ = {
        mine: await conversationWith(ctx, t, mine),
        teams: await conversationWith(ctx, t, teams),
        nobody: await conversationWith(ctx, t, nobody),
        other: await conversationWith(ctx, t, nextPhone()),
      };
      await assign(t, mine, { agentId: agent.agentId });
      await assign(t, teams, { teamId });
      await ctx.deps.database.db.updateTable('customers').set({ agent_id: otherAgent }).where('id', '=', ids_.other).execute();

      expect(await ids(agent, '?tab=mine')).toEqual([ids_.mine]);
      expect(await ids(agent, '?tab=unassigned')).toEqual([ids_.nobody, ids_.teams]);
      expect(await ids(agent, '?tab=all')).toEqual([ids_.nobody, ids_.teams, ids_.mine]);
      expect(await ids(agent)).toEqual(await ids(agent, '?tab=all'));
      expect(await counts(agent)).toEqual({ mine: 1, unassigned: 2, all: 3 });
      // An admin sees the other agent's too; nothing is theirs.
      expect(await ids(admin, '?tab=all')).toEqual([ids_.other, ids_.nobody, ids_.teams, ids_.mine]);
      expect(await counts(admin)).toEqual({ mine: 0, unassigned: 2, all: 4 });
      expect(await counts(admin, `?team_id=${teamId}`)).toEqual({ mine: 0, unassigned: 1, all: 1 });
    });

    it('filters by status, label, team, agent and bot, together', async () => {
      const phones = [nextPhone(), nextPhone(), nextPhone()];
      const [a, b, c] = [await conversationWith(ctx, t, phones[0]!), await conversationWith(ctx, t, phones[1]!), await conversationWith(ctx, t, phones[2]!)];
      expect((await t.call('POST', api('edit-customer-conv-status'), { customer_phone: phones[0], status: 'pending_customer' })).statusCode).toBe(200);
      expect((await t.call('POST', api('add-new-label'), { label_name: 'vip lounge' })).statusCode).toBe(200);
      for (const phone of [phones[0], phones[1]]) {
        expect((await t.call('POST', api('add-customer-to-label'), { customer_phone: phone, label_name: 'vip lounge' })).statusCode).toBe(200);
      }
      await assign(t, phones[1]!, { agentId: agent.agentId, teamId });
      expect((await t.call('POST', api('assign-bot'), { customer_phone: phones[2], bot_token: 'AI' })).statusCode).toBe(200);

      expect(await ids(admin, '?status=pending_customer')).toEqual([a]);
      expect(await ids(admin, `?label=${encodeURIComponent('vip lounge')}`)).toEqual([b, a]);
      expect(await ids(admin, '?label=nope')).toEqual([]);
      expect(await ids(admin, `?team_id=${teamId}`)).toEqual([b]);
      expect(await ids(admin, `?agent_id=${agent.agentId}`)).toEqual([b]);
      expect(await ids(admin, '?bot_active=true')).toEqual([c]);
      expect(await ids(admin, '?bot_active=false')).toEqual([b, a]);
      expect(await ids(admin, `?label=${encodeURIComponent('vip lounge')}&status=pending_customer`)).toEqual([a]);
      expect(await ids(admin, `?label=${encodeURIComponent('vip lounge')}&status=open`)).toEqual([]);
      expect((await list(admin, '?bot_active=true')).conversations[0]!.bot).toEqual({ bot: 'AI', active: true, paused_at: null, paused_by: null });
    });

    it('refuses bad filters and pages with 400, naming the parameter', async () => {
      expectAppError(await admin.call('GET', '/app/api/conversations?tab=theirs'), 400, 'query tab: tab must be one of mine, unassigned, all');
      expectAppError(await admin.call('GET', '/app/api/conversations?status=happy'), 400, expect.stringMatching(/^query status: status must be one of new, open/) as never);
      expectAppError(await admin.call('GET', '/app/api/conversations?bot_active=yes'), 400, 'query bot_active: bot_active must be true or false');
      expectAppError(await admin.call('GET', '/app/api/conversations?cursor=not-a-cursor'), 400, 'query cursor: Invalid cursor');
      const forged = Buffer.from(JSON.stringify({ at: 1, id: ['x'] })).toString('base64url');
      expectAppError(await admin.call('GET', `/app/api/conversations?cursor=${forged}`), 400, 'query cursor: Invalid cursor');
      for (const limit of ['0', '101', 'abc', '1.5', '']) expect((await admin.call('GET', `/app/api/conversations?limit=${limit}`)).statusCode).toBe(400);
      expect((await admin.call('GET', `/app/api/conversations?q=${'x'.repeat(201)}`)).statusCode).toBe(400);
      expectAppError(await admin.call('GET', '/app/api/conversations?q=a%00b'), 400, 'query q: q must not contain NUL characters');
    });

    it('pages by an opaque cursor that stays right while conversations arrive and move', async () => {
      const phones = Array.from({ length: 5 }, () => nextPhone());
      const created: string[] = [];
      for (const phone of phones) created.push(await conversationWith(ctx, t, phone));
      const newestFirst = [...created].reverse();

      const page1 = await list(admin, '?limit=2');
      expect(page1.conversations.map((row) => row.id)).toEqual(newestFirst.slice(0, 2));
      expect(page1.next_cursor).toEqual(expect.any(String));

      // Meanwhile: a new conversation, and one not yet shown moves to the top.
      const arrived = await conversationWith(ctx, t, nextPhone());
      await conversationWith(ctx, t, phones[0]!, 'Again');

      const rest: string[] = [];
      let cursor = page1.next_cursor;
      while (cursor) {
        const page = await list(admin, `?limit=2&cursor=${cursor}`);
        rest.push(...page.conversations.map((row) => row.id));
        cursor = page.next_cursor;
      }
      // Nothing repeats, nothing that stayed put is skipped; what moved or arrived is on a fresh first page.
      expect(rest).toEqual(newestFirst.slice(2, 4));
      expect(await ids(admin, '?limit=2')).toEqual([created[0], arrived]);
    });

    it('searches names, phones, emails and message text with the full-text indexes', async () => {
      const dana = nextPhone();
      const danaId = await conversationWith(ctx, t, dana, 'The shipment arrived broken', 'Dana Cohen');
      const hebrew = await conversationWith(ctx, t, nextPhone(), 'שלום עולם, מתי המשלוח מגיע?', 'דנה כהן');
      const other = await conversationWith(ctx, t, nextPhone(), 'Unrelated question', 'Yossi');
      expect((await t.call('POST', api('edit-customer'), { customer_phone: dana, email: 'dc1984@example.com' })).statusCode).toBe(200);
      const search = (q: string) => ids(admin, `?q=${encodeURIComponent(q)}`);

      expect(await search('dana')).toEqual([danaId]);
      expect(await search('DANA coh')).toEqual([danaId]);
      expect(await search('dc1984@example.com')).toEqual([danaId]);
      expect(await search('כהן')).toEqual([hebrew]);
      expect(await search('המשלו')).toEqual([hebrew]);
      expect(await search('shipm')).toEqual([danaId]);
      expect(await search('shipment broken')).toEqual([danaId]);
      expect(await search('shipment unrelated')).toEqual([]);
      // A phone as typed: international or local, with spaces and dashes.
      const local = `0${dana.slice(3, 5)}-${dana.slice(5, 8)} ${dana.slice(8)}`;
      for (const typed of [dana, `+${dana.slice(0, 3)} ${dana.slice(3, 5)} ${dana.slice(5)}`, local, `00${dana}`]) expect(await search(typed), typed).toEqual([danaId]);
      if (kind === 'sqlite') expect(await search('ohen')).toEqual([danaId]);
      // Text that is query syntax in either engine is only text.
      for (const hostile of ['"', '*', 'NEAR(a b)', "'", '\\', 'a OR b', ') OR 1=1 --', ':*', '!', '&|', 'dana"*', "dana' | 'x", '-dana', '^', 'name:dana', '(', '%', '_']) {
        const response = await admin.call('GET', `/app/api/conversations?q=${encodeURIComponent(hostile)}`);
        expect(response.statusCode, `${hostile}: ${response.body}`).toBe(200);
      }
      expect(await search('   ')).toEqual([other, hebrew, danaId]);

      // The indexes follow changes: a new name is found, the old one no more.
      expect((await t.call('POST', api('edit-customer'), { customer_phone: dana, name: 'Rina Levi' })).statusCode).toBe(200);
      expect(await search('rina')).toEqual([danaId]);
      expect(await search('Dana Cohen')).toEqual([]);
      // Search keeps the visibility rule and the other filters.
      expect(await ids(agent, `?q=${encodeURIComponent('rina')}`)).toEqual([danaId]);
      await assign(t, dana, { agentId: await t.add('agents', 'Someone else') });
      expect(await ids(agent, `?q=${encodeURIComponent('rina')}`)).toEqual([]);
      expect(await counts(admin, `?q=${encodeURIComponent('rina')}`)).toEqual({ mine: 0, unassigned: 0, all: 1 });
    });
  });

  describe('one conversation', () => {
    it("shows the customer's record, assignment, labels, bot and window", async () => {
      const phone = nextPhone();
      expect((await t.call('POST', api('add-new-customer'), { customer_phone: phone, name: 'Dana', email: 'd@example.com', source: 'ads', plan: 'gold', utm_source: 'fb' })).statusCode).toBe(200);
      const id = await conversationWith(ctx, t, phone);
      await assign(t, phone, { teamId });
      const { conversation } = ok(await agent.call('GET', `/app/api/conversations/${id}`));
      expect(conversation).toMatchObject({
        id,
        name: 'Dana',
        phone,
        email: 'd@example.com',
        source: 'ads',
        country: 'IL',
        custom_fields: { plan: 'gold' },
        attribution: { utm_source: 'fb' },
        agent: null,
        team: { id: teamId, name: 'Sales' },
        unread: 1,
        window_open: true,
        bot: { bot: null, active: false },
      });
      // A day later (a new session: the idle timeout is 12 hours).
      ctx.clock.advance(DAY);
      const later = await signedInPerson(ctx, { accountId: t.accountId, role: 'supervisor' });
      expect(ok(await later.call('GET', `/app/api/conversations/${id}`)).conversation.window_open).toBe(false);
    });

    it('answers 404 for an unknown id and for another account\'s customer', async () => {
      expectAppError(await admin.call('GET', '/app/api/conversations/nope'), 404, 'Conversation not found');
      const other = await newTenant(ctx);
      const theirs = await conversationWith(ctx, other, nextPhone());
      expectAppError(await admin.call('GET', `/app/api/conversations/${theirs}`), 404, 'Conversation not found');
      expectAppError(await admin.call('GET', `/app/api/conversations/${theirs}/timeline`), 404, 'Conversation not found');
    });

    it('gives messages and private notes interleaved, newest first, paged backwards, with sender, status, error and content', async () => {
      const phone = nextPhone();
      const id = await conversationWith(ctx, t, phone, 'First question');
      ctx.clock.advance(1000);
      expect((await admin.call('POST', `/app/api/conversations/${id}/notes`, { text: 'Called them, no answer' })).statusCode).toBe(201);
      ctx.clock.advance(1000);
      const apiSent = ok(await t.call('POST', api('send-text-message'), { customer_phone: phone, text: 'From the API' }));
      ctx.clock.advance(1000);
      const templateId = await approvedTemplate(t, 'hello_there');
      expect((await t.call('POST', api('send-template'), { customer_phone: phone, template_id: templateId })).statusCode).toBe(200);
      ctx.clock.advance(1000);
      expect((await admin.call('POST', `/app/api/conversations/${id}/replies/text`, { text: 'From a person' })).statusCode).toBe(201);

      const all = await timeline(admin, id);
      expect(all.next_cursor).toBeNull();
      expect(all.items.map((item) => [item.kind, item.text])).toEqual([
        ['message', 'From a person'],
        ['message', 'Hello'],
        ['message', 'From the API'],
        ['note', 'Called them, no answer'],
        ['message', 'First question'],
      ]);
      const [person, template, fromApi, note, inbound] = all.items;
      expect(person).toMatchObject({ direction: 'outbound', sender: { type: 'agent', id: admin.agentId, name: 'Ada Admin' }, error: null, media: null });
      expect(template).toMatchObject({ type: 'template', sender: { type: 'api' } });
      expect(fromApi).toMatchObject({ id: apiSent.id, message_wa_id: apiSent.message_wa_id, sender: { type: 'api' } });
      expect(note).toEqual({ kind: 'note', id: expect.any(String), customer_id: id, text: 'Called them, no answer', author: { id: admin.agentId, name: 'Ada Admin' }, created_at: expect.any(String) });
      expect(inbound).toMatchObject({ direction: 'inbound', sender: null, status: 'received', content: null });

      // Two at a time, back to the beginning, the same items in the same order.
      const paged: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page = await timeline(admin, id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(2);
        paged.push(...page.items.map((item) => `${item.kind}:${item.id}`));
        cursor = page.next_cursor;
      }
      expect(paged).toEqual(all.items.map((item) => `${item.kind}:${item.id}`));
      expectAppError(await admin.call('GET', `/app/api/conversations/${id}/timeline?cursor=${all.items.length}`), 400, 'query cursor: Invalid cursor');
    });

    it('keeps a failed message with its error, and puts a note written at the same instant as messages after them', async () => {
      const phone = nextPhone();
      const id = await conversationWith(ctx, t, phone);
      const sent = ok(await t.call('POST', api('send-text-message'), { customer_phone: phone, text: 'Will fail' }));
      expect((await admin.call('POST', `/app/api/conversations/${id}/notes`, { text: 'Same instant' })).statusCode).toBe(201);
      expect((await t.call('POST', api('sandbox/set-message-status'), { message_wa_id: sent.message_wa_id, status: 'failed', error_code: 131026, error_title: 'Message undeliverable' })).statusCode).toBe(200);
      const { items } = await timeline(admin, id);
      expect(items.map((item) => item.kind)).toEqual(['note', 'message', 'message']);
      expect(items[1]).toMatchObject({ status: 'failed', error: { code: 131026, title: 'Message undeliverable' } });
      // Paged one at a time across the tie, nothing is lost or repeated.
      const first = await timeline(admin, id, '?limit=1');
      const second = await timeline(admin, id, `?limit=1&cursor=${first.next_cursor}`);
      const third = await timeline(admin, id, `?limit=1&cursor=${second.next_cursor}`);
      expect([...first.items, ...second.items, ...third.items]).toEqual(items);
      expect(third.next_cursor).toBeNull();
    });

    it("never shows private notes through the Mumble API's get-conversation", async () => {
      const phone = nextPhone();
      const id = await conversationWith(ctx, t, phone, 'Hello');
      expect((await agent.call('POST', `/app/api/conversations/${id}/notes`, { text: 'Secret: VIP, be nice' })).statusCode).toBe(201);
      const conversation = await conversationOf(t, phone);
      expect(conversation.total).toBe(1);
      expect(JSON.stringify(conversation)).not.toContain('Secret');
      expect((await timeline(agent, id)).items.map((item) => item.kind)).toEqual(['note', 'message']);
    });
  });

  describe('media', () => {
    it('streams a file the customer sent to a person who may see the conversation; a link stays a link', async () => {
      const phone = nextPhone();
      const id = await conversationWith(ctx, t, phone);
      const image = mediaSample('jpg', 2048);
      await customerSendsFile(ctx, t.accountId, phone, { content: image, mimeType: 'image/jpeg', filename: 'photo.jpg', extension: 'jpg' });
      const text = mediaSample('txt');
      await customerSendsFile(ctx, t.accountId, phone, { content: text, mimeType: 'text/html', filename: 'page "one".html', extension: 'txt' });
      ctx.clock.advance(1000);
      expect((await t.call('POST', api('send-media-message'), { customer_phone: phone, media_url: 'https://cdn.example.com/menu.pdf' })).statusCode).toBe(200);

      const [link, page, photo] = (await timeline(agent, id)).items;
      expect(link!.media).toEqual({ url: 'https://cdn.example.com/menu.pdf', mime_type: 'application/pdf', filename: null });
      expect(photo!.media).toEqual({ url: `/app/api/media/${photo!.id}`, mime_type: 'image/jpeg', filename: 'photo.jpg' });

      const shown = await agent.call('GET', photo!.media.url);
      expect(shown.statusCode).toBe(200);
      expect(shown.rawPayload.equals(image)).toBe(true);
      expect(shown.headers).toMatchObject({ 'content-type': 'image/jpeg', 'content-disposition': 'inline; filename="photo.jpg"; filename*=UTF-8\'\'photo.jpg', 'x-content-type-options': 'nosniff' });
      // Anything but images, audio, video and PDF downloads, never runs as a page of ours.
      const downloaded = await agent.call('GET', page!.media.url);
      expect(downloaded.statusCode).toBe(200);
      expect(downloaded.headers['content-disposition']).toMatch(/^attachment; filename="page _one_.html"/);
      expect(downloaded.headers['content-security-policy']).toContain('sandbox');

      expectAppError(await agent.call('GET', `/app/api/media/${link!.id}`), 404, 'Media not found');
      expectAppError(await agent.call('GET', '/app/api/media/999999999'), 404, 'Media not found');
      expect((await agent.call('GET', '/app/api/media/abc')).statusCode).toBe(400);
      await assign(t, phone, { agentId: await t.add('agents', 'Someone else') });
      expectAppError(await agent.call('GET', photo!.media.url), 404, 'Media not found');
      expect((await ctx.app.inject({ method: 'GET', url: photo!.media.url })).statusCode).toBe(401);
    });
  });
});
