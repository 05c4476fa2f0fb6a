import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { DirectoryTable } from '../src/modules/directory/directory.repository.js';
import { addEntry } from '../src/modules/directory/directory.service.js';
import { createTestContext, type Call, type DatabaseKind, type TestContext } from './helpers.js';

/** Small helpers shared by the API suites: one tenant's caller, and the contract's envelopes. */

export type { Call };
export type Method = Parameters<Call>[0];

export interface Tenant {
  accountId: string;
  apiKey: string;
  call: Call;
  /** Creates an agent, team or flow bot of this account through the administrator's service. */
  add(table: DirectoryTable, name: string): Promise<string>;
}

export const api = (endpoint: string) => `/mumbleapi/${endpoint}`;

/**
 * Environment for suites that are not about rate limits: these suites send far more than a minute's
 * allowance from one address under a clock that barely moves.
 */
export const UNLIMITED = { RATE_LIMIT_PER_IP: '1000000000', RATE_LIMIT_PER_KEY: '1000000000' };

/**
 * What an API suite sets up: one app on a fresh database for the whole suite (rate limits out of the
 * way), closed after it, and, when `tenant` is given, a new tenant before each test. The setters hand
 * them to the suite's own variables: the context before any nested `beforeAll` runs, the tenant before
 * each test and its other `beforeEach` hooks.
 *
 *     let ctx: TestContext;
 *     let t: Tenant;
 *     setUpApiSuite(kind, { context: (value) => (ctx = value), tenant: (value) => (t = value) });
 */
export function setUpApiSuite(kind: DatabaseKind, set: { context(ctx: TestContext): void; tenant?(t: Tenant): void }): void {
  let ctx: TestContext | undefined;
  beforeAll(async () => {
    ctx = await createTestContext(kind, UNLIMITED);
    set.context(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
  });
  if (set.tenant) {
    const { tenant } = set;
    beforeEach(async () => tenant(await newTenant(ctx!)));
  }
}

/** A new account with its own key on the context's app: isolation without a new database. */
export async function newTenant(ctx: TestContext): Promise<Tenant> {
  const { accountId, apiKey } = await ctx.otherAccount();
  return tenantOf(ctx, accountId, apiKey);
}

export function tenantOf(ctx: TestContext, accountId: string, apiKey: string): Tenant {
  return {
    accountId,
    apiKey,
    call: (method, url, payload, headers = {}) =>
      ctx.app.inject({
        method,
        url,
        headers: { 'mumble-api-key': apiKey, ...headers },
        ...(payload !== undefined && { payload: payload as string }),
      }),
    add: async (table, name) => (await addEntry(ctx.deps, table, accountId, { name })).id,
  };
}

export function expectError(response: LightMyRequestResponse, status: number, message: string): void {
  expect({ status: response.statusCode, body: response.json() }).toEqual({ status, body: { error: true, message } });
}

/** A 200 whose body is exactly `{success: true, ...fields}`. */
export function expectSuccess(response: LightMyRequestResponse, fields: Record<string, unknown> = {}): void {
  expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { success: true, ...fields } });
}

/** The reply of get-customer for `phone` (the test fails unless it is a 200). */
export async function customerOf(call: Call, phone: string): Promise<Record<string, any>> {
  const response = await call('GET', api('get-customer'), { customer_phone: phone });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().customer;
}

export async function addCustomer(call: Call, phone: string | number, fields: Record<string, unknown> = {}): Promise<void> {
  const response = await call('POST', api('add-new-customer'), { customer_phone: phone, ...fields });
  expect(response.statusCode, response.body).toBe(200);
}

/** A distinct valid Israeli mobile number per call, so tests sharing an account never collide. */
let phoneCounter = 0;
export function nextPhone(): string {
  phoneCounter += 1;
  return `97250${String(1_000_000 + phoneCounter).slice(-7)}`;
}
