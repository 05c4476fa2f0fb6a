import { isIP } from 'node:net';
import type { Kysely } from 'kysely';
import type { AiSettingsRow, DB } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, notFound } from '../../errors.js';
import { isPublicAddress } from '../../net/public-address.js';
import { AI_PROVIDER_KEY, KeyRing, SecretKeyMissingError } from '../../secrets/secret-box.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { requireEntry } from '../directory/directory.service.js';
import * as repository from './ai.repository.js';
import { DEFAULT_HANDOFF_PHRASES, type AiSettingsInput, type AiSettingsRecord } from './ai.schema.js';

export const AI_NOT_CONFIGURED = 'AI is not configured';
const NOT_FOUND = 'AI settings not found';

/** Keys are bound to their account: one account's sealed key cannot be moved to another. */
const keyContext = (accountId: string) => `ai_settings:${accountId}`;
const keyRing = (deps: Pick<Deps, 'config'>, what: string) => new KeyRing(deps.config, AI_PROVIDER_KEY, what);

/** What the AI bot of an account runs with: its settings over the server-wide defaults. */
export interface EffectiveAi {
  baseUrl: string;
  apiKey: string | null;
  model: string;
  instructions: string;
  knowledge: string;
  handoffTeamId: string | null;
  maxReplies: number;
  temperature: number | null;
  handoffPhrases: string[];
}

export function toAiRecord(row: AiSettingsRow): AiSettingsRecord {
  return {
    base_url: row.base_url,
    model: row.model,
    has_api_key: row.api_key !== null,
    instructions: row.instructions,
    knowledge: row.knowledge,
    handoff_team_id: row.handoff_team_id,
    max_replies_per_conversation: Number(row.max_replies_per_conversation),
    temperature: row.temperature === null ? null : Number(row.temperature),
    handoff_phrases: row.handoff_phrases === null ? DEFAULT_HANDOFF_PHRASES : (JSON.parse(row.handoff_phrases) as string[]),
    updated_at: row.updated_at,
  };
}

/** A base URL on a private, loopback or link-local address (or localhost) needs AI_ALLOW_PRIVATE_BASE_URL; names are resolved and checked when called. */
function checkBaseUrl(deps: Deps, baseUrl: string): void {
  if (deps.config.AI_ALLOW_PRIVATE_BASE_URL) return;
  const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && !isPublicAddress(host))) {
    throw badRequest('base_url must be a public address (set AI_ALLOW_PRIVATE_BASE_URL=true for a model on your own network)');
  }
}

function sealKey(deps: Deps, accountId: string, apiKey: string): string {
  try {
    return keyRing(deps, 'store an AI provider key').encrypt(apiKey, keyContext(accountId));
  } catch (error) {
    if (error instanceof SecretKeyMissingError) throw badRequest(error.message);
    throw error;
  }
}

/** Sets the account's AI bot; the key is sealed with OPENMUMBLE_SECRET_KEY and never shown again. */
export async function putAiSettings(deps: Deps, accountId: string, input: AiSettingsInput): Promise<AiSettingsRecord> {
  await requireAccount(deps, accountId);
  if (input.base_url) checkBaseUrl(deps, input.base_url);
  if (input.handoff_team_id) await requireEntry(deps, 'teams', accountId, input.handoff_team_id);
  const { db } = deps.database;
  const existing = await repository.findAiSettings(db, accountId);
  const now = toStoredTime(deps.clock.now());
  const row: AiSettingsRow = {
    account_id: accountId,
    base_url: input.base_url ?? null,
    api_key: input.api_key === undefined ? (existing?.api_key ?? null) : input.api_key === null ? null : sealKey(deps, accountId, input.api_key),
    model: input.model ?? null,
    instructions: input.instructions,
    knowledge: input.knowledge,
    handoff_team_id: input.handoff_team_id ?? null,
    max_replies_per_conversation: input.max_replies_per_conversation,
    temperature: input.temperature ?? null,
    handoff_phrases: input.handoff_phrases ? JSON.stringify(input.handoff_phrases) : null,
    created_at: existing?.created_at ?? now,
    updated_at: now,
  };
  await repository.saveAiSettings(db, row);
  return toAiRecord(row);
}

export async function getAiSettings(deps: Deps, accountId: string): Promise<AiSettingsRecord> {
  await requireAccount(deps, accountId);
  const row = await repository.findAiSettings(deps.database.db, accountId);
  if (!row) throw notFound(NOT_FOUND);
  return toAiRecord(row);
}

export async function clearAiSettings(deps: Deps, accountId: string): Promise<void> {
  await requireAccount(deps, accountId);
  if (!(await repository.deleteAiSettings(deps.database.db, accountId))) throw notFound(NOT_FOUND);
}

/**
 * The AI bot the account runs: its settings over AI_BASE_URL, AI_API_KEY and AI_MODEL; undefined
 * when no base URL or model is known (or the stored key cannot be opened), so customers go to people.
 */
export async function effectiveAi(deps: Deps, accountId: string): Promise<EffectiveAi | undefined> {
  const row = await repository.findAiSettings(deps.database.db, accountId);
  const baseUrl = row?.base_url ?? deps.config.AI_BASE_URL;
  const model = row?.model ?? deps.config.AI_MODEL;
  if (!baseUrl || !model) return undefined;
  let apiKey = deps.config.AI_API_KEY ?? null;
  if (row?.api_key) {
    try {
      apiKey = keyRing(deps, 'use a stored AI provider key').decrypt(row.api_key, keyContext(accountId));
    } catch (error) {
      deps.logger.warn({ err: error, accountId }, 'the stored AI provider key cannot be opened; the AI bot hands customers to people');
      return undefined;
    }
  }
  const record = row ? toAiRecord(row) : undefined;
  return {
    baseUrl,
    apiKey,
    model,
    instructions: record?.instructions ?? '',
    knowledge: record?.knowledge ?? '',
    handoffTeamId: record?.handoff_team_id ?? null,
    maxReplies: record?.max_replies_per_conversation ?? 20,
    temperature: record?.temperature ?? null,
    handoffPhrases: record?.handoff_phrases ?? DEFAULT_HANDOFF_PHRASES,
  };
}

/** `openmumble secrets rotate`: every stored AI key sealed again with the current key. */
export async function resealAiKeys(deps: Pick<Deps, 'config'>, db: Kysely<DB>): Promise<number> {
  const rows = await repository.listStoredKeys(db);
  if (rows.length === 0) return 0;
  const ring = keyRing(deps, 'rotate AI provider keys');
  for (const row of rows) await repository.setStoredKey(db, row.account_id, ring.reseal(row.api_key, keyContext(row.account_id)));
  return rows.length;
}
