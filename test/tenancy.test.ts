import { beforeEach, describe, expect, it } from 'vitest';
import { addCustomer, api, customerOf, expectError, expectSuccess, newTenant, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';

const PHONE = '972501234567';

/** What the owner's data is called, so the intruder can name it. */
interface OwnerIds {
  agent: string;
  team: string;
  bot: string;
}

/** [endpoint, status, message, method, params]. */
type Intrusion = [string, number, string, 'GET' | 'POST' | 'DELETE', (ids: OwnerIds) => Record<string, unknown>];

/** Requests by another account naming the owner's customer, labels, agents, teams and bots. */
const INTRUSIONS: Intrusion[] = [
  ['get-customer', 404, 'Customer not found', 'GET', () => ({ customer_phone: PHONE })],
  ['edit-customer', 404, 'Customer not found', 'POST', () => ({ customer_phone: PHONE, name: 'Hijacked', plan: 'free' })],
  ['delete-customer', 404, 'Customer not found', 'DELETE', () => ({ customer_phone: PHONE })],
  ['edit-customer-conv-status', 404, 'Customer not found', 'POST', () => ({ customer_phone: PHONE, status: 'spam' })],
  ['assign-customer-to-agent', 404, 'Customer not found', 'POST', ({ agent }) => ({ customer_phone: PHONE, agent_id: agent })],
  ['assign-customer-to-team', 404, 'Customer not found', 'POST', ({ team }) => ({ customer_phone: PHONE, team_id: team })],
  ['assign-bot', 404, 'Customer not found', 'POST', () => ({ customer_phone: PHONE, bot_token: 'turn_off' })],
  ['add-customer-to-label', 404, 'Customer not found', 'POST', () => ({ customer_phone: PHONE, label_name: 'Owner only' })],
  ['remove-customer-from-label', 404, 'Customer not found', 'DELETE', () => ({ customer_phone: PHONE, label_name: 'Owner only' })],
  ['delete-label', 404, 'Label not found', 'DELETE', () => ({ label_name: 'Owner only' })],
  ['add-new-customer', 404, 'Bot not found.', 'POST', ({ bot }) => ({ customer_phone: '972509999999', bot_token: bot })],
];

/** The same, once the intruder has a customer of its own with the owner's number. */
const INTRUSIONS_WITH_OWN_CUSTOMER: Intrusion[] = [
  ['assign-customer-to-agent', 404, 'Agent not found', 'POST', ({ agent }) => ({ customer_phone: PHONE, agent_id: agent })],
  ['assign-customer-to-team', 404, 'Team not found', 'POST', ({ team }) => ({ customer_phone: PHONE, team_id: team })],
  ['assign-bot', 404, 'Bot not found.', 'POST', ({ bot }) => ({ customer_phone: PHONE, bot_token: bot })],
  ['edit-customer', 404, 'Bot not found.', 'POST', ({ bot }) => ({ customer_phone: PHONE, bot_token: bot })],
  ['add-customer-to-label', 404, 'Label not found', 'POST', () => ({ customer_phone: PHONE, label_name: 'Owner only' })],
  ['remove-customer-from-label', 404, 'Label not found', 'DELETE', () => ({ customer_phone: PHONE, label_name: 'Owner only' })],
];

describeEachDatabase('tenant isolation', (kind) => {
  let ctx: TestContext;
  let owner: Tenant;
  let intruder: Tenant;
  let ids: OwnerIds;

  /** Everything the owner can see. */
  const ownerView = async () => {
    const read = async (endpoint: string, params?: Record<string, unknown>) => (await owner.call('GET', api(endpoint), params)).json();
    return {
      customer: await read('get-customer', { customer_phone: PHONE }),
      customers: await read('get-all-customers'),
      labels: await read('get-labels'),
      agents: await read('get-agents'),
      teams: await read('get-teams'),
      bots: await read('get-bots'),
    };
  };

  setUpApiSuite(kind, { context: (value) => (ctx = value) });
  beforeEach(async () => {
    owner = await newTenant(ctx);
    intruder = await newTenant(ctx);
    ids = { agent: await owner.add('agents', 'Owner agent'), team: await owner.add('teams', 'Owner team'), bot: await owner.add('bots', 'Owner bot') };
    await addCustomer(owner.call, PHONE, { name: 'Owner customer', plan: 'gold', utm_source: 'google', bot_token: ids.bot });
    for (const label of ['Owner only', 'Shared name']) {
      await owner.call('POST', api('add-new-label'), { label_name: label });
      await owner.call('POST', api('add-customer-to-label'), { customer_phone: PHONE, label_name: label });
    }
    await owner.call('POST', api('assign-customer-to-agent'), { customer_phone: PHONE, agent_id: ids.agent });
    await owner.call('POST', api('assign-customer-to-team'), { customer_phone: PHONE, team_id: ids.team });
  });

  it.each(INTRUSIONS)('%s by another account answers %i %s and changes nothing of the owner', async (endpoint, status, message, method, params) => {
    const before = await ownerView();
    expectError(await intruder.call(method, api(endpoint), params(ids)), status, message);
    expect(await ownerView()).toEqual(before);
  });

  describe('when the other account has a customer with the same number', () => {
    beforeEach(async () => {
      await addCustomer(intruder.call, PHONE, { name: 'Intruder customer' });
    });

    it.each(INTRUSIONS_WITH_OWN_CUSTOMER)("%s naming the owner's entries answers %i %s", async (endpoint, status, message, method, params) => {
      const before = await ownerView();
      expectError(await intruder.call(method, api(endpoint), params(ids)), status, message);
      expect(await ownerView()).toEqual(before);
      expect(await customerOf(intruder.call, PHONE)).toMatchObject({ agent_id: null, team_id: null, bot: null, labels: [] });
    });

    it('keeps the two customers apart: each account edits, labels and deletes only its own', async () => {
      const before = await ownerView();
      expect((await customerOf(intruder.call, PHONE)).id).not.toBe(before.customer.customer.id);
      await intruder.call('POST', api('edit-customer'), { customer_phone: PHONE, name: 'Renamed', plan: 'free' });
      await intruder.call('POST', api('edit-customer-conv-status'), { customer_phone: PHONE, status: 'spam' });
      expectSuccess(await intruder.call('POST', api('add-new-label'), { label_name: 'Shared name' }), {
        message: "Label 'Shared name' created successfully",
      });
      await intruder.call('POST', api('add-customer-to-label'), { customer_phone: PHONE, label_name: 'Shared name' });
      await intruder.call('POST', api('assign-bot'), { customer_phone: PHONE, bot_token: 'AI' });
      expect(await ownerView()).toEqual(before);

      await intruder.call('DELETE', api('delete-label'), { label_name: 'Shared name' });
      expectSuccess(await intruder.call('DELETE', api('delete-customer'), { customer_phone: PHONE }), { message: 'Customer deleted successfully' });
      expect(await ownerView()).toEqual(before);
    });
  });

  it("never lists the owner's customers, labels, agents, teams or flow bots", async () => {
    const list = async (endpoint: string) => (await intruder.call('GET', api(endpoint))).json();
    expect(await list('get-all-customers')).toMatchObject({ customers: [], total: 0 });
    expect(await list('get-labels')).toMatchObject({ labels: [], label_details: [] });
    expect(await list('get-all-labels')).toMatchObject({ labels: [] });
    expect(await list('get-agents')).toMatchObject({ agents: [] });
    expect(await list('get-teams')).toMatchObject({ teams: [] });
    expect(await list('get-all-teams')).toMatchObject({ teams: [] });
    expect((await list('get-bots')).bots).toEqual([{ id: 'AI', name: 'AI', type: 'ai' }]);
  });

  it('lets the other account add the same number, in its own records', async () => {
    expectSuccess(await intruder.call('POST', api('add-new-customer'), { customer_phone: PHONE, name: 'Theirs' }), { message: 'added successfully' });
    expect((await customerOf(intruder.call, PHONE)).name).toBe('Theirs');
    expect((await customerOf(owner.call, PHONE)).name).toBe('Owner customer');
  });

  it("does not count the owner's custom field names against the other account", async () => {
    await owner.call('POST', api('edit-customer'), { customer_phone: PHONE, ...Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`o${i}`, 1])) });
    await addCustomer(intruder.call, PHONE);
    const fifteen = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`i${i}`, 1]));
    expect((await intruder.call('POST', api('edit-customer'), { customer_phone: PHONE, ...fifteen })).statusCode).toBe(200);
  });
});
