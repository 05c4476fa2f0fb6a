import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adjustCustomersCount, insertCustomer } from '../src/modules/customers/customers.repository.js';
import { newId } from '../src/ids.js';
import { UNLIMITED, api, newTenant } from './api.js';
import { createTestContext, customerRow, describeEachDatabase, type TestContext } from './helpers.js';

const PER_PAGE = 250;

/**
 * Inserts customers straight through the repository (the API would take minutes for hundreds),
 * moving the account's customer count as add-new-customer does: each one a millisecond after the
 * previous, or at the same instant when `sameInstant[i]`, so that ties on created_at are broken by
 * id. Returns the ids in the order the contract promises.
 */
async function insertCustomers(ctx: TestContext, accountId: string, sameInstant: boolean[]): Promise<string[]> {
  let time = Date.parse('2026-01-01T00:00:00.000Z');
  const rows = sameInstant.map((tie, i) => {
    if (!tie) time += 1;
    const at = new Date(time).toISOString();
    return { id: newId(), phone: `9725${String(i).padStart(8, '0')}`, at };
  });
  await ctx.deps.database.db.transaction().execute(async (trx) => {
    for (const row of rows) {
      await insertCustomer(trx, customerRow({ id: row.id, account_id: accountId, phone: row.phone, created_at: row.at }));
    }
    await adjustCustomersCount(trx, accountId, rows.length);
  });
  // Oldest first, ties by id (ids are lower-case uuids: code-point order is the database's order).
  return [...rows].sort((a, b) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1)).map((row) => row.id);
}

describeEachDatabase('get-all-customers pagination (property)', (kind) => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext(kind, UNLIMITED);
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('returns every customer exactly once across pages, in creation order, 250 a page', async () => {
    const tie = fc.integer({ min: 0, max: 3 }).map((n) => n === 0); // a quarter share the previous instant
    const count = fc.oneof(fc.constantFrom(0, 1, 249, 250, 251, 500, 501), fc.integer({ min: 0, max: 600 }));
    const customers = count.chain((n) => fc.array(tie, { minLength: n, maxLength: n }));
    await fc.assert(
      fc.asyncProperty(customers, async (sameInstant) => {
        const tenant = await newTenant(ctx);
        const expected = await insertCustomers(ctx, tenant.accountId, sameInstant);
        const total = expected.length;
        const pages = Math.ceil(total / PER_PAGE);

        const seen: string[] = [];
        for (let page = 1; page <= pages + 1; page++) {
          const response = await tenant.call('GET', `${api('get-all-customers')}?page=${page}`);
          expect(response.statusCode).toBe(200);
          const body = response.json();
          expect(body).toMatchObject({ success: true, total, pages, total_pages: pages, current_page: page, per_page: PER_PAGE });
          expect(body.customers).toHaveLength(Math.max(0, Math.min(PER_PAGE, total - (page - 1) * PER_PAGE)));
          seen.push(...body.customers.map((customer: { id: string }) => customer.id));
        }
        expect(seen).toEqual(expected);
      }),
      { numRuns: 12 },
    );
  });
});
