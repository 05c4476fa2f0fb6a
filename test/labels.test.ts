import { beforeEach, describe, expect, it } from 'vitest';
import { addCustomer, api, customerOf, expectError, expectSuccess, newTenant, setUpApiSuite, type Tenant } from './api.js';
import { describeEachDatabase, type TestContext } from './helpers.js';

const PHONE_REQUIRED = 'Phone number is required.';
const LABEL_REQUIRED = 'Label name is required.';
const PHONE = '972501234567';

/** Label names that name nothing: the contract's "required" error. */
const NO_LABEL: Array<[string, unknown]> = [
  ['missing', undefined],
  ['empty', ''],
  ['blank', '   '],
  ['null', null],
  ['a number', 42],
  ['an array', ['VIP']],
];

describeEachDatabase('labels', (kind) => {
  let ctx: TestContext;
  let t: Tenant;

  setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });

  /** Each label a second after the previous one: lists are in creation order. */
  const createLabel = (label_name: unknown) => {
    ctx.clock.advance(1000);
    return t.call('POST', api('add-new-label'), { label_name });
  };
  const deleteLabel = (label_name: unknown) => t.call('DELETE', api('delete-label'), { label_name });
  const tag = (params: Record<string, unknown>) => t.call('POST', api('add-customer-to-label'), params);
  const untag = (params: Record<string, unknown>) => t.call('DELETE', api('remove-customer-from-label'), params);
  const labels = async () => (await t.call('GET', api('get-labels'))).json();

  describe('add-new-label', () => {
    it('creates a label and names it in the message', async () => {
      expectSuccess(await createLabel('VIP customers'), { message: "Label 'VIP customers' created successfully" });
      expect((await labels()).labels).toEqual(['VIP customers']);
    });

    it('trims the name', async () => {
      expectSuccess(await createLabel('  VIP  '), { message: "Label 'VIP' created successfully" });
      expect((await labels()).labels).toEqual(['VIP']);
      expectError(await createLabel('VIP '), 409, 'Label already exists');
    });

    it('keeps names unique per account and case-sensitive', async () => {
      await createLabel('VIP');
      expectError(await createLabel('VIP'), 409, 'Label already exists');
      expectSuccess(await createLabel('vip'), { message: "Label 'vip' created successfully" });
      expect((await labels()).labels).toEqual(['VIP', 'vip']);
      const other = await newTenant(ctx);
      expectSuccess(await other.call('POST', api('add-new-label'), { label_name: 'VIP' }), { message: "Label 'VIP' created successfully" });
    });

    it('keeps unicode names as sent', async () => {
      expectSuccess(await createLabel('לקוחות 🔥 VIP'), { message: "Label 'לקוחות 🔥 VIP' created successfully" });
      expect((await labels()).labels).toEqual(['לקוחות 🔥 VIP']);
    });

    it.each(NO_LABEL)('answers 400 "Label name is required." when the name is %s', async (_case, name) => {
      expectError(await createLabel(name), 400, LABEL_REQUIRED);
      expect((await labels()).labels).toEqual([]);
    });
  });

  describe('delete-label', () => {
    it('deletes the label (name trimmed) and names it in the message', async () => {
      await createLabel('VIP');
      expectSuccess(await deleteLabel(' VIP '), { message: "Label 'VIP' deleted successfully" });
      expect((await labels()).labels).toEqual([]);
      expectError(await deleteLabel('VIP'), 404, 'Label not found');
    });

    it('removes the label from its customers', async () => {
      await addCustomer(t.call, PHONE);
      await createLabel('VIP');
      await createLabel('Lead');
      await tag({ customer_phone: PHONE, label_name: 'VIP' });
      await tag({ customer_phone: PHONE, label_name: 'Lead' });
      await deleteLabel('VIP');
      expect((await customerOf(t.call, PHONE)).labels).toEqual(['Lead']);
      await createLabel('VIP');
      expect((await labels()).label_details).toEqual([
        expect.objectContaining({ name: 'Lead', customers_count: 1 }),
        expect.objectContaining({ name: 'VIP', customers_count: 0 }),
      ]);
    });

    it('is case-sensitive: another case is not found', async () => {
      await createLabel('VIP');
      expectError(await deleteLabel('vip'), 404, 'Label not found');
    });

    it.each(NO_LABEL)('answers 400 "Label name is required." when the name is %s', async (_case, name) => {
      expectError(await deleteLabel(name), 400, LABEL_REQUIRED);
    });
  });

  describe('add-customer-to-label', () => {
    beforeEach(async () => {
      await addCustomer(t.call, PHONE);
      await createLabel('VIP');
    });

    it('tags the customer, idempotently', async () => {
      expectSuccess(await tag({ customer_phone: PHONE, label_name: 'VIP' }), { message: 'added successfully' });
      expectSuccess(await tag({ customer_phone: '+972 50-123-4567', label_name: ' VIP ' }), { message: 'added successfully' });
      expect((await customerOf(t.call, PHONE)).labels).toEqual(['VIP']);
      expect((await labels()).label_details).toEqual([expect.objectContaining({ name: 'VIP', customers_count: 1 })]);
    });

    it('answers 404 for an unknown customer or label', async () => {
      expectError(await tag({ customer_phone: '972509999999', label_name: 'VIP' }), 404, 'Customer not found');
      expectError(await tag({ customer_phone: PHONE, label_name: 'vip' }), 404, 'Label not found');
    });
  });

  describe('remove-customer-from-label', () => {
    beforeEach(async () => {
      await addCustomer(t.call, PHONE);
      await createLabel('VIP');
    });

    it('removes the tag', async () => {
      await tag({ customer_phone: PHONE, label_name: 'VIP' });
      expectSuccess(await untag({ customer_phone: PHONE, label_name: 'VIP' }), { message: 'removed successfully' });
      expect((await customerOf(t.call, PHONE)).labels).toEqual([]);
      expectError(await untag({ customer_phone: PHONE, label_name: 'VIP' }), 400, 'Customer is not in the label');
    });

    it('answers 400 "Customer is not in the label" for an untagged customer', async () => {
      expectError(await untag({ customer_phone: PHONE, label_name: 'VIP' }), 400, 'Customer is not in the label');
    });

    it('answers 404 for an unknown customer or label', async () => {
      expectError(await untag({ customer_phone: '972509999999', label_name: 'VIP' }), 404, 'Customer not found');
      expectError(await untag({ customer_phone: PHONE, label_name: 'Nope' }), 404, 'Label not found');
    });
  });

  /** Both membership endpoints: the phone and the label name are required, the phone checked first. */
  describe.each([
    ['POST', 'add-customer-to-label'],
    ['DELETE', 'remove-customer-from-label'],
  ] as const)('%s %s without its parameters', (method, endpoint) => {
    it.each<[string, unknown]>([
      ['missing', undefined],
      ['empty', ''],
      ['only non-digits', '+( )-'],
      ['an array', [PHONE]],
      ['an object', { phone: PHONE }],
    ])('answers 400 "Phone number is required." when the phone is %s', async (_case, phone) => {
      expectError(await t.call(method, api(endpoint), { customer_phone: phone, label_name: 'VIP' }), 400, PHONE_REQUIRED);
    });

    it.each(NO_LABEL)('answers 400 "Label name is required." when the name is %s', async (_case, name) => {
      await addCustomer(t.call, PHONE);
      expectError(await t.call(method, api(endpoint), { customer_phone: PHONE, label_name: name }), 400, LABEL_REQUIRED);
    });

    it('checks the phone first when both are missing', async () => {
      expectError(await t.call(method, api(endpoint), {}), 400, PHONE_REQUIRED);
    });
  });

  describe('get-labels', () => {
    it('answers an account without labels with empty lists', async () => {
      expectSuccess(await t.call('GET', api('get-labels')), { labels: [], label_details: [] });
    });

    it('lists names in creation order, and details with ids and customer counts', async () => {
      for (const phone of ['972501111111', '972501111112', '972501111113']) await addCustomer(t.call, phone);
      for (const name of ['Zeta', 'Alpha', 'Mid']) await createLabel(name);
      for (const phone of ['972501111111', '972501111112']) await tag({ customer_phone: phone, label_name: 'Alpha' });
      await tag({ customer_phone: '972501111113', label_name: 'Zeta' });

      const body = await labels();
      expect(body).toEqual({
        success: true,
        labels: ['Zeta', 'Alpha', 'Mid'],
        label_details: [
          { id: expect.any(String), name: 'Zeta', customers_count: 1 },
          { id: expect.any(String), name: 'Alpha', customers_count: 2 },
          { id: expect.any(String), name: 'Mid', customers_count: 0 },
        ],
      });
      expect(new Set(body.label_details.map((label: { id: string }) => label.id)).size).toBe(3);
    });

    it('is also served as get-all-labels, with the same reply, on GET and POST', async () => {
      await createLabel('VIP');
      const expected = (await t.call('GET', api('get-labels'))).json();
      for (const method of ['GET', 'POST'] as const) {
        for (const endpoint of ['get-labels', 'get-all-labels']) {
          const response = await t.call(method, api(endpoint));
          expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: expected });
        }
      }
    });

    it("lists a customer's labels by name in its record", async () => {
      await addCustomer(t.call, PHONE);
      for (const name of ['b', 'a']) {
        await createLabel(name);
        await tag({ customer_phone: PHONE, label_name: name });
      }
      expect((await customerOf(t.call, PHONE)).labels.sort()).toEqual(['a', 'b']);
    });
  });
});
