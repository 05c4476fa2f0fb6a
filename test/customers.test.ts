import { beforeEach, describe, expect, it } from 'vitest';
import { ATTRIBUTION_FIELDS, CONVERSATION_STATUSES } from '../src/modules/customers/customers.schema.js';
import { addCustomer, api, customerOf, expectError, expectSuccess, newTenant, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';

const PHONE_REQUIRED = 'Phone number is required.';
const ADD_INVALID = 'Failed to add customer due to invalid input';
const EDIT_INVALID = 'Failed to update customer due to invalid input';
const TOO_MANY_FIELDS = 'Cannot add more than 15 custom fields per account';
const PHONE = '972501234567';

/** The record's fields: the reference's, then ours (CONTRACT.md, Customers). */
const RECORD_FIELDS = [
  'id', 'name', 'phone', 'email', 'country', 'conversation_status', 'last_interaction',
  'source', 'custom_fields', 'attribution', 'labels', 'agent_id', 'team_id', 'bot', 'created_at',
];

/** Values that carry no phone at all: the contract's "required" error. */
const NO_PHONE: Array<[string, Record<string, unknown>]> = [
  ['missing', {}],
  ['empty', { customer_phone: '' }],
  ['null', { customer_phone: null }],
  ['only non-digits', { customer_phone: '+() - abc' }],
];

/** `n` custom field names: f1 … fn. */
const fieldNames = (n: number, prefix = 'f') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const customFields = (names: string[], value: unknown = 'x') => Object.fromEntries(names.map((name) => [name, value]));

describeEachDatabase('customers', (kind) => {
  let ctx: TestContext;
  let t: Tenant;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });

  const edit = (fields: Record<string, unknown>) => t.call('POST', api('edit-customer'), { customer_phone: PHONE, ...fields });

  describe('add-new-customer', () => {
    it('creates the customer with its fields, a derived country and the defaults', async () => {
      const response = await t.call('POST', api('add-new-customer'), {
        customer_phone: PHONE,
        name: 'John Doe',
        email: 'john@example.com',
        source: 'web',
      });
      expectSuccess(response, { message: 'added successfully' });
      const customer = await customerOf(t.call, PHONE);
      expect(customer).toMatchObject({
        name: 'John Doe',
        phone: PHONE,
        email: 'john@example.com',
        source: 'web',
        country: 'IL',
        conversation_status: 'new',
        last_interaction: null,
        custom_fields: {},
        attribution: {},
        labels: [],
        agent_id: null,
        team_id: null,
        bot: null,
      });
    });

    it('normalizes the phone: non-digits stripped, a leading 00 dropped, a JSON number accepted', async () => {
      await addCustomer(t.call, '+972 (50) 123-4567');
      await addCustomer(t.call, '0014155550123');
      await addCustomer(t.call, 442079460000);
      expect((await customerOf(t.call, PHONE)).phone).toBe(PHONE);
      expect((await customerOf(t.call, '14155550123')).phone).toBe('14155550123');
      expect((await customerOf(t.call, '442079460000')).phone).toBe('442079460000');
    });

    it.each([
      ['972501234567', 'IL'],
      ['14155550123', 'US'],
      ['442079460000', 'GB'],
      ['4915123456789', 'DE'],
      ['61412345678', 'AU'],
      ['9991234567', null],
    ])('derives the country of %s as %s', async (phone, country) => {
      await addCustomer(t.call, phone);
      expect((await customerOf(t.call, phone)).country).toBe(country);
    });

    it.each(NO_PHONE)('refuses a phone that is %s: %o', async (_case, params) => {
      expectError(await t.call('POST', api('add-new-customer'), { name: 'A', ...params }), 400, PHONE_REQUIRED);
    });

    it.each([
      ['too short (6 digits)', '123456'],
      ['"123"', '123'],
      ['starting with 0', '0501234567'],
      ['16 digits', '1234567890123456'],
      ['00 then 0', '000501234567'],
    ])('refuses a phone %s as invalid input and creates nothing', async (_case, phone) => {
      expectError(await t.call('POST', api('add-new-customer'), { customer_phone: phone }), 400, ADD_INVALID);
      expect((await t.call('GET', api('get-all-customers'))).json().total).toBe(0);
    });

    it.each([['7 digits', '1234567'], ['15 digits', '123456789012345']])('accepts a phone of %s', async (_case, phone) => {
      expectSuccess(await t.call('POST', api('add-new-customer'), { customer_phone: phone }), { message: 'added successfully' });
    });

    it.each<[string, Record<string, unknown>]>([
      ['an array phone', { customer_phone: [PHONE] }],
      ['an object phone', { customer_phone: { number: PHONE } }],
      ['a boolean phone', { customer_phone: true }],
      ['a number name', { name: 5 }],
      ['an array name', { name: ['John'] }],
      ['an object source', { source: { a: 1 } }],
      ['an invalid email', { email: 'not-an-email' }],
      ['a number email', { email: 42 }],
      ['an array attribution value', { utm_source: ['google'] }],
      ['an object bot_token', { bot_token: { id: 'AI' } }],
      ['a name over 256 characters', { name: 'n'.repeat(257) }],
    ])('refuses %s with the invalid-input message and creates nothing', async (_case, fields) => {
      expectError(await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, ...fields }), 400, ADD_INVALID);
      expectError(await t.call('GET', api('get-customer'), { customer_phone: PHONE }), 404, 'Customer not found');
    });

    it.each([PHONE, '+972-50-123-4567', '00972501234567', '972 50 123 4567'])(
      'answers 409 for a number that already exists, written as %s',
      async (written) => {
        await addCustomer(t.call, PHONE, { name: 'First' });
        expectError(await t.call('POST', api('add-new-customer'), { customer_phone: written, name: 'Second' }), 409, 'Customer already exists');
        expect((await customerOf(t.call, PHONE)).name).toBe('First');
      },
    );

    it('answers 404 "Bot not found." for an unknown bot_token and creates nothing', async () => {
      expectError(await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, bot_token: 'no-such-bot' }), 404, 'Bot not found.');
      expectError(await t.call('GET', api('get-customer'), { customer_phone: PHONE }), 404, 'Customer not found');
    });

    it('assigns the bot named by bot_token: AI, a flow bot of the account, or none for turn_off', async () => {
      const flowBot = await t.add('bots', 'Welcome flow');
      await addCustomer(t.call, '972501111111', { bot_token: 'AI' });
      await addCustomer(t.call, '972501111112', { bot_token: flowBot });
      await addCustomer(t.call, '972501111113', { bot_token: 'turn_off' });
      expect((await customerOf(t.call, '972501111111')).bot).toBe('AI');
      expect((await customerOf(t.call, '972501111112')).bot).toBe(flowBot);
      expect((await customerOf(t.call, '972501111113')).bot).toBeNull();
    });

    it('keeps all 33 attribution fields, JSON numbers as text', async () => {
      const attribution = Object.fromEntries(ATTRIBUTION_FIELDS.map((field) => [field, `${field}-value`]));
      expect(Object.keys(attribution)).toHaveLength(33);
      await addCustomer(t.call, PHONE, { ...attribution, campaign_id: 12345 });
      const customer = await customerOf(t.call, PHONE);
      expect(customer.attribution).toEqual({ ...attribution, campaign_id: '12345' });
      expect(customer.custom_fields).toEqual({});
    });

    it('stores custom fields of any JSON scalar type', async () => {
      const response = await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, company_size: '50-100', lead_score: 85, vip: true });
      expectSuccess(response, { message: 'added successfully' });
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({ company_size: '50-100', lead_score: 85, vip: true });
    });

    it('creates the customer with the first 15 custom field names and lists the rest in custom_fields_skipped', async () => {
      const names = fieldNames(20);
      const response = await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, name: 'Many', ...customFields(names) });
      expectSuccess(response, { message: 'added successfully', custom_fields_skipped: names.slice(15) });
      const customer = await customerOf(t.call, PHONE);
      expect(customer.name).toBe('Many');
      expect(customer.custom_fields).toEqual(customFields(names.slice(0, 15)));
    });

    it("counts the account's names already in use: reusing them is free, new ones past 15 are skipped", async () => {
      await addCustomer(t.call, '972501111111', customFields(fieldNames(14)));
      const response = await t.call('POST', api('add-new-customer'), {
        customer_phone: PHONE,
        f1: 'again',
        extra1: 'fits',
        extra2: 'skipped',
      });
      expectSuccess(response, { message: 'added successfully', custom_fields_skipped: ['extra2'] });
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({ f1: 'again', extra1: 'fits' });
    });

    it('skips custom fields with a malformed name or a non-scalar value, and still creates the customer', async () => {
      const response = await t.call('POST', api('add-new-customer'), {
        customer_phone: PHONE,
        good: 1,
        '1starts_with_digit': 'x',
        'has-dash': 'x',
        ['n'.repeat(65)]: 'x',
        nested: { a: 1 },
        list: [1, 2],
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().custom_fields_skipped.sort()).toEqual(['1starts_with_digit', 'has-dash', 'n'.repeat(65), 'nested', 'list'].sort());
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({ good: 1 });
    });

    it('skips and lists custom fields named like object internals: `__proto__`, `constructor`, `prototype`', async () => {
      // Parsed from JSON, as a request body is: an object literal's `__proto__` would set its prototype.
      const internals = JSON.parse('{"__proto__":"x","constructor":"x","prototype":"x"}');
      const response = await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, good: 1, ...internals });
      expect(response.statusCode).toBe(200);
      expect(response.json().custom_fields_skipped.sort()).toEqual(['__proto__', 'constructor', 'prototype']);
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({ good: 1 });
    });

    it('omits custom_fields_skipped when nothing was skipped', async () => {
      const response = await t.call('POST', api('add-new-customer'), { customer_phone: PHONE, plan: 'gold' });
      expect(response.json()).not.toHaveProperty('custom_fields_skipped');
    });
  });

  describe('edit-customer', () => {
    beforeEach(async () => {
      await addCustomer(t.call, PHONE, { name: 'John', email: 'john@example.com', source: 'web', utm_source: 'google', plan: 'gold' });
    });

    it('changes the fields sent and leaves every other field unchanged', async () => {
      const before = await customerOf(t.call, PHONE);
      expectSuccess(await edit({ name: 'Jane' }), { message: 'Customer updated successfully', custom_fields_processed: [] });
      expect(await customerOf(t.call, PHONE)).toEqual({ ...before, name: 'Jane' });
    });

    it('sets email, source and attribution; null removes an attribution field', async () => {
      expectSuccess(await edit({ email: 'jane@example.com', source: 'ads', utm_source: null, utm_medium: 'cpc' }), {
        message: 'Customer updated successfully',
        custom_fields_processed: [],
      });
      expect(await customerOf(t.call, PHONE)).toMatchObject({ email: 'jane@example.com', source: 'ads', attribution: { utm_medium: 'cpc' } });
    });

    it.each([['an empty string', ''], ['null', null]])('clears the email given %s', async (_case, email) => {
      await edit({ email });
      expect((await customerOf(t.call, PHONE)).email).toBeNull();
    });

    it('finds the customer however the phone is written', async () => {
      expectSuccess(await t.call('POST', api('edit-customer'), { customer_phone: '+972 50-123-4567', name: 'Formatted' }), {
        message: 'Customer updated successfully',
        custom_fields_processed: [],
      });
      expect((await customerOf(t.call, PHONE)).name).toBe('Formatted');
    });

    it('processes custom fields and lists them in custom_fields_processed', async () => {
      const response = await edit({ company_size: '50-100', lead_score: '85' });
      expectSuccess(response, { message: 'Customer updated successfully', custom_fields_processed: ['company_size', 'lead_score'] });
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({ plan: 'gold', company_size: '50-100', lead_score: '85' });
    });

    it('removes a custom field given null', async () => {
      expectSuccess(await edit({ plan: null }), { message: 'Customer updated successfully', custom_fields_processed: ['plan'] });
      expect((await customerOf(t.call, PHONE)).custom_fields).toEqual({});
    });

    it.each<[string, Record<string, unknown>]>([
      ['an invalid email', { email: 'jane-at-example' }],
      ['a number name', { name: 7 }],
      ['an array phone', { customer_phone: [PHONE] }],
      ['an object custom field value', { profile: { age: 30 } }],
      ['an array custom field value', { tags: ['a'] }],
      ['a custom field name with a dash', { 'lead-score': 1 }],
      ['a `constructor` custom field', { constructor: 'x' }],
      ['a `__proto__` custom field', JSON.parse('{"__proto__":"x"}')],
    ])('refuses %s with the invalid-input message and applies nothing', async (_case, fields) => {
      const before = await customerOf(t.call, PHONE);
      expectError(await edit({ name: 'Changed', ok_field: 'x', ...fields }), 400, EDIT_INVALID);
      expect(await customerOf(t.call, PHONE)).toEqual(before);
    });

    it('answers 404 for a customer that does not exist, a valid or an invalid number', async () => {
      expectError(await t.call('POST', api('edit-customer'), { customer_phone: '972509999999', name: 'X' }), 404, 'Customer not found');
      expectError(await t.call('POST', api('edit-customer'), { customer_phone: '123', name: 'X' }), 404, 'Customer not found');
    });

    it('assigns a bot through bot_token and answers "Bot not found." for an unknown one', async () => {
      await edit({ bot_token: 'AI' });
      expect((await customerOf(t.call, PHONE)).bot).toBe('AI');
      expectError(await edit({ bot_token: 'nope', name: 'Unchanged?' }), 404, 'Bot not found.');
      expect(await customerOf(t.call, PHONE)).toMatchObject({ bot: 'AI', name: 'John' });
    });

    describe('the 15 custom field names per account', () => {
      it('refuses a request that would add a 16th name, whole: nothing of it is applied', async () => {
        await edit(customFields(fieldNames(14))); // plan + f1…f14 = 15 names
        const before = await customerOf(t.call, PHONE);
        expectError(await edit({ name: 'Changed', f1: 'changed', f15: 'new' }), 400, TOO_MANY_FIELDS);
        expect(await customerOf(t.call, PHONE)).toEqual(before);
      });

      it('lets a request set up to 15 names at once, and refuses 16 at once', async () => {
        expectError(await edit(customFields(fieldNames(15))), 400, TOO_MANY_FIELDS); // plus plan = 16
        expectSuccess(await edit(customFields(fieldNames(14))), {
          message: 'Customer updated successfully',
          custom_fields_processed: fieldNames(14),
        });
      });

      it("counts names over all the account's customers, and reusing a name costs nothing", async () => {
        await addCustomer(t.call, '972501111111', customFields(fieldNames(10, 'a')));
        await addCustomer(t.call, '972501111112', customFields(fieldNames(4, 'b'))); // 1 + 10 + 4 = 15 names
        expectError(await edit({ c1: 'x' }), 400, TOO_MANY_FIELDS);
        expectSuccess(await edit({ a1: 'x', b4: 'y' }), { message: 'Customer updated successfully', custom_fields_processed: ['a1', 'b4'] });
      });

      it('frees a name when its last holder removes it with null', async () => {
        await edit(customFields(fieldNames(14)));
        await addCustomer(t.call, '972501111111', { f1: 'shared' });
        await edit({ f1: null });
        expectError(await edit({ fresh: 'x' }), 400, TOO_MANY_FIELDS); // f1 is still held by the other customer
        await t.call('POST', api('edit-customer'), { customer_phone: '972501111111', f1: null });
        expectSuccess(await edit({ fresh: 'x' }), { message: 'Customer updated successfully', custom_fields_processed: ['fresh'] });
      });

      it('frees the names of a deleted customer', async () => {
        await addCustomer(t.call, '972501111111', customFields(fieldNames(14)));
        expectError(await edit({ fresh: 'x' }), 400, TOO_MANY_FIELDS);
        await t.call('DELETE', api('delete-customer'), { customer_phone: '972501111111' });
        expectSuccess(await edit({ fresh: 'x' }), { message: 'Customer updated successfully', custom_fields_processed: ['fresh'] });
      });

      it('is per account: another account has its own 15', async () => {
        await edit(customFields(fieldNames(14)));
        const other = await newTenant(ctx);
        await addCustomer(other.call, PHONE);
        const response = await other.call('POST', api('edit-customer'), { customer_phone: PHONE, ...customFields(fieldNames(15, 'z')) });
        expectSuccess(response, { message: 'Customer updated successfully', custom_fields_processed: fieldNames(15, 'z') });
      });
    });
  });

  describe('delete-customer', () => {
    it('deletes the customer: it is not found afterwards, a second delete is 404, and the number can be added again', async () => {
      await addCustomer(t.call, PHONE);
      expectSuccess(await t.call('DELETE', api('delete-customer'), { customer_phone: PHONE }), { message: 'Customer deleted successfully' });
      expectError(await t.call('GET', api('get-customer'), { customer_phone: PHONE }), 404, 'Customer not found');
      expectError(await t.call('DELETE', api('delete-customer'), { customer_phone: PHONE }), 404, 'Customer not found');
      await addCustomer(t.call, PHONE);
    });

    it('takes the customer out of its labels', async () => {
      await addCustomer(t.call, PHONE);
      await t.call('POST', api('add-new-label'), { label_name: 'VIP' });
      await t.call('POST', api('add-customer-to-label'), { customer_phone: PHONE, label_name: 'VIP' });
      await t.call('DELETE', api('delete-customer'), { customer_phone: PHONE });
      expect((await t.call('GET', api('get-labels'))).json().label_details).toEqual([expect.objectContaining({ name: 'VIP', customers_count: 0 })]);
    });

    it('answers 404 for an invalid number', async () => {
      expectError(await t.call('DELETE', api('delete-customer'), { customer_phone: '123' }), 404, 'Customer not found');
    });
  });

  describe('get-customer', () => {
    it('returns the record with exactly the contract fields', async () => {
      const agent = await t.add('agents', 'Alice');
      const team = await t.add('teams', 'Sales');
      await addCustomer(t.call, PHONE, { name: 'John Doe', email: 'john@example.com', source: 'web', bot_token: 'AI', utm_campaign: 'summer', lead_score: 85 });
      await t.call('POST', api('add-new-label'), { label_name: 'VIP' });
      await t.call('POST', api('add-customer-to-label'), { customer_phone: PHONE, label_name: 'VIP' });
      await t.call('POST', api('assign-customer-to-agent'), { customer_phone: PHONE, agent_id: agent });
      await t.call('POST', api('assign-customer-to-team'), { customer_phone: PHONE, team_id: team });

      const customer = await customerOf(t.call, PHONE);
      expect(Object.keys(customer).sort()).toEqual([...RECORD_FIELDS].sort());
      expect(customer).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        name: 'John Doe',
        phone: PHONE,
        email: 'john@example.com',
        country: 'IL',
        conversation_status: 'new',
        last_interaction: null,
        source: 'web',
        custom_fields: { lead_score: 85 },
        attribution: { utm_campaign: 'summer' },
        labels: ['VIP'],
        agent_id: agent,
        team_id: team,
        bot: 'AI',
        created_at: '2026-06-01T12:00:00',
      });
    });

    it('formats created_at and last_interaction as UTC YYYY-MM-DDTHH:MM:SS', async () => {
      ctx.clock.set('2026-07-04T09:08:07.654Z');
      await addCustomer(t.call, PHONE);
      await ctx.deps.database.db
        .updateTable('customers')
        .set({ last_interaction_at: '2026-07-05T23:59:58.999Z' })
        .where('account_id', '=', t.accountId)
        .execute();
      const customer = await customerOf(t.call, PHONE);
      expect(customer.created_at).toBe('2026-07-04T09:08:07');
      expect(customer.last_interaction).toBe('2026-07-05T23:59:58');
    });

    it('reads the phone from the query string too', async () => {
      await addCustomer(t.call, PHONE);
      const response = await t.call('GET', `${api('get-customer')}?customer_phone=%2B972-50-123-4567`);
      expect(response.json().customer.phone).toBe(PHONE);
    });

    it.each([['972509999999'], ['123']])('answers 404 "Customer not found" for %s', async (phone) => {
      expectError(await t.call('GET', api('get-customer'), { customer_phone: phone }), 404, 'Customer not found');
    });
  });

  describe('get-all-customers', () => {
    const list = (params?: Record<string, unknown>) => t.call('GET', api('get-all-customers'), params);

    it('answers an empty account with no customers and no pages', async () => {
      expectSuccess(await list(), { customers: [], total: 0, pages: 0, current_page: 1, per_page: 250, total_pages: 0 });
    });

    it('lists full records, oldest first', async () => {
      for (const [i, phone] of ['972501111113', '972501111111', '972501111112'].entries()) {
        ctx.clock.advance(1000);
        await addCustomer(t.call, phone, { name: `c${i}` });
      }
      const body = (await list()).json();
      expect(body).toMatchObject({ success: true, total: 3, pages: 1, current_page: 1, per_page: 250, total_pages: 1 });
      expect(body.customers.map((c: { name: string }) => c.name)).toEqual(['c0', 'c1', 'c2']);
      expect(body.customers[0]).toEqual(await customerOf(t.call, '972501111113'));
    });

    it.each<[string, unknown]>([
      ['a number', 2],
      ['a string', '2'],
    ])('takes the page as %s: a page past the end is empty', async (_case, page) => {
      await addCustomer(t.call, PHONE);
      expectSuccess(await list({ page }), { customers: [], total: 1, pages: 1, current_page: 2, per_page: 250, total_pages: 1 });
      const fromQuery = await t.call('GET', `${api('get-all-customers')}?page=1`);
      expect(fromQuery.json()).toMatchObject({ total: 1, current_page: 1, customers: [expect.objectContaining({ phone: PHONE })] });
    });

    it.each<[string, unknown]>([
      ['0', 0],
      ['-1', -1],
      ['1.5', 1.5],
      ['"abc"', 'abc'],
      ['"0"', '0'],
      ['"-1"', '-1'],
      ['"1.5"', '1.5'],
      ['an array', [1]],
      ['an object', { n: 1 }],
      ['a boolean', true],
    ])('answers 400 "Invalid page" for page %s', async (_case, page) => {
      expectError(await list({ page }), 400, 'Invalid page');
    });

    it.each([['0'], ['abc'], ['1.5'], ['-1']])('answers 400 "Invalid page" for page=%s in the query string', async (page) => {
      expectError(await t.call('GET', `${api('get-all-customers')}?page=${page}`), 400, 'Invalid page');
    });
  });

  describe('edit-customer-conv-status', () => {
    const setStatus = (params: Record<string, unknown>) => t.call('POST', api('edit-customer-conv-status'), params);

    it('lists exactly the 18 statuses of the reference', () => {
      expect(CONVERSATION_STATUSES).toHaveLength(18);
    });

    it.each(CONVERSATION_STATUSES)('accepts the status %s', async (status) => {
      await addCustomer(t.call, PHONE);
      expectSuccess(await setStatus({ customer_phone: PHONE, status }), { message: 'Customer conversation status updated successfully' });
      expect((await customerOf(t.call, PHONE)).conversation_status).toBe(status);
    });

    it.each<[string, unknown]>([
      ['unknown', 'archived'],
      ['a display string', 'In Progress'],
      ['upper case', 'OPEN'],
      ['padded', ' open '],
      ['empty', ''],
      ['missing', undefined],
      ['a number', 1],
      ['an array', ['open']],
    ])('refuses a status that is %s', async (_case, status) => {
      await addCustomer(t.call, PHONE);
      expectError(await setStatus({ customer_phone: PHONE, status }), 400, 'Invalid conversation status.');
      expect((await customerOf(t.call, PHONE)).conversation_status).toBe('new');
    });

    it('answers 404 for an unknown customer', async () => {
      expectError(await setStatus({ customer_phone: '972509999999', status: 'open' }), 404, 'Customer not found');
    });
  });

  describe.each([
    { endpoint: 'assign-customer-to-agent', idField: 'agent_id', table: 'agents', required: 'Agent ID is required.', notFound: 'Agent not found', message: 'Customer assigned to agent successfully' },
    { endpoint: 'assign-customer-to-team', idField: 'team_id', table: 'teams', required: 'Team ID is required.', notFound: 'Team not found', message: 'Customer assigned to team successfully' },
  ] as const)('$endpoint', ({ endpoint, idField, table, required, notFound, message }) => {
    const assign = (params: Record<string, unknown>) => t.call('POST', api(endpoint), params);

    it('assigns the customer, and a later call reassigns', async () => {
      const first = await t.add(table, 'First');
      const second = await t.add(table, 'Second');
      await addCustomer(t.call, PHONE);
      expectSuccess(await assign({ customer_phone: PHONE, [idField]: first }), { message });
      expect((await customerOf(t.call, PHONE))[idField]).toBe(first);
      expectSuccess(await assign({ customer_phone: PHONE, [idField]: second }), { message });
      expect((await customerOf(t.call, PHONE))[idField]).toBe(second);
    });

    it.each<[string, unknown]>([
      ['missing', undefined],
      ['empty', ''],
      ['blank', '   '],
      ['null', null],
      ['an array', ['x']],
      ['an object', { id: 'x' }],
    ])(`answers 400 "${required}" when the id is %s`, async (_case, id) => {
      await addCustomer(t.call, PHONE);
      expectError(await assign({ customer_phone: PHONE, [idField]: id }), 400, required);
    });

    it(`answers 404 "${notFound}" for an unknown id and for another account's id`, async () => {
      await addCustomer(t.call, PHONE);
      const other = await newTenant(ctx);
      const othersId = await other.add(table, 'Theirs');
      expectError(await assign({ customer_phone: PHONE, [idField]: 'no-such-id' }), 404, notFound);
      expectError(await assign({ customer_phone: PHONE, [idField]: othersId }), 404, notFound);
      expect((await customerOf(t.call, PHONE))[idField]).toBeNull();
    });

    it('answers 404 "Customer not found" for an unknown customer', async () => {
      const id = await t.add(table, 'Mine');
      expectError(await assign({ customer_phone: '972509999999', [idField]: id }), 404, 'Customer not found');
    });

    it('checks the phone before the id', async () => {
      expectError(await assign({}), 400, PHONE_REQUIRED);
    });
  });

  /** Every customer endpoint that takes a phone answers the contract's "required" error for no phone. */
  describe.each([
    ['POST', 'edit-customer', { name: 'x' }],
    ['DELETE', 'delete-customer', {}],
    ['GET', 'get-customer', {}],
    ['POST', 'edit-customer-conv-status', { status: 'open' }],
    ['POST', 'assign-customer-to-agent', { agent_id: 'a' }],
    ['POST', 'assign-customer-to-team', { team_id: 't' }],
  ] as const)('%s %s without a phone', (method, endpoint, rest) => {
    it.each([...NO_PHONE, ['an array', { customer_phone: ['x'] }], ['an object', { customer_phone: {} }]] as Array<[string, Record<string, unknown>]>)(
      'answers the phone error when the phone is %s',
      async (caseName, params) => {
        const expected = endpoint === 'edit-customer' && ['an array', 'an object'].includes(caseName) ? EDIT_INVALID : PHONE_REQUIRED;
        expectError(await t.call(method, api(endpoint), { ...rest, ...params }), 400, expected);
      },
    );
  });
});
