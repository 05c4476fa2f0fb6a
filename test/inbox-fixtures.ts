import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { toStoredTime } from '../src/db/time.js';
import { receiveMessage } from '../src/modules/messages/ingest.js';
import { api, tenantOf, type Tenant } from './api.js';
import type { TestContext } from './helpers.js';
import { customerWrites } from './messaging.js';

/** Conversations for the suites of the inbox API (/app/api/conversations…), made through the Mumble API. */

/** The context's own account as a Mumble API tenant (its key). */
export function ownTenant(ctx: TestContext): Tenant {
  return tenantOf(ctx, ctx.accountId, ctx.apiKey);
}

export async function customerIdOf(t: Pick<Tenant, 'call'>, phone: string): Promise<string> {
  const response = await t.call('GET', api('get-customer'), { customer_phone: phone });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().customer.id;
}

/** The customer writes (one second after whatever happened before, so activity orders them); returns the customer's id. */
export async function conversationWith(ctx: TestContext, t: Tenant, phone: string, text = 'Hello', name?: string): Promise<string> {
  ctx.clock.advance(1000);
  await customerWrites(t, phone, text, name);
  return customerIdOf(t, phone);
}

export interface Assignment {
  agentId?: string;
  teamId?: string;
}

/** Assigns through the Mumble API (assign-customer-to-agent / -team). */
export async function assign(t: Tenant, phone: string, { agentId, teamId }: Assignment): Promise<void> {
  if (agentId) expect((await t.call('POST', api('assign-customer-to-agent'), { customer_phone: phone, agent_id: agentId })).statusCode).toBe(200);
  if (teamId) expect((await t.call('POST', api('assign-customer-to-team'), { customer_phone: phone, team_id: teamId })).statusCode).toBe(200);
}

/** Creates and approves a template with `variables` body variables; returns its id. */
export async function approvedTemplate(t: Tenant, name: string, variables = 0): Promise<string> {
  const body = `Hello ${Array.from({ length: variables }, (_v, i) => `{{${i + 1}}}`).join(' ')}`.trim();
  const created = await t.call('POST', api('create-template'), {
    name,
    language: 'en_US',
    category: 'UTILITY',
    body,
    ...(variables > 0 && { body_examples: Array.from({ length: variables }, (_v, i) => `x${i}`) }),
  });
  expect(created.statusCode, created.body).toBe(200);
  const { id } = created.json().data;
  expect((await t.call('POST', api('sandbox/set-template-status'), { template_id: id, status: 'APPROVED' })).statusCode).toBe(200);
  return id;
}

/** A file the customer sent, as the ingest path keeps one (downloaded into the media store). */
export async function customerSendsFile(ctx: TestContext, accountId: string, phone: string, file: { content: Buffer; mimeType: string; filename: string | null; extension: string }) {
  const staged = await ctx.deps.media.stage(Readable.from([file.content]), file.extension);
  await ctx.deps.media.commit(staged);
  ctx.clock.advance(1000);
  const messageWaId = `wamid.file-${staged.key}`;
  await receiveMessage(ctx.deps, accountId, {
    messageWaId,
    from: phone,
    to: '15550001111',
    profileName: null,
    type: file.mimeType.startsWith('image/') ? 'image' : 'document',
    text: null,
    media: { key: staged.key, mimeType: file.mimeType, filename: file.filename },
    timestamp: ctx.clock.now(),
  });
  return messageWaId;
}

/** The JSON body of a 2xx reply (the test fails on anything else, showing the body). */
export function ok<T = Record<string, any>>(response: LightMyRequestResponse, status = 200): T {
  expect(response.statusCode, response.body).toBe(status);
  return response.json() as T;
}

export function expectAppError(response: LightMyRequestResponse, status: number, message: string): void {
  expect({ status: response.statusCode, body: response.json() }).toEqual({ status, body: { error: true, message } });
}

/** The live events recorded for a customer, oldest first (type and payload). */
export async function liveEventsOf(ctx: TestContext, customerId: string) {
  const rows = await ctx.deps.database.db.selectFrom('live_events').selectAll().where('customer_id', '=', customerId).orderBy('id').execute();
  return rows.map((row) => ({ type: row.type, recipient: row.recipient_agent_id, data: JSON.parse(row.payload) as Record<string, any> }));
}

export const now = (ctx: TestContext) => toStoredTime(ctx.clock.now());
