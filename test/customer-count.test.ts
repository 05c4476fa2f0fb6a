import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';
import { adjustCustomersCount, insertCustomer } from '../src/modules/customers/customers.repository.js';
import { addCustomer, api, expectError, newTenant, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';
import { STATUS_DELAY_MS, customerWrites } from './messaging.js';

// get-all-customers answers `total` and `pages` from the count each account keeps
// (accounts.customers_count), not from counting rows: every way a customer is created or deleted
// must move it, once, in the transaction that writes the row.

const PER_PAGE = 250;

describeEachDatabase('customer count', (kind) => {
  let ctx: TestContext;
  let t: Tenant;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
  afterEach(async () => {
    // The sandbox's delivery reports of a template sent in a test.
    await ctx.scheduler.advance(10 * STATUS_DELAY_MS);
  });

  async function rowsOf(accountId: string): Promise<number> {
    const row = await ctx.deps.database.db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** get-all-customers' total and pages are the account's rows, and there are `expected` of them. */
  async function expectTotal(tenant: Tenant, expected: number): Promise<void> {
    expect(await rowsOf(tenant.accountId)).toBe(expected);
    const body = (await tenant.call('GET', api('get-all-customers'))).json();
    const pages = Math.ceil(expected / PER_PAGE);
    expect({ total: body.total, pages: body.pages, total_pages: body.total_pages }).toEqual({ total: expected, pages, total_pages: pages });
  }

  /** Customers written as add-new-customer writes them (row and count, one transaction), without a request each. */
  async function insertCustomers(accountId: string, phones: string[]): Promise<void> {
    const at = ctx.clock.now().toISOString();
    await ctx.deps.database.db.transaction().execute(async (trx) => {
      for (const phone of phones) {
        const row = { id: newId(), account_id: accountId, phone, country: 'IL', conversation_status: 'new', created_at: at, updated_at: at };
        await insertCustomer(trx, { ...row, name: null, email: null, source: null, last_interaction_at: null, last_inbound_at: null, agent_id: null, team_id: null, bot: null, custom_fields: '{}', attribution: '{}' });
      }
      await adjustCustomersCount(trx, accountId, phones.length);
    });
  }

  /** `n` distinct valid phones starting with `prefix` (7 digits). */
  const phonesOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

  const add = (phone: string) => t.call('POST', api('add-new-customer'), { customer_phone: phone });
  const remove = (phone: string) => t.call('DELETE', api('delete-customer'), { customer_phone: phone });

  it('follows adds and deletes; a duplicate add, a refused add and a second delete change nothing', async () => {
    for (const phone of ['972501000001', '972501000002', '972501000003']) await addCustomer(t.call, phone);
    await expectTotal(t, 3);

    expectError(await add('972501000002'), 409, 'Customer already exists');
    expectError(await add('+972 50-100-0002'), 409, 'Customer already exists');
    expectError(await add('123'), 400, 'Failed to add customer due to invalid input');
    await expectTotal(t, 3);

    expect((await remove('972501000002')).statusCode).toBe(200);
    expectError(await remove('972501000002'), 404, 'Customer not found');
    await expectTotal(t, 2);

    await addCustomer(t.call, '972501000002');
    await expectTotal(t, 3);
  });

  it('is per account', async () => {
    const other = await newTenant(ctx);
    await addCustomer(t.call, '972501000001');
    await addCustomer(other.call, '972501000001');
    await addCustomer(other.call, '972501000002');
    await expectTotal(t, 1);
    await expectTotal(other, 2);
  });

  it('counts a customer created by an inbound message once, not again for the next messages', async () => {
    await customerWrites(t, '972501000001', 'Hello!', 'Dana');
    await customerWrites(t, '972501000001', 'Still there?');
    await addCustomer(t.call, '972501000002');
    await customerWrites(t, '972501000002', 'Hi, a customer already');
    await expectTotal(t, 2);
  });

  it('counts a customer created by a template sent to a new contact', async () => {
    const created = await t.call('POST', api('create-template'), {
      name: 'welcome_message',
      language: 'en_US',
      category: 'MARKETING',
      body: "Welcome to our store! We're glad to have you.",
    });
    const templateId = created.json().data.id;
    expect((await t.call('POST', api('sandbox/set-template-status'), { template_id: templateId, status: 'APPROVED' })).statusCode).toBe(200);
    const send = (phone: string) => t.call('POST', api('send-template'), { customer_phone: phone, template_id: templateId, name: 'Dana' });
    expect((await send('972501000001')).statusCode).toBe(200);
    expect((await send('972501000001')).statusCode).toBe(200);
    await expectTotal(t, 1);
  });

  it('moves pages across a page boundary with adds and deletes', async () => {
    await insertCustomers(t.accountId, phonesOf('9725090', PER_PAGE - 1));
    await expectTotal(t, PER_PAGE - 1);
    await addCustomer(t.call, '972501000001');
    await addCustomer(t.call, '972501000002');
    await expectTotal(t, PER_PAGE + 1);
    expect((await remove('972501000001')).statusCode).toBe(200);
    await expectTotal(t, PER_PAGE);
  });

  describe('under concurrent writes', () => {
    it('keeps the exact count: adds racing on the same phones count each customer once', async () => {
      const phones = Array.from({ length: 15 }, (_, i) => `97250300${String(i).padStart(4, '0')}`);
      // Each phone three times at once: one add wins, the others answer 409 and must not count.
      const responses = await Promise.all([...phones, ...phones, ...phones].map((phone) => add(phone)));
      const statuses = responses.map((response) => response.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(phones.length);
      expect(statuses.filter((status) => status === 409)).toHaveLength(2 * phones.length);
      await expectTotal(t, phones.length);
    });

    it('loses no increment of transactions that move it at once, without the account lock add-new-customer takes', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, n) => insertCustomers(t.accountId, phonesOf(`97251${String(n).padStart(2, '0')}`, 3))));
      await expectTotal(t, 60);
    });

    it('keeps the exact count: adds, deletes and first messages from new numbers at once', async () => {
      const existing = Array.from({ length: 10 }, (_, i) => `97250400${String(i).padStart(4, '0')}`);
      for (const phone of existing) await addCustomer(t.call, phone);
      const fresh = Array.from({ length: 10 }, (_, i) => `97250500${String(i).padStart(4, '0')}`);
      const writers = Array.from({ length: 10 }, (_, i) => `97250600${String(i).padStart(4, '0')}`);
      await Promise.all([
        ...existing.slice(0, 5).map((phone) => remove(phone)),
        ...fresh.map((phone) => add(phone)),
        // Two first messages from each new number at once: one creates the customer.
        ...writers.flatMap((phone) => [customerWrites(t, phone, 'one'), customerWrites(t, phone, 'two')]),
      ]);
      await expectTotal(t, existing.length - 5 + fresh.length + writers.length);
    });
  });
});
