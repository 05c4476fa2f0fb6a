import { createHash } from 'node:crypto';
import type { Account, RequestAccount, ApiKeyRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { newId, randomToken } from '../../ids.js';
import { removeUnreferencedFiles } from '../../media/media-store.js';
import { mediaKeysOf } from '../messages/messages.repository.js';
import * as repository from './accounts.repository.js';
import type { ActiveKey } from './key-cache.js';

/** `om_live_` + base64url of 32 random bytes (256 bits). */
const KEY_PREFIX = 'om_live_';
/** last_used_at is refreshed at most this often per key, so requests do not each cost a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const API_KEY_NOT_FOUND = 'API key not found';

export interface NewApiKey {
  id: string;
  name: string;
  /** The only time the key itself is shown. */
  key: string;
  prefix: string;
  created_at: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return KEY_PREFIX + randomToken(32);
}

export async function createAccount(deps: Deps, name: string): Promise<Account> {
  const account = { id: newId(), name, created_at: toStoredTime(deps.clock.now()) };
  await repository.insertAccount(deps.database.db, account);
  return { ...account, messaging_enabled: 1, channel_type: 'sandbox', customers_count: 0, hide_unassigned: 0, default_bot_id: null, campaign_daily_limit: null, stop_words: null };
}

export function listAccounts(deps: Deps): Promise<Account[]> {
  return repository.listAccounts(deps.database.db);
}

export async function requireAccount(deps: Deps, id: string): Promise<Account> {
  const account = await repository.findAccount(deps.database.db, id);
  if (!account) throw notFound('Account not found');
  return account;
}

/** Creates a key for the account; `key` lets a scripted install choose it (OPENMUMBLE_API_KEY). */
export async function createApiKey(deps: Deps, accountId: string, name: string, key = generateApiKey()): Promise<NewApiKey> {
  await requireAccount(deps, accountId);
  const row = apiKeyRow(deps, accountId, name, key);
  await repository.insertApiKey(deps.database.db, row);
  return shownOnce(row, key);
}

/** The stored form of a new key: its hash and a prefix to recognise it by, never the key. */
function apiKeyRow(deps: Deps, accountId: string, name: string, key: string): ApiKeyRow {
  return {
    id: newId(),
    account_id: accountId,
    name,
    key_hash: hashApiKey(key),
    key_prefix: key.slice(0, KEY_PREFIX.length + 4),
    created_at: toStoredTime(deps.clock.now()),
    last_used_at: null,
    revoked_at: null,
  };
}

const shownOnce = (row: ApiKeyRow, key: string): NewApiKey => ({ id: row.id, name: row.name, key, prefix: row.key_prefix, created_at: row.created_at });

export async function listApiKeys(deps: Deps, accountId: string) {
  await requireAccount(deps, accountId);
  const keys = await repository.listApiKeys(deps.database.db, accountId);
  return keys.map(({ key_hash: _hash, key_prefix, ...rest }) => ({ ...rest, prefix: key_prefix }));
}

/**
 * A new key in place of an old one (same account and name), the old one revoked in the same
 * transaction: there is no moment with neither, and the old one is refused from the next request.
 */
export async function rotateApiKey(deps: Deps, id: string): Promise<NewApiKey> {
  const old = await repository.findApiKey(deps.database.db, id);
  if (!old || old.revoked_at !== null) throw notFound(API_KEY_NOT_FOUND);
  const key = generateApiKey();
  const row = apiKeyRow(deps, old.account_id, old.name, key);
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.insertApiKey(trx, row);
    await repository.revokeApiKey(trx, id, row.created_at);
  });
  await deps.keyCache.changed();
  return shownOnce(row, key);
}

/**
 * Deletes an account and everything it holds (customers, messages, people, keys, webhooks, its
 * WhatsApp connection), then its media files. Cannot be undone.
 */
export async function deleteAccount(deps: Deps, id: string): Promise<{ mediaFiles: number }> {
  await requireAccount(deps, id);
  const keys = await deps.database.db.transaction().execute(async (trx) => {
    const media = await mediaKeysOf(trx, 'account_id', id);
    await trx.deleteFrom('accounts').where('id', '=', id).execute();
    return media;
  });
  await deps.keyCache.changed();
  await removeUnreferencedFiles(deps.database, deps.media, keys);
  return { mediaFiles: keys.length };
}

/** Revokes a key (by id alone for the operator's tools; `scope` limits it to one account's keys). */
export async function revokeApiKey(deps: Deps, id: string, scope?: string): Promise<void> {
  const key = await repository.findApiKey(deps.database.db, id);
  if (!key || (scope !== undefined && key.account_id !== scope)) throw notFound(API_KEY_NOT_FOUND);
  await repository.revokeApiKey(deps.database.db, id, toStoredTime(deps.clock.now()));
  await deps.keyCache.changed();
}

/**
 * The account behind an API key, or undefined for a missing, unknown or revoked one. Held in memory
 * between requests while nothing that could change the answer has happened (KeyCache), so a
 * revocation takes effect at once on every instance without a query per request.
 */
export async function authenticateApiKey(deps: Deps, key: string): Promise<{ account: RequestAccount; keyId: string } | undefined> {
  const keyHash = hashApiKey(key);
  const active = await deps.keyCache.lookup(keyHash, () => loadActiveKey(deps, keyHash));
  if (!active) return undefined;
  const now = deps.clock.now();
  if (active.lastUsedAt === null || now.getTime() - active.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    active.lastUsedAt = now.getTime();
    // Not awaited: bookkeeping must not slow or fail the request it describes.
    repository.touchApiKey(deps.database.db, active.keyId, toStoredTime(now)).catch((error: unknown) => {
      deps.logger.warn({ err: error, keyId: active.keyId }, 'could not record API key use');
    });
  }
  return { account: active.account, keyId: active.keyId };
}

async function loadActiveKey(deps: Deps, keyHash: string): Promise<ActiveKey | undefined> {
  const row = await repository.findActiveKeyByHash(deps.database.db, keyHash);
  if (!row) return undefined;
  const { key_id: keyId, last_used_at: lastUsedAt, customers_count: _count, ...account } = row;
  return { keyId, account, lastUsedAt: lastUsedAt === null ? null : Date.parse(lastUsedAt) };
}

/**
 * On the first start with an empty database: a default account and its first key. Returns the key
 * (to print once), or undefined when accounts already exist.
 */
export async function ensureDefaultAccount(deps: Deps, presetKey?: string): Promise<{ account: RequestAccount; key: NewApiKey } | undefined> {
  if ((await repository.countAccounts(deps.database.db)) > 0) return undefined;
  const account = await createAccount(deps, 'Default account');
  const key = await createApiKey(deps, account.id, 'default', presetKey);
  return { account, key };
}
