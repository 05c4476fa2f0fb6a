import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/modules/people/people.schema.js';
import { UNLIMITED, api, newTenant, nextPhone, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { signedInPerson, type SignedInPerson } from './inbox-helpers.js';
import { approvedTemplate, assign, conversationWith, customerSendsFile, ok } from './inbox-fixtures.js';
import { mediaSample } from './media-samples.js';

const ROLES: Role[] = ['admin', 'supervisor', 'agent'];

/** Where a conversation stands, seen from the person asking. */
const STATES = ['mine', "another agent's", "my team's", "another team's", 'unassigned', 'unassigned, hidden by the account', "another account's"] as const;
type State = (typeof STATES)[number];

/** The rule (docs/inbox.md, "Visibility"), written out: what each role may see. */
function expectedVisible(role: Role, state: State): boolean {
  if (state === "another account's") return false;
  if (role !== 'agent') return true;
  return state === 'mine' || state === "my team's" || state === 'unassigned';
}

const hasNoAgent = (state: State) => state === "my team's" || state === "another team's" || state.startsWith('unassigned');

/**
 * The visibility matrix: every role × every assignment state × every inbox route. What the rule
 * hides answers 404 (as another account's customer does) and is changed by nothing.
 */
describeEachDatabase('inbox: visibility', (kind) => {
  let ctx: TestContext;
  /** The account everyone works in, and one that hides unassigned conversations from agents. */
  let open: Tenant;
  let hiding: Tenant;
  const people = new Map<string, SignedInPerson>();
  /** The customer of each state, per role (only `mine` differs between roles). */
  const customers = new Map<string, { id: string; name: string; mediaUrl: string }>();
  const canned = new Map<Tenant, string>();
  const templates = new Map<Tenant, string>();

  const personOf = (role: Role, state: State) => people.get(`${role}${state === 'unassigned, hidden by the account' ? ':hiding' : ''}`)!;
  const customerOf = (role: Role, state: State) => customers.get(state === 'mine' ? `mine:${role}` : state)!;

  beforeAll(async () => {
    ctx = await createTestContext(kind, UNLIMITED);
    open = await newTenant(ctx);
    hiding = await newTenant(ctx);
    await ctx.deps.database.db.updateTable('accounts').set({ hide_unassigned: 1 }).where('id', '=', hiding.accountId).execute();
    const myTeam = await open.add('teams', 'Mine');
    const otherTeam = await open.add('teams', 'Theirs');
    const otherAgent = await open.add('agents', 'Somebody else');
    for (const role of ROLES) {
      people.set(role, await signedInPerson(ctx, { accountId: open.accountId, role, teamIds: [myTeam] }));
      people.set(`${role}:hiding`, await signedInPerson(ctx, { accountId: hiding.accountId, role }));
    }
    for (const tenant of [open, hiding]) {
      templates.set(tenant, await approvedTemplate(tenant, 'visible_hello'));
      expect((await tenant.call('POST', api('add-new-label'), { label_name: 'vip' })).statusCode).toBe(200);
      const admin = await signedInPerson(ctx, { accountId: tenant.accountId, role: 'admin' });
      canned.set(tenant, ok(await admin.call('POST', '/app/api/canned-responses', { shortcut: 'hi', title: 'Hi', text: 'Hi {{customer.name}}' }), 201).canned_response.id);
    }

    const add = async (key: string, tenant: Tenant, assignment: { agentId?: string; teamId?: string }) => {
      const phone = nextPhone();
      const name = `Customer ${key.replace(/\W+/g, ' ')} ${phone.slice(-4)}`;
      const id = await conversationWith(ctx, tenant, phone, 'Hello', name);
      await customerSendsFile(ctx, tenant.accountId, phone, { content: mediaSample('jpg'), mimeType: 'image/jpeg', filename: 'a.jpg', extension: 'jpg' });
      await assign(tenant, phone, assignment);
      expect((await tenant.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: 'AI' })).statusCode).toBe(200);
      const file = await ctx.deps.database.db.selectFrom('messages').select('id').where('customer_id', '=', id).where('media_key', 'is not', null).executeTakeFirstOrThrow();
      customers.set(key, { id, name, mediaUrl: `/app/api/media/${Number(file.id)}` });
    };
    for (const role of ROLES) await add(`mine:${role}`, open, { agentId: people.get(role)!.agentId });
    await add("another agent's", open, { agentId: otherAgent });
    await add("my team's", open, { teamId: myTeam });
    await add("another team's", open, { teamId: otherTeam });
    await add('unassigned', open, {});
    await add('unassigned, hidden by the account', hiding, {});
    // Another account's customer, asked for by the open account's people.
    await add("another account's", hiding, {});
  });
  afterAll(() => ctx?.close());

  const listed = async (person: SignedInPerson, query: string) =>
    (ok(await person.call('GET', `/app/api/conversations?limit=100&${query}`)).conversations as Array<{ id: string }>).map((row) => row.id);

  /** Each route, as the person (of the account `own`) would call it for this customer. */
  const routes = (person: SignedInPerson, own: Tenant, customer: { id: string }) => {
    const url = `/app/api/conversations/${customer.id}`;
    return {
      'GET conversation': () => person.call('GET', url),
      'GET timeline': () => person.call('GET', `${url}/timeline`),
      'GET canned response rendered': () => person.call('GET', `/app/api/canned-responses/${canned.get(own)}/render?customer_id=${customer.id}`),
      'POST replies/text': () => person.call('POST', `${url}/replies/text`, { text: 'Hi' }),
      'POST replies/media': () => person.call('POST', `${url}/replies/media`, { media_url: 'https://cdn.example.com/a.jpg' }),
      'POST replies/template': () => person.call('POST', `${url}/replies/template`, { template_id: templates.get(own) }),
      'POST notes': () => person.call('POST', `${url}/notes`, { text: 'A note' }),
      'PATCH status': () => person.call('PATCH', url, { status: 'in_progress' }),
      'POST labels': () => person.call('POST', `${url}/labels`, { label: 'vip' }),
      'DELETE labels/vip': () => person.call('DELETE', `${url}/labels/vip`),
      'POST read': () => person.call('POST', `${url}/read`),
      'POST bot/take-over': () => person.call('POST', `${url}/bot/take-over`),
      'POST bot/hand-back': () => person.call('POST', `${url}/bot/hand-back`),
    } satisfies Record<string, () => Promise<LightMyRequestResponse>>;
  };

  /** What the routes could have written about a customer. */
  const tracesOf = async (customerId: string) => {
    const { db } = ctx.deps.database;
    const count = async (table: 'notes' | 'customer_labels' | 'conversation_reads') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('customer_id', '=', customerId).executeTakeFirstOrThrow()).n);
    const outbound = await db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('customer_id', '=', customerId).where('direction', '=', 'outbound').executeTakeFirstOrThrow();
    const customer = await db.selectFrom('customers').select(['conversation_status', 'bot_paused_at', 'agent_id', 'team_id']).where('id', '=', customerId).executeTakeFirstOrThrow();
    return { notes: await count('notes'), labels: await count('customer_labels'), reads: await count('conversation_reads'), outbound: Number(outbound.n), ...customer };
  };

  describe.each(ROLES)('%s', (role) => {
    it.each(STATES)('%s', async (state) => {
      const person = personOf(role, state);
      const customer = customerOf(role, state);
      const visible = expectedVisible(role, state);
      const own = state === 'unassigned, hidden by the account' ? hiding : open;

      // The list: in each tab where the rule and the tab put it, and found by search only then.
      expect((await listed(person, 'tab=all')).includes(customer.id), 'tab=all').toBe(visible);
      expect((await listed(person, 'tab=mine')).includes(customer.id), 'tab=mine').toBe(visible && state === 'mine');
      expect((await listed(person, 'tab=unassigned')).includes(customer.id), 'tab=unassigned').toBe(visible && hasNoAgent(state));
      expect((await listed(person, `q=${encodeURIComponent(customer.name)}`)).includes(customer.id), 'search').toBe(visible);

      const before = await tracesOf(customer.id);
      const answers: Record<string, number> = {};
      for (const [name, call] of Object.entries(routes(person, own, customer))) answers[name] = (await call()).statusCode;
      const media = await person.call('GET', customer.mediaUrl);
      answers['GET media'] = media.statusCode;

      if (visible) {
        expect(answers).toEqual({
          'GET conversation': 200,
          'GET timeline': 200,
          'GET canned response rendered': 200,
          'POST replies/text': 201,
          'POST replies/media': 201,
          'POST replies/template': 201,
          'POST notes': 201,
          'PATCH status': 200,
          'POST labels': 200,
          'DELETE labels/vip': 200,
          'POST read': 200,
          'POST bot/take-over': 200,
          'POST bot/hand-back': 200,
          'GET media': 200,
        });
        return;
      }
      expect(Object.values(answers).every((status) => status === 404), JSON.stringify(answers)).toBe(true);
      for (const [name, call] of Object.entries(routes(person, own, customer))) {
        const body = (await call()).json();
        expect(body, name).toEqual({ error: true, message: 'Conversation not found' });
      }
      expect(media.json()).toEqual({ error: true, message: 'Media not found' });
      // Nothing was written: no message, note, label, read mark, status or bot change.
      expect(await tracesOf(customer.id)).toEqual(before);
    });
  });

  it('counts each tab with the same rule', async () => {
    const agent = personOf('agent', 'mine');
    const counts = ok(await agent.call('GET', '/app/api/conversations/counts')).counts;
    // Their own, their team's, the unassigned one.
    expect(counts).toEqual({ mine: 1, unassigned: 2, all: 3 });
    const supervisor = ok(await personOf('supervisor', 'mine').call('GET', '/app/api/conversations/counts')).counts;
    expect(supervisor).toEqual({ mine: 1, unassigned: 3, all: 7 });
    expect(ok(await personOf('agent', 'unassigned, hidden by the account').call('GET', '/app/api/conversations/counts')).counts).toEqual({ mine: 0, unassigned: 0, all: 0 });
    expect(ok(await personOf('admin', 'unassigned, hidden by the account').call('GET', '/app/api/conversations/counts')).counts).toEqual({ mine: 0, unassigned: 2, all: 2 });
  });
});
