import { isUniqueViolation } from '../../db/errors.js';
import { z } from 'zod';
import { SecretKeyMissingError, tokenCipherFor, TokenDecryptionError } from '../../secrets/secret-box.js';
import { toStoredTime } from '../../db/time.js';
import type { ChannelCredentials } from '../../channels/cloud-api/cloud-api-channel.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest, conflict } from '../../errors.js';
import { isValidPhone, normalizePhone } from '../../phone.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { customerRecordIn, recordCustomerEvent } from '../customers/customer-events.js';
import { findSender, type WhatsAppSender } from '../customers/whatsapp-identity.js';
import * as repository from './whatsapp.repository.js';
import type { WhatsAppChannelRow } from './whatsapp.repository.js';

/**
 * Connecting accounts to the WhatsApp Cloud API: the admin API and the CLI call these. The access
 * token is encrypted before it is stored and never leaves the server again.
 */

const graphId = (name: string) =>
  z
    .union([z.string(), z.number()], { error: `${name} is required` })
    .transform((value) => String(value).trim())
    .pipe(z.string().regex(/^\d{1,32}$/, `${name} must be the numeric id Meta shows`));

export const connectInput = z.object({
  phone_number_id: graphId('phone_number_id'),
  waba_id: graphId('waba_id'),
  access_token: z
    .string({ error: 'access_token is required' })
    .trim()
    .min(1, 'access_token is required')
    .max(4096, 'access_token is too long')
    .regex(/^\S+$/, 'access_token must not contain spaces'),
  display_phone_number: z
    .union([z.string(), z.number()], { error: 'display_phone_number is required' })
    .transform((value) => normalizePhone(value))
    .pipe(z.string().refine(isValidPhone, 'display_phone_number must be an international number (7–15 digits)')),
});

export type ConnectInput = z.input<typeof connectInput>;

export type ChannelView =
  | { type: 'sandbox' }
  | {
      type: 'cloud_api';
      phone_number_id: string;
      waba_id: string;
      display_phone_number: string;
      status: 'connected' | 'disconnected';
      status_reason: string | null;
      status_changed_at: string;
      connected_at: string;
      updated_at: string;
    };

