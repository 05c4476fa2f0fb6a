import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, newTenant, nextPhone, setUpApiSuite, type Tenant } from './api.js';
import { customerRow, describeEachDatabase, type TestContext } from './helpers.js';
import { CSRF, signedInPerson, type SignedInPerson } from './inbox-helpers.js';
import { approvedTemplate, conversationWith, expectAppError, liveEventsOf, ok } from './inbox-fixtures.js';
import { mediaSample } from './media-samples.js';
import { STATUS_DELAY_MS, conversationOf, disableMessaging, mediaFiles, multipart } from './messaging.js';

const DAY = 24 * 60 * 60 * 1000;
const CONVERSATION_CLOSED = 'Conversation is closed (send a template instead)';

/** What a signed-in person does to a conversation: replies, notes, status, assignment, labels, read marks, bot hand-over. */
describeEachDatabase('inbox: actions', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let person: SignedInPerson;
  let phone: string;
  let id: string;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  beforeEach(async () => {
    person = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent', name: 'Noa' });
    phone = nextPhone();
    id = await conversationWith(ctx, t, phone, 'Hi, a question');
  });
  afterEach(async () => {
    await ctx.scheduler.advance(10 * STATUS_DELAY_MS);
  });

  const url = (path = '') => `/app/api/conversations/${id}${path}`;
  const conversation = async () => ok(await person.call('GET', url())).conversation as Record<string, any>;
  const timeline = async () => ok(await person.call('GET', url('/timeline'))).items as Array<Record<string, any>>;
  const eventTypes = async () => (await liveEventsOf(ctx, id)).map((event) => event.type);
  const runBot = async () => expect((await t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: 'AI' })).statusCode).toBe(200);

  describe('replies', () => {
    it('sends text as the person, through the same send as the Mumble API', async () => {
      const { message } = ok(await person.call('POST', url('/replies/text'), { text: 'שלום! How can I help?' }), 201);
      expect(message).toMatchObject({
        kind: 'message',
        customer_id: id,
        direction: 'outbound',
        type: 'text',
        text: 'שלום! How can I help?',
        status: 'pending',
        message_wa_id: expect.stringMatching(/^wamid\./),
        sender: { type: 'agent', id: person.agentId, name: 'Noa' },
      });
      const sent = (await conversationOf(t, phone)).messages[0];
      expect(sent).toMatchObject({ id: message.id, text: 'שלום! How can I help?', direction: 'outbound' });
      expect(await eventTypes()).toContain('message.created');
    });

    it('keeps the 24-hour rule and the Mumble errors, and writes nothing when refused', async () => {
      ctx.clock.advance(DAY);
      const later = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
      expectAppError(await later.call('POST', url('/replies/text'), { text: 'Too late' }), 400, CONVERSATION_CLOSED);
      expectAppError(await later.call('POST', url('/replies/media'), { media_url: 'https://cdn.example.com/a.jpg' }), 400, CONVERSATION_CLOSED);
      expect((await conversationOf(t, phone)).total).toBe(1);
      // A template needs no window.
      const templateId = await approvedTemplate(t, 'follow_up', 1);
      const { message } = ok(await later.call('POST', url('/replies/template'), { template_id: templateId, variables: ['Noa'] }), 201);
      expect(message).toMatchObject({ type: 'template', text: 'Hello Noa', sender: { type: 'agent', id: later.agentId } });
    });

    it('answers 403 (not 401) when the account may not send', async () => {
      await disableMessaging(ctx, t.accountId);
      expectAppError(await person.call('POST', url('/replies/text'), { text: 'Hi' }), 403, 'User not authorized to send text messages.');
      expect((await conversationOf(t, phone)).total).toBe(1);
    });

    it('pauses a running bot once a reply is sent (people before bots), and not when it is refused', async () => {
      await runBot();
      await disableMessaging(ctx, t.accountId);
      expect((await person.call('POST', url('/replies/text'), { text: 'Hi' })).statusCode).toBe(403);
      expect((await conversation()).bot).toMatchObject({ bot: 'AI', active: true });
      await ctx.deps.database.db.updateTable('accounts').set({ messaging_enabled: 1 }).where('id', '=', t.accountId).execute();

      expect((await person.call('POST', url('/replies/text'), { text: 'A person here' })).statusCode).toBe(201);
      expect((await conversation()).bot).toEqual({ bot: 'AI', active: false, paused_at: ctx.clock.now().toISOString(), paused_by: person.agentId });
      const bot = (await liveEventsOf(ctx, id)).filter((event) => event.type === 'conversation.bot').at(-1);
      expect(bot?.data).toMatchObject({ customer_id: id, bot: 'AI', active: false, paused_by: person.agentId });
    });

    it('uploads a file as multipart/form-data, which the browser then opens', async () => {
      const image = mediaSample('png', 4096);
      const { payload, headers } = multipart({ caption: 'The receipt' }, { filename: 'receipt.png', content: image, contentType: 'image/png' });
      const { message } = ok(await person.call('POST', url('/replies/media'), payload, headers), 201);
      expect(message).toMatchObject({ type: 'image', text: 'The receipt', media: { url: `/app/api/media/${message.id}`, mime_type: 'image/png', filename: 'receipt.png' } });
      const file = await person.call('GET', message.media.url);
      expect(file.statusCode).toBe(200);
      expect(file.rawPayload.equals(image)).toBe(true);
    });

    it('sends a link as media in JSON', async () => {
      const { message } = ok(await person.call('POST', url('/replies/media'), { media_url: 'https://cdn.example.com/menu.pdf', caption: 'Our menu' }), 201);
      expect(message).toMatchObject({ type: 'document', media: { url: 'https://cdn.example.com/menu.pdf' }, sender: { type: 'agent', id: person.agentId } });
    });

    it('refuses a bad upload with 4xx and keeps no file', async () => {
      const before = mediaFiles(ctx).length;
      const upload = (fields: Record<string, string>, file?: Parameters<typeof multipart>[1], headers: Record<string, string> = {}) => {
        const body = multipart(fields, file);
        return person.call('POST', url('/replies/media'), body.payload, { ...body.headers, ...headers });
      };
      expectAppError(await upload({ caption: 'x' }), 400, 'Either file upload or media_url is required.');
      expectAppError(await upload({}, { filename: 'fake.png', content: Buffer.from('not a png at all, really not') }), 400, 'File content does not match its extension: .png');
      expectAppError(await upload({}, { filename: 'script.exe', content: Buffer.from('MZ') }), 400, 'Unsupported file type: .exe');
      expectAppError(await upload({ colour: 'red' }, { filename: 'a.png', content: mediaSample('png') }), 400, 'Unrecognized key: "colour"');
      expectAppError(await upload({}, { field: 'attachment', filename: 'a.png', content: mediaSample('png') }), 400, 'Unrecognized key: "attachment"');
      expectAppError(await upload({ caption: 'x'.repeat(1025) }, { filename: 'a.png', content: mediaSample('png') }), 400, 'caption: caption is too long (at most 1024 characters)');
      const noCsrf = multipart({}, { filename: 'a.png', content: mediaSample('png') });
      const refused = await ctx.app.inject({ method: 'POST', url: url('/replies/media'), payload: noCsrf.payload, headers: { ...noCsrf.headers, cookie: person.cookie } });
      expectAppError(refused, 403, 'Cross-site request refused');
      expectAppError(await person.call('POST', url('/replies/media'), { file: 'data:image/png;base64,AAAA' }), 400, 'file: file must be a file uploaded as multipart/form-data');
      expect(mediaFiles(ctx)).toHaveLength(before);
      expect((await conversationOf(t, phone)).total).toBe(1);
    });

    it('refuses a template that is unknown, not approved, or given the wrong variables', async () => {
      const approved = await approvedTemplate(t, 'greeting', 2);
      expectAppError(await person.call('POST', url('/replies/template'), { template_id: 'nope' }), 404, 'Template not found');
      expectAppError(await person.call('POST', url('/replies/template'), { template_id: approved, variables: ['one'] }), 400, 'Variables count does not match the template');
      expectAppError(await person.call('POST', url('/replies/template'), { template_id: approved, variables: 'one' }), 400, 'variables: variables must be a list of strings');
      expectAppError(await person.call('POST', url('/replies/template'), { template_id: approved, variables: [1, 2] }), 400, 'variables.0: variables must be a string');
      const pending = ok(await t.call('POST', api('create-template'), { name: 'pending_one', language: 'en_US', category: 'UTILITY', body: 'Hi' })).data.id;
      expectAppError(await person.call('POST', url('/replies/template'), { template_id: pending }), 400, 'Template is not approved');
      expect((await conversationOf(t, phone)).total).toBe(1);
    });
  });

  describe('notes', () => {
    it('adds a private note to the timeline, authored by the person, with a live event', async () => {
      const { note } = ok(await person.call('POST', url('/notes'), { text: 'VIP — answer within the hour 🙏' }), 201);
      expect(note).toEqual({ kind: 'note', id: expect.any(String), customer_id: id, text: 'VIP — answer within the hour 🙏', author: { id: person.agentId, name: 'Noa' }, created_at: ctx.clock.now().toISOString() });
      expect((await timeline())[0]).toEqual(note);
      const event = (await liveEventsOf(ctx, id)).find((row) => row.type === 'note.created');
      expect(event?.data).toEqual({ customer_id: id, note });
    });

    it.each([
      [{ text: '' }, 'text: text is required'],
      [{ text: '   ' }, 'text: text is required'],
      [{ text: 42 }, 'text: text must be a string'],
      [{ text: null }, 'text: text must be a string'],
      [{}, 'text: text must be a string'],
      [{ text: 'x'.repeat(10_001) }, 'text: text is too long (at most 10000 characters)'],
      [{ text: 'a\u0000b' }, 'text: text must not contain NUL characters'],
      [{ text: 'ok', pinned: true }, 'Unrecognized key: "pinned"'],
    ])('refuses %j with 400 and writes nothing', async (body, message) => {
      expectAppError(await person.call('POST', url('/notes'), body), 400, message);
      expect((await timeline()).filter((item) => item.kind === 'note')).toEqual([]);
    });

      it('never lets a body set a prototype', async () => {
      const response = await person.call('POST', url('/notes'), '{"text":"ok","__proto__":{"agent_id":"someone"}}', { 'content-type': 'application/json' });
      expect(response.statusCode).toBeLessThan(500);
      expect(({} as Record<string, unknown>).agent_id).toBeUndefined();
      for (const item of await timeline()) if (item.kind === 'note') expect(item.author).toEqual({ id: person.agentId, name: 'Noa' });
    });

  it('keeps hostile text as text', async () => {
      const hostile = `<script>alert(1)</script> '; drop table notes; -- \u202e ${'ש'.repeat(100)} {{customer.name}} \\ "`;
      const { note } = ok(await person.call('POST', url('/notes'), { text: hostile }), 201);
      expect(note.text).toBe(hostile);
      expect((await timeline())[0]!.text).toBe(hostile);
    });
  });

  describe('status and assignment', () => {
    it('changes the status', async () => {
      const { conversation: changed } = ok(await person.call('PATCH', url(), { status: 'pending_customer' }));
      expect(changed.conversation_status).toBe('pending_customer');
      expect((await t.call('GET', api('get-customer'), { customer_phone: phone })).json().customer.conversation_status).toBe('pending_customer');
      expect(await eventTypes()).toContain('conversation.status');
    });

    it('assigns an agent and a team of the account, unassigns with null, and pauses a running bot when a person is assigned', async () => {
      await runBot();
      const teamId = await t.add('teams', 'Support');
      const other = await t.add('agents', 'Dov');
      const { conversation: assigned } = ok(await person.call('PATCH', url(), { agent_id: person.agentId, team_id: teamId }));
      expect(assigned).toMatchObject({ agent: { id: person.agentId, name: 'Noa' }, team: { id: teamId, name: 'Support' }, bot: { bot: 'AI', active: false, paused_by: person.agentId } });
      expect(await eventTypes()).toEqual(expect.arrayContaining(['conversation.assigned', 'conversation.bot']));
      // Anyone who sees it may give it away, and is shown the result once.
      const { conversation: given } = ok(await person.call('PATCH', url(), { agent_id: other, team_id: null }));
      expect(given).toMatchObject({ agent: { id: other, name: 'Dov' }, team: null });
      expectAppError(await person.call('GET', url()), 404, 'Conversation not found');
      const admin = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
      expect(ok(await admin.call('PATCH', url(), { agent_id: null })).conversation.agent).toBeNull();
      expect(ok(await person.call('GET', url())).conversation.agent).toBeNull();
    });

    it('refuses an agent or team of another account, unknown fields and empty changes, changing nothing', async () => {
      const other = await newTenant(ctx);
      const theirAgent = await other.add('agents', 'Not ours');
      const theirTeam = await other.add('teams', 'Not ours');
      expectAppError(await person.call('PATCH', url(), { status: 'open', agent_id: theirAgent }), 404, 'Agent not found');
      expectAppError(await person.call('PATCH', url(), { status: 'open', team_id: theirTeam }), 404, 'Team not found');
      expectAppError(await person.call('PATCH', url(), {}), 400, 'Nothing to change: send status, agent_id or team_id');
      expectAppError(await person.call('PATCH', url(), { status: 'open', priority: 'high' }), 400, 'Unrecognized key: "priority"');
      expectAppError(await person.call('PATCH', url(), { status: 'done' }), 400, expect.stringMatching(/^status: status must be one of new, open/) as never);
      expectAppError(await person.call('PATCH', url(), { agent_id: '' }), 400, 'agent_id: agent_id must not be empty');
      expectAppError(await person.call('PATCH', url(), { agent_id: 7 }), 400, 'agent_id: agent_id must be a string');
      expect(await conversation()).toMatchObject({ conversation_status: 'new', agent: null, team: null });
    });
  });

  describe('labels', () => {
    it("adds and removes the account's labels by name", async () => {
      for (const name of ['vip', 'needs / follow-up']) expect((await t.call('POST', api('add-new-label'), { label_name: name })).statusCode).toBe(200);
      expect(ok(await person.call('POST', url('/labels'), { label: 'vip' }))).toEqual({ labels: ['vip'] });
      expect(ok(await person.call('POST', url('/labels'), { label: 'vip' }))).toEqual({ labels: ['vip'] });
      expect(ok(await person.call('POST', url('/labels'), { label: 'needs / follow-up' }))).toEqual({ labels: ['needs / follow-up', 'vip'] });
      expect(ok(await person.call('DELETE', url(`/labels/${encodeURIComponent('needs / follow-up')}`)))).toEqual({ labels: ['vip'] });
      expectAppError(await person.call('DELETE', url(`/labels/${encodeURIComponent('needs / follow-up')}`)), 400, 'Customer is not in the label');
      expectAppError(await person.call('POST', url('/labels'), { label: 'unknown' }), 404, 'Label not found');
      expectAppError(await person.call('POST', url('/labels'), { label: ['vip'] }), 400, 'label: label must be a string');
      expect((await conversation()).labels).toEqual(['vip']);
      expect(await eventTypes()).toContain('conversation.labels');
    });

    it('labels a customer WhatsApp knows only by user id (no phone number to look them up by)', async () => {
      expect((await t.call('POST', api('add-new-label'), { label_name: 'bsuid' })).statusCode).toBe(200);
      const id = `bsuid-customer-${kind}`;
      await ctx.deps.database.db
        .insertInto('customers')
        .values(customerRow({ id, account_id: t.accountId, phone: 'US.13491208655302741918', whatsapp_user_id: 'US.13491208655302741918', country: 'US', created_at: ctx.clock.now().toISOString() }))
        .execute();
      expect(ok(await person.call('POST', `/app/api/conversations/${id}/labels`, { label: 'bsuid' }))).toEqual({ labels: ['bsuid'] });
      expect(ok(await person.call('DELETE', `/app/api/conversations/${id}/labels/bsuid`))).toEqual({ labels: [] });
    });
  });

  describe('read marks', () => {
    it("counts a person's unread inbound messages until they mark the conversation read; others keep theirs", async () => {
      const colleague = await signedInPerson(ctx, { accountId: t.accountId, role: 'supervisor' });
      await conversationWith(ctx, t, phone, 'Second');
      expect((await conversation()).unread).toBe(2);
      const marked = ok(await person.call('POST', url('/read')));
      expect(marked).toEqual({ last_read_message_id: expect.any(Number), unread: 0 });
      expect((await conversation()).unread).toBe(0);
      expect(ok(await colleague.call('GET', url())).conversation.unread).toBe(2);
      const read = (await liveEventsOf(ctx, id)).find((event) => event.type === 'conversation.read');
      expect(read).toEqual({ type: 'conversation.read', recipient: person.agentId, data: { customer_id: id, last_read_message_id: marked.last_read_message_id, unread: 0 } });

      // An outbound message is no unread one; a new inbound one is.
      expect((await person.call('POST', url('/replies/text'), { text: 'Answer' })).statusCode).toBe(201);
      expect((await conversation()).unread).toBe(0);
      await conversationWith(ctx, t, phone, 'Third');
      const [row] = ok(await person.call('GET', '/app/api/conversations')).conversations;
      expect(row).toMatchObject({ id, unread: 1 });
    });

    it('marks nothing in a conversation without messages', async () => {
      const silent = nextPhone();
      expect((await t.call('POST', api('add-new-customer'), { customer_phone: silent })).statusCode).toBe(200);
      const silentId = (await t.call('GET', api('get-customer'), { customer_phone: silent })).json().customer.id;
      expect(ok(await person.call('POST', `/app/api/conversations/${silentId}/read`))).toEqual({ last_read_message_id: null, unread: 0 });
    });
  });

  describe('bot hand-over', () => {
    it('takes over from a bot and hands back, each once', async () => {
      expectAppError(await person.call('POST', url('/bot/take-over')), 400, 'This conversation has no bot');
      expectAppError(await person.call('POST', url('/bot/hand-back')), 400, 'This conversation has no bot');
      await runBot();
      const taken = ok(await person.call('POST', url('/bot/take-over'))).conversation;
      expect(taken.bot).toEqual({ bot: 'AI', active: false, paused_at: ctx.clock.now().toISOString(), paused_by: person.agentId });
      expect(ok(await person.call('POST', url('/bot/take-over'))).conversation.bot).toEqual(taken.bot);
      expect(ok(await person.call('GET', '/app/api/conversations?bot_active=false')).conversations.map((row: { id: string }) => row.id)).toEqual([id]);
      expect(ok(await person.call('POST', url('/bot/hand-back'))).conversation.bot).toEqual({ bot: 'AI', active: true, paused_at: null, paused_by: null });
      expect(ok(await person.call('POST', url('/bot/hand-back'))).conversation.bot.active).toBe(true);
      const bot = (await liveEventsOf(ctx, id)).filter((event) => event.type === 'conversation.bot').map((event) => event.data.active);
      // assign-bot, take-over, hand-back: the repeated take-over and hand-back told nobody anything.
      expect(bot).toEqual([true, false, true]);
    });
  });

  describe('bad requests', () => {
    it('answers malformed bodies with 4xx in the envelope, never 5xx', async () => {
      const raw = (payload: string, contentType = 'application/json') => person.call('POST', url('/notes'), payload, { 'content-type': contentType });
      expectAppError(await raw('{"text": "unterminated'), 400, 'Invalid JSON body');
      expectAppError(await raw('["text"]'), 400, 'Invalid JSON body');
      expectAppError(await raw('null'), 400, 'Invalid JSON body');
      expectAppError(await raw('<note>hi</note>', 'application/xml'), 415, 'Unsupported Content-Type');
      expectAppError(await raw(JSON.stringify({ text: 'x'.repeat(26 * 1024 * 1024) })), 413, 'Request body is too large');
      expectAppError(await person.call('POST', url('/notes'), { text: 'no csrf' }, { [Object.keys(CSRF)[0]!]: '' }), 403, 'Cross-site request refused');
      // The router refuses a URL that is not valid percent-encoding, or a path parameter over 100 characters, before any route.
      expect((await person.call('POST', '/app/api/conversations/%E0%A4%A/notes', { text: 'x' })).statusCode).toBe(400);
      expect((await person.call('POST', `/app/api/conversations/${'x'.repeat(300)}/notes`, { text: 'x' })).statusCode).toBe(414);
      expect((await timeline()).filter((item) => item.kind === 'note')).toEqual([]);
    });
  });
});
