import { beforeEach, describe, expect, it } from 'vitest';
import { removeEntry } from '../src/modules/directory/directory.service.js';
import { addCustomer, api, customerOf, expectError, expectSuccess, newTenant, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';

const PHONE = '972501234567';
const AI_BOT = { id: 'AI', name: 'AI', type: 'ai' };

describeEachDatabase('agents, teams and bots', (kind) => {
  let ctx: TestContext;
  let t: Tenant;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });

  /** Adds entries a second apart: lists are in creation order. */
  const addAll = async (table: 'agents' | 'teams' | 'bots', names: string[]) => {
    const ids: string[] = [];
    for (const name of names) {
      ctx.clock.advance(1000);
      ids.push(await t.add(table, name));
    }
    return ids;
  };

  describe.each([
    { endpoint: 'get-agents', table: 'agents', key: 'agents' },
    { endpoint: 'get-teams', table: 'teams', key: 'teams' },
    { endpoint: 'get-all-teams', table: 'teams', key: 'teams' },
  ] as const)('$endpoint', ({ endpoint, table, key }) => {
    it('answers an empty list for an account without any', async () => {
      expectSuccess(await t.call('GET', api(endpoint)), { [key]: [] });
    });

    it('lists {name, id} of the account, in creation order, on GET and POST', async () => {
      const ids = await addAll(table, ['Zed', 'Amy', 'Bob']);
      const expected = { [key]: [{ name: 'Zed', id: ids[0] }, { name: 'Amy', id: ids[1] }, { name: 'Bob', id: ids[2] }] };
      expectSuccess(await t.call('GET', api(endpoint)), expected);
      expectSuccess(await t.call('POST', api(endpoint)), expected);
    });

    it("never lists another account's entries", async () => {
      const other = await newTenant(ctx);
      await other.add(table, 'Theirs');
      expectSuccess(await t.call('GET', api(endpoint)), { [key]: [] });
    });

    it('stops listing a removed entry', async () => {
      const [kept, removed] = await addAll(table, ['Kept', 'Removed']);
      await removeEntry(ctx.deps, table, removed);
      expectSuccess(await t.call('GET', api(endpoint)), { [key]: [{ name: 'Kept', id: kept }] });
    });
  });

  it('get-all-teams answers exactly as get-teams', async () => {
    await addAll('teams', ['Sales', 'Support']);
    expect((await t.call('GET', api('get-all-teams'))).json()).toEqual((await t.call('GET', api('get-teams'))).json());
  });

  describe('get-bots', () => {
    it('lists the built-in AI bot for an account without flow bots', async () => {
      expectSuccess(await t.call('GET', api('get-bots')), { bots: [AI_BOT] });
    });

    it("lists the account's flow bots, then the AI bot", async () => {
      const [welcome, followUp] = await addAll('bots', ['Welcome flow', 'Follow-up']);
      expectSuccess(await t.call('GET', api('get-bots')), {
        bots: [
          { id: welcome, name: 'Welcome flow', type: 'flow' },
          { id: followUp, name: 'Follow-up', type: 'flow' },
          AI_BOT,
        ],
      });
    });

    it("never lists another account's flow bots", async () => {
      const other = await newTenant(ctx);
      await other.add('bots', 'Theirs');
      expectSuccess(await t.call('POST', api('get-bots')), { bots: [AI_BOT] });
    });
  });

  describe('assign-bot', () => {
    const assign = (params: Record<string, unknown>) => t.call('POST', api('assign-bot'), params);

    beforeEach(async () => {
      await addCustomer(t.call, PHONE);
    });

    it('assigns the AI bot, a flow bot, and turns bots off', async () => {
      const [flow] = await addAll('bots', ['Welcome flow']);
      expectSuccess(await assign({ customer_phone: PHONE, bot_token: 'AI' }), { message: 'Bot assigned successfully' });
      expect((await customerOf(t.call, PHONE)).bot).toBe('AI');
      expectSuccess(await assign({ customer_phone: PHONE, bot_token: flow }), { message: 'Bot assigned successfully' });
      expect((await customerOf(t.call, PHONE)).bot).toBe(flow);
      expectSuccess(await assign({ customer_phone: PHONE, bot_token: 'turn_off' }), { message: 'Bot assigned successfully' });
      expect((await customerOf(t.call, PHONE)).bot).toBeNull();
    });

    it('finds the customer however the phone is written', async () => {
      expectSuccess(await assign({ customer_phone: '+972 (50) 123-4567', bot_token: 'AI' }), { message: 'Bot assigned successfully' });
    });

    it.each([
      ['an unknown token', 'no-such-bot'],
      ['a lower-case "ai"', 'ai'],
      ['"Turn_Off" in another case', 'Turn_Off'],
    ])('answers 404 "Bot not found." for %s and changes nothing', async (_case, token) => {
      await assign({ customer_phone: PHONE, bot_token: 'AI' });
      expectError(await assign({ customer_phone: PHONE, bot_token: token }), 404, 'Bot not found.');
      expect((await customerOf(t.call, PHONE)).bot).toBe('AI');
    });

    it("answers 404 \"Bot not found.\" for another account's flow bot", async () => {
      const other = await newTenant(ctx);
      const theirs = await other.add('bots', 'Theirs');
      expectError(await assign({ customer_phone: PHONE, bot_token: theirs }), 404, 'Bot not found.');
    });

    it.each<[string, unknown]>([
      ['missing', undefined],
      ['empty', ''],
      ['null', null],
      ['an array', ['AI']],
    ])('answers 400 "Bot token is required." when the token is %s', async (_case, token) => {
      expectError(await assign({ customer_phone: PHONE, bot_token: token }), 400, 'Bot token is required.');
    });

    it.each<[string, unknown]>([
      ['missing', undefined],
      ['only non-digits', 'phone'],
      ['an object', { n: 1 }],
    ])('answers 400 "Phone number is required." when the phone is %s', async (_case, phone) => {
      expectError(await assign({ customer_phone: phone, bot_token: 'AI' }), 400, 'Phone number is required.');
    });

    it('answers 404 "Customer not found" for an unknown customer', async () => {
      expectError(await assign({ customer_phone: '972509999999', bot_token: 'AI' }), 404, 'Customer not found');
    });

    it('clears the assignment of customers when their flow bot is removed', async () => {
      const [flow] = await addAll('bots', ['Doomed']);
      await assign({ customer_phone: PHONE, bot_token: flow });
      await removeEntry(ctx.deps, 'bots', flow);
      expect((await customerOf(t.call, PHONE)).bot).toBeNull();
    });
  });

  it.each([
    ['agents', 'assign-customer-to-agent', 'agent_id'],
    ['teams', 'assign-customer-to-team', 'team_id'],
  ] as const)('clears the assignment of customers when their %s entry is removed', async (table, endpoint, field) => {
    await addCustomer(t.call, PHONE);
    const [id] = await addAll(table, ['Leaving']);
    await t.call('POST', api(endpoint), { customer_phone: PHONE, [field]: id });
    expect((await customerOf(t.call, PHONE))[field]).toBe(id);
    await removeEntry(ctx.deps, table, id);
    expect((await customerOf(t.call, PHONE))[field]).toBeNull();
  });
});
