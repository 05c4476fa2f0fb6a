import { readdirSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ChannelError, type Channel } from '../src/channels/channel.js';
import { api, type Tenant } from './api.js';
import type { TestContext } from './helpers.js';

/** Helpers shared by the messaging, conversation and template suites. */

/** The sandbox's delay between sent, delivered and read in these suites (the default). */
export const STATUS_DELAY_MS = 1000;

/** The customer writes to the business through the sandbox; returns the message's WhatsApp id. */
export async function customerWrites(t: Tenant, phone: string, text = 'Hello!', name?: string): Promise<string> {
  const response = await t.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text, ...(name && { name }) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().message_wa_id;
}

export async function messageOf(t: Tenant, messageWaId: string): Promise<Record<string, any>> {
  const response = await t.call('GET', api('get-message'), { message_wa_id: messageWaId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().message;
}

export async function conversationOf(t: Pick<Tenant, 'call'>, phone: string, page = 1): Promise<Record<string, any>> {
  const response = await t.call('GET', api('get-conversation'), { customer_phone: phone, page });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

export async function sendText(t: Tenant, phone: string, text = 'Hi there'): Promise<LightMyRequestResponse> {
  return t.call('POST', api('send-text-message'), { customer_phone: phone, text });
}

/**
 * Replaces what the account's channel does for the rest of the test (restore with the returned
 * function): `change` gets the real sandbox channel and returns the methods to use instead.
 */
export function changeChannel(ctx: TestContext, change: (channel: Channel) => Partial<Channel>): () => void {
  const original = ctx.deps.channels;
  ctx.deps.channels = {
    forAccount: async (account) => {
      const channel = await original.forAccount(account);
      return Object.assign(Object.create(channel) as Channel, change(channel));
    },
  };
  return () => {
    ctx.deps.channels = original;
  };
}

/** A channel that refuses everything, as WhatsApp does when it is down or refuses the request. */
export function refusingChannel(ctx: TestContext): () => void {
  const refuse = async (): Promise<never> => {
    throw new ChannelError('Service temporarily unavailable', 131000);
  };
  return changeChannel(ctx, () => ({ sendText: refuse, sendMedia: refuse, sendTemplate: refuse, sendInteractive: refuse, submitTemplate: refuse }));
}

/** Turns messaging off for the account (accounts.messaging_enabled = 0). */
/** As an operator's SQL would: the server hears of it (on PostgreSQL, by notification) before this returns. */
export async function disableMessaging(ctx: TestContext, accountId: string): Promise<void> {
  await ctx.deps.database.db.updateTable('accounts').set({ messaging_enabled: 0 }).where('id', '=', accountId).execute();
  await ctx.deps.keyCache.changed();
}

/** Every file in the media directory, staging area included. */
export function mediaFiles(ctx: TestContext): string[] {
  return readdirSync(ctx.deps.config.MEDIA_DIR, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

export interface FilePart {
  field?: string;
  filename: string;
  content: Buffer;
  contentType?: string;
}

/** A multipart/form-data request body: text fields, then the file. */
export function multipart(fields: Record<string, string>, file?: FilePart): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----openmumble-test-boundary';
  const parts: Buffer[] = Object.entries(fields).map(([name, value]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  );
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
