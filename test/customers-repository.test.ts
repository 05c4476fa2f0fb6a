import { afterEach, beforeEach, expect, it } from 'vitest';
import * as repository from '../src/modules/customers/customers.repository.js';
import { createTestDatabase, customerRow, describeEachDatabase, type TestDatabase } from './helpers.js';

/** The compiled-once statements of add-new-customer and edit-customer, on both databases. */
describeEachDatabase('customers repository (compiled statements)', (kind) => {
  let test: TestDatabase;
  const row = customerRow({
    id: 'c1',
    account_id: 'a1',
    phone: '972501234567',
    name: 'Dana',
    source: 'web',
    bot: 'AI',
    custom_fields: '{"plan":"gold"}',
    created_at: '2026-01-01T00:00:00.000Z',
  });
  beforeEach(async () => {
    test = await createTestDatabase(kind);
    await test.database.db.insertInto('accounts').values({ id: 'a1', name: 'one', created_at: '2026-01-01T00:00:00.000Z' }).execute();
  });
  afterEach(async () => test.drop());

  it('insertCustomer returns the row as stored, and undefined for a phone the account has', async () => {
    const { db } = test.database;
    expect(await repository.insertCustomer(db, row)).toEqual(row);
    expect(await repository.insertCustomer(db, { ...row, id: 'c2', name: 'Twin' })).toBeUndefined();
    const { name: _name, email: _email, ...withoutNullable } = row;
    expect(await repository.insertCustomer(db, { ...withoutNullable, id: 'c3', phone: '972501234568' })).toEqual({ ...row, id: 'c3', phone: '972501234568', name: null, email: null });
    expect(await db.selectFrom('customers').selectAll().orderBy('id').execute()).toEqual([row, { ...row, id: 'c3', phone: '972501234568', name: null, email: null }]);
  });

  it('updateCustomerReturning sets exactly the columns given, each set of columns its own statement', async () => {
    const { db } = test.database;
    await repository.insertCustomer(db, row);
    expect(await repository.updateCustomerReturning(db, 'a1', 'c1', { name: 'Renamed', updated_at: 'later' })).toEqual({ ...row, name: 'Renamed', updated_at: 'later' });
    expect(await repository.updateCustomerReturning(db, 'a1', 'c1', { email: 'd@example.com', bot: null, name: undefined })).toEqual({
      ...row,
      name: 'Renamed',
      email: 'd@example.com',
      bot: null,
      updated_at: 'later',
    });
    expect(await repository.updateCustomerReturning(db, 'a1', 'c1', { name: 'Again', updated_at: 'latest' })).toMatchObject({ name: 'Again', updated_at: 'latest', email: 'd@example.com' });
    expect(await repository.updateCustomerReturning(db, 'a1', 'missing', { name: 'Nobody' })).toBeUndefined();
    expect(await repository.updateCustomerReturning(db, 'other-account', 'c1', { name: 'Nobody' })).toBeUndefined();
  });

  it('adjustCustomFieldCounts creates names, moves their counts and drops them at 0', async () => {
    const { db } = test.database;
    const counts = async () =>
      Object.fromEntries((await db.selectFrom('custom_field_names').select(['name', 'customers_count']).where('account_id', '=', 'a1').execute()).map((r) => [r.name, Number(r.customers_count)]));
    await repository.adjustCustomFieldCounts(db, 'a1', new Map([['plan', 1], ['score', 2]]));
    expect(await counts()).toEqual({ plan: 1, score: 2 });
    expect(await repository.customFieldNames(db, 'a1')).toEqual(new Set(['plan', 'score']));
    await repository.adjustCustomFieldCounts(db, 'a1', new Map([['plan', -1], ['score', -1], ['new', 0]]));
    expect(await counts()).toEqual({ score: 1 });
    await repository.adjustCustomFieldCounts(db, 'a1', new Map([['score', 1]]));
    expect(await counts()).toEqual({ score: 2 });
  });
});
