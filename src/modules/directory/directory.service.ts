import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { clearBotAssignment } from '../customers/customers.repository.js';
import * as repository from './directory.repository.js';
import type { DirectoryEntry, DirectoryTable } from './directory.repository.js';

/** The contract's message for an id that is not the account's (the bot one ends with a period). */
export const NOT_FOUND_MESSAGE: Record<DirectoryTable, string> = {
  agents: 'Agent not found',
  teams: 'Team not found',
  bots: 'Bot not found.',
};

/** The built-in AI bot every account has; flow bots are the account's own. */
export const AI_BOT = { id: 'AI', name: 'AI', type: 'ai' } as const;

export interface NewEntry {
  name: string;
}

export async function addEntry(deps: Deps, table: DirectoryTable, accountId: string, input: NewEntry): Promise<DirectoryEntry> {
  await requireAccount(deps, accountId);
  const entry: DirectoryEntry = { id: newId(), account_id: accountId, name: input.name, created_at: toStoredTime(deps.clock.now()) };
  if (table === 'bots') entry.type = 'flow';
  await repository.insertEntry(deps.database.db, table, entry);
  return entry;
}

export async function listEntries(deps: Deps, table: DirectoryTable, accountId: string): Promise<DirectoryEntry[]> {
  return repository.listEntries(deps.database.db, table, accountId);
}

/** Renames a team or flow bot (by id alone, for the operator's tools). */
export async function renameEntry(deps: Deps, table: Exclude<DirectoryTable, 'agents'>, id: string, name: string): Promise<DirectoryEntry> {
  const entry = await repository.findEntryById(deps.database.db, table, id);
  if (!entry) throw notFound(NOT_FOUND_MESSAGE[table]);
  await deps.database.db.updateTable(table).set({ name }).where('id', '=', id).execute();
  return { ...entry, name };
}

/** Customers assigned to a removed agent or team lose the assignment (foreign keys); to a removed bot, likewise. */
export async function removeEntry(deps: Deps, table: DirectoryTable, id: string): Promise<void> {
  await deps.database.db.transaction().execute(async (trx) => {
    const entry = await repository.findEntryById(trx, table, id);
    if (!entry) throw notFound(NOT_FOUND_MESSAGE[table]);
    await repository.deleteEntry(trx, table, entry.account_id, id);
    if (table === 'bots') {
      await clearBotAssignment(trx, entry.account_id, id);
      await trx.updateTable('accounts').set({ default_bot_id: null }).where('id', '=', entry.account_id).where('default_bot_id', '=', id).execute();
    }
  });
  if (table === 'bots') await deps.keyCache.changed();
}

/** The entry of this account with this id, or the contract's "<Noun> not found". */
export async function requireEntry(deps: Deps, table: DirectoryTable, accountId: string, id: string): Promise<DirectoryEntry> {
  const entry = await repository.findEntry(deps.database.db, table, accountId, id);
  if (!entry) throw notFound(NOT_FOUND_MESSAGE[table]);
  return entry;
}
