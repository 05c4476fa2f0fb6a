import { beforeEach, expect, it } from 'vitest';
import { api, newTenant, nextPhone, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { signedInPerson, type SignedInPerson } from './inbox-helpers.js';
import { assign, conversationWith, expectAppError, ok } from './inbox-fixtures.js';

const UNKNOWN_VARIABLE = (name: string) => `text: unknown variable {{${name}}}: use customer.name, customer.phone, customer.email or fields.<custom field>`;

/** Canned responses: every person reads and fills them; admins manage them (/app/api/canned-responses). */
describeEachDatabase('inbox: canned responses', (kind) => {
  let ctx: TestContext;
  let t: Tenant;
  let admin: SignedInPerson;
  let agent: SignedInPerson;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  beforeEach(async () => {
    admin = await signedInPerson(ctx, { accountId: t.accountId, role: 'admin' });
    agent = await signedInPerson(ctx, { accountId: t.accountId, role: 'agent' });
  });

  const create = (body: unknown, person = admin) => person.call('POST', '/app/api/canned-responses', body);
  const list = async (person = agent) => ok(await person.call('GET', '/app/api/canned-responses')).canned_responses as Array<Record<string, any>>;

  it('lets admins create, change and remove them, and every person list them by shortcut', async () => {
    const greeting = ok(await create({ shortcut: ' Hello ', title: 'Greeting', text: 'Hi {{customer.name}}, your plan is {{ fields.plan }}.' }), 201).canned_response;
    expect(greeting).toEqual({
      id: expect.any(String),
      shortcut: 'hello',
      title: 'Greeting',
      text: 'Hi {{customer.name}}, your plan is {{ fields.plan }}.',
      variables: ['customer.name', 'fields.plan'],
      created_at: ctx.clock.now().toISOString(),
      updated_at: ctx.clock.now().toISOString(),
    });
    ok(await create({ shortcut: 'תודה', title: 'Thanks', text: 'תודה רבה!' }), 201);
    ok(await create({ shortcut: 'bye_now-1', title: 'Bye', text: 'Bye {{customer.email}}' }), 201);
    expect((await list()).map((row) => row.shortcut)).toEqual(['bye_now-1', 'hello', 'תודה']);

    ctx.clock.advance(1000);
    const changed = ok(await admin.call('PATCH', `/app/api/canned-responses/${greeting.id}`, { title: 'Hello!', text: 'Hello {{customer.phone}}' })).canned_response;
    expect(changed).toMatchObject({ shortcut: 'hello', title: 'Hello!', text: 'Hello {{customer.phone}}', variables: ['customer.phone'], updated_at: ctx.clock.now().toISOString() });
    expect(ok(await admin.call('DELETE', `/app/api/canned-responses/${greeting.id}`))).toEqual({ deleted: true });
    expectAppError(await admin.call('DELETE', `/app/api/canned-responses/${greeting.id}`), 404, 'Canned response not found');
    expect((await list()).map((row) => row.shortcut)).toEqual(['bye_now-1', 'תודה']);
  });

  it('keeps them for admins: other people are refused, and nothing changes', async () => {
    const { canned_response } = ok(await create({ shortcut: 'x', title: 'X', text: 'X' }), 201);
    for (const role of ['agent', 'supervisor'] as const) {
      const person = role === 'agent' ? agent : await signedInPerson(ctx, { accountId: t.accountId, role });
      expectAppError(await create({ shortcut: 'y', title: 'Y', text: 'Y' }, person), 403, 'Only admins may do this');
      expectAppError(await person.call('PATCH', `/app/api/canned-responses/${canned_response.id}`, { title: 'Mine now' }), 403, 'Only admins may do this');
      expectAppError(await person.call('DELETE', `/app/api/canned-responses/${canned_response.id}`), 403, 'Only admins may do this');
    }
    expect(await list()).toEqual([canned_response]);
  });

  it('keeps shortcuts unique per account, whatever their case, and other accounts apart', async () => {
    const { canned_response } = ok(await create({ shortcut: 'hi', title: 'Hi', text: 'Hi' }), 201);
    const other = ok(await create({ shortcut: 'other', title: 'Other', text: 'Other' }), 201).canned_response;
    expectAppError(await create({ shortcut: 'HI', title: 'Again', text: 'Again' }), 409, 'shortcut is already used by another canned response');
    expectAppError(await admin.call('PATCH', `/app/api/canned-responses/${other.id}`, { shortcut: 'Hi' }), 409, 'shortcut is already used by another canned response');
    // Another account has its own shortcuts, and cannot touch ours.
    const elsewhere = await newTenant(ctx);
    const theirAdmin = await signedInPerson(ctx, { accountId: elsewhere.accountId, role: 'admin' });
    ok(await create({ shortcut: 'hi', title: 'Theirs', text: 'Theirs' }, theirAdmin), 201);
    expectAppError(await theirAdmin.call('PATCH', `/app/api/canned-responses/${canned_response.id}`, { title: 'Stolen' }), 404, 'Canned response not found');
    expectAppError(await theirAdmin.call('DELETE', `/app/api/canned-responses/${canned_response.id}`), 404, 'Canned response not found');
    expectAppError(await theirAdmin.call('GET', `/app/api/canned-responses/${canned_response.id}/render?customer_id=x`), 404, 'Canned response not found');
    expect((await list()).map((row) => row.title)).toEqual(['Hi', 'Other']);
  });

  it.each([
    [{ shortcut: 'has space', title: 'T', text: 'X' }, 'shortcut: shortcut must be 1-32 letters, digits, _ or -'],
    [{ shortcut: '', title: 'T', text: 'X' }, 'shortcut: shortcut must be 1-32 letters, digits, _ or -'],
    [{ shortcut: '/slash', title: 'T', text: 'X' }, 'shortcut: shortcut must be 1-32 letters, digits, _ or -'],
    [{ shortcut: 'x'.repeat(33), title: 'T', text: 'X' }, 'shortcut: shortcut is too long (at most 32 characters)'],
    [{ shortcut: 7, title: 'T', text: 'X' }, 'shortcut: shortcut must be a string'],
    [{ shortcut: 'ok', title: '', text: 'X' }, 'title: title is required'],
    [{ shortcut: 'ok', title: 'T', text: 'x'.repeat(4097) }, 'text: text is too long (at most 4096 characters)'],
    [{ shortcut: 'ok', title: 'T', text: 'Hi {{customer.age}}' }, UNKNOWN_VARIABLE('customer.age')],
    [{ shortcut: 'ok', title: 'T', text: 'Hi {{fields.__proto__}}' }, UNKNOWN_VARIABLE('fields.__proto__')],
    [{ shortcut: 'ok', title: 'T', text: 'Hi {{1}}' }, UNKNOWN_VARIABLE('1')],
    [{ shortcut: 'ok', title: 'T\u0000', text: 'X' }, 'title: title must not contain NUL characters'],
    [{ shortcut: 'ok', title: 'T', text: 'X', folder: 'sales' }, 'Unrecognized key: "folder"'],
    [{ shortcut: 'ok', title: 'T' }, 'text: text must be a string'],
  ])('refuses %j with 400 and writes nothing', async (body, message) => {
    expectAppError(await create(body), 400, message);
    expect(await list()).toEqual([]);
  });

  it('refuses a change that says nothing, or is not allowed, and changes nothing', async () => {
    const { canned_response } = ok(await create({ shortcut: 'hi', title: 'Hi', text: 'Hi' }), 201);
    const patch = (body: unknown) => admin.call('PATCH', `/app/api/canned-responses/${canned_response.id}`, body);
    expectAppError(await patch({}), 400, 'Nothing to change: send shortcut, title or text');
    expectAppError(await patch({ text: '{{customer.age}}' }), 400, UNKNOWN_VARIABLE('customer.age'));
    expectAppError(await patch({ title: 'New', id: 'other' }), 400, 'Unrecognized key: "id"');
    expectAppError(await admin.call('PATCH', '/app/api/canned-responses/nope', { title: 'New' }), 404, 'Canned response not found');
    expect(await list()).toEqual([canned_response]);
  });

  it('fills the variables from a customer the person may see; names those without a value', async () => {
    const phone = nextPhone();
    expect((await t.call('POST', api('add-new-customer'), { customer_phone: phone, name: 'דנה', plan: 'gold', visits: 3 })).statusCode).toBe(200);
    const id = await conversationWith(ctx, t, phone);
    const { canned_response } = ok(
      await create({ shortcut: 'full', title: 'Full', text: 'שלום {{customer.name}} ({{customer.phone}}), {{fields.plan}} ×{{fields.visits}} {{customer.email}}{{fields.nope}}' }),
      201,
    );
    const render = (person: SignedInPerson, query: string) => person.call('GET', `/app/api/canned-responses/${canned_response.id}/render${query}`);
    expect(ok(await render(agent, `?customer_id=${id}`))).toEqual({ text: `שלום דנה (${phone}), gold ×3 `, missing: ['customer.email', 'fields.nope'] });
    await assign(t, phone, { agentId: await t.add('agents', 'Someone else') });
    expectAppError(await render(agent, `?customer_id=${id}`), 404, 'Conversation not found');
    expect(ok(await render(admin, `?customer_id=${id}`)).text).toContain('דנה');
    expectAppError(await render(admin, ''), 400, 'query customer_id: customer_id is required');
    expectAppError(await admin.call('GET', `/app/api/canned-responses/nope/render?customer_id=${id}`), 404, 'Canned response not found');
  });
});