export function presentChannel(row: WhatsAppChannelRow | undefined): ChannelView {
  if (!row) return { type: 'sandbox' };
  return {
    type: 'cloud_api',
    phone_number_id: row.phone_number_id,
    waba_id: row.waba_id,
    display_phone_number: row.display_phone_number,
    status: row.status === 'disconnected' ? 'disconnected' : 'connected',
    status_reason: row.status_reason,
    status_changed_at: row.status_changed_at,
    connected_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The key's absence, as the admin API and CLI report it: the server's configuration, not the request. */
function cipherOrRefuse(deps: Deps) {
  try {
    return tokenCipherFor(deps.config, 'store a WhatsApp access token');
  } catch (error) {
    if (error instanceof SecretKeyMissingError) throw new ApiError(503, error.message);
    throw error;
  }
}

export const PHONE_NUMBER_ID_TAKEN = 'This phone_number_id is already connected to another account';

/** The token's AAD: a stored token only decrypts on its own account's row. */
const tokenContext = (accountId: string) => `whatsapp_channel:${accountId}`;

/** A stored access token sealed again with the current key (`openmumble secrets rotate`). */
export function resealAccessToken(deps: Deps, row: Pick<WhatsAppChannelRow, 'account_id' | 'access_token'>): string {
  return tokenCipherFor(deps.config, 'rotate WhatsApp access tokens').reseal(row.access_token, tokenContext(row.account_id));
}

/**
 * Connects (or reconnects, with a new token) the account to a WhatsApp number. Switches the
 * account's channel to the Cloud API in the same transaction.
 */
export async function connectChannel(deps: Deps, accountId: string, raw: unknown): Promise<ChannelView> {
  const parsed = connectInput.safeParse(raw ?? {});
  if (!parsed.success) throw badRequest(parsed.error.issues[0]?.message ?? 'Invalid input');
  const input = parsed.data;
  const cipher = cipherOrRefuse(deps);
  await requireAccount(deps, accountId);
  const now = toStoredTime(deps.clock.now());
  try {
    const view = await deps.database.db.transaction().execute(async (trx) => {
      const owner = await repository.findChannelByPhoneNumberId(trx, input.phone_number_id);
      if (owner && owner.account_id !== accountId) throw conflict(PHONE_NUMBER_ID_TAKEN);
      const existing = await repository.findChannelByAccount(trx, accountId);
      const row: WhatsAppChannelRow = {
        account_id: accountId,
        phone_number_id: input.phone_number_id,
        waba_id: input.waba_id,
        display_phone_number: input.display_phone_number,
        access_token: cipher.encrypt(input.access_token, tokenContext(accountId)),
        status: 'connected',
        status_reason: null,
        status_changed_at: now,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      await repository.upsertChannel(trx, row);
      await repository.setAccountChannelType(trx, accountId, 'cloud_api');
      return presentChannel(row);
    });
    await deps.keyCache.changed();
    return view;
  } catch (error) {
    // Two accounts claiming one number at the same moment: the unique index decides.
    if (isUniqueViolation(error)) throw conflict(PHONE_NUMBER_ID_TAKEN);
    throw error;
  }
}

/** Returns the account to the sandbox channel; the stored token is deleted. */
export async function disconnectChannel(deps: Deps, accountId: string): Promise<ChannelView> {
  await requireAccount(deps, accountId);
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.deleteChannel(trx, accountId);
    await repository.setAccountChannelType(trx, accountId, 'sandbox');
  });
  await deps.keyCache.changed();
  return { type: 'sandbox' };
}

export async function showChannel(deps: Deps, accountId: string): Promise<ChannelView> {
  await requireAccount(deps, accountId);
  return presentChannel(await repository.findChannelByAccount(deps.database.db, accountId));
}

/** Meta refused the token (code 190): outbound sends stop until an operator reconnects. */
export async function markChannelDisconnected(deps: Deps, accountId: string, reason: string): Promise<void> {
  const changed = await repository.markDisconnected(deps.database.db, accountId, reason, toStoredTime(deps.clock.now()));
  if (changed) deps.logger.warn({ accountId, reason }, 'WhatsApp channel marked disconnected');
}

/** The channel with its token in clear, for the Cloud API client only. */
export function credentialsOf(deps: Deps, row: WhatsAppChannelRow): ChannelCredentials {
  const cipher = tokenCipherFor(deps.config, 'use a WhatsApp access token');
  return {
    accountId: row.account_id,
    phoneNumberId: row.phone_number_id,
    wabaId: row.waba_id,
    displayPhoneNumber: row.display_phone_number,
    accessToken: cipher.decrypt(row.access_token, tokenContext(row.account_id)),
    status: row.status === 'disconnected' ? 'disconnected' : 'connected',
    statusReason: row.status_reason,
  };
}

/**
 * credentialsOf, except that a token that cannot be decrypted (OPENMUMBLE_SECRET_KEY changed or
 * missing) gives credentials marked disconnected with that reason, and no token: sends are refused
 * with the reason, and inbound messages are still stored (without media).
 */
export function credentialsOrDisconnected(deps: Deps, row: WhatsAppChannelRow): ChannelCredentials {
  try {
    return credentialsOf(deps, row);
  } catch (error) {
    if (!(error instanceof TokenDecryptionError || error instanceof SecretKeyMissingError)) throw error;
    deps.logger.error({ accountId: row.account_id }, error.message);
    return {
      accountId: row.account_id,
      phoneNumberId: row.phone_number_id,
      wabaId: row.waba_id,
      displayPhoneNumber: row.display_phone_number,
      accessToken: '',
      status: 'disconnected',
      statusReason: error.message,
    };
  }
}

export async function loadCredentials(deps: Deps, accountId: string): Promise<ChannelCredentials | undefined> {
  const row = await repository.findChannelByAccount(deps.database.db, accountId);
  return row ? credentialsOf(deps, row) : undefined;
}

/**
 * Start-up check: Cloud API channels exist but no OPENMUMBLE_SECRET_KEY is configured, so their
 * tokens cannot be read. Returns the message to stop with, or null when all is well.
 */
export async function checkSecretKeyForStoredChannels(deps: Deps): Promise<string | null> {
  if (deps.config.OPENMUMBLE_SECRET_KEY) return null;
  const count = await repository.countChannels(deps.database.db);
  return count === 0
    ? null
    : `OPENMUMBLE_SECRET_KEY is not set, but ${count} account(s) are connected to the WhatsApp Cloud API and their access tokens are encrypted with it. Set the key they were stored with (at least 32 characters).`;
}


/**
 * A click-to-WhatsApp ad's referral becomes the customer's attribution (last touch), in one
 * transaction with its customer.updated event.
 */
export async function applyReferralAttribution(deps: Deps, accountId: string, sender: Pick<WhatsAppSender, 'phone' | 'userId'>, fields: Record<string, string>): Promise<void> {
  const found = await findSender(deps, accountId, sender);
  if (!found) return;
  await deps.database.db.transaction().execute(async (trx) => {
    const customer = await trx.selectFrom('customers').select(['id', 'account_id', 'attribution', 'source']).where('account_id', '=', accountId).where('id', '=', found.id).executeTakeFirst();
    if (!customer) return;
    const before = await customerRecordIn(trx, customer);
    await repository.mergeAttribution(trx, customer, fields, toStoredTime(deps.clock.now()));
    await recordCustomerEvent(deps, trx, customer, 'customer.updated', before);
  });
}
