import type { z } from 'zod';
import { isUniqueViolation } from '../../db/errors.js';
import type { CannedResponseRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { conflict, notFound } from '../../errors.js';
import type { Viewer } from '../../http/viewer.js';
import { newId } from '../../ids.js';
import * as repository from './canned-responses.repository.js';
import { renderCustomerText, variablesOf } from '../customers/customer-text.js';
import { requireVisibleConversation } from './conversations.service.js';
import type { cannedResponseInput, cannedResponseRecord } from './inbox.schema.js';

/**
 * Canned responses: an account's ready-made replies, found by a shortcut (unique per account,
 * lower-case) and filled from a customer (customers/customer-text.ts). Every person reads them; admins manage them.
 */

export const CANNED_RESPONSE_NOT_FOUND = 'Canned response not found';
export const SHORTCUT_TAKEN = 'shortcut is already used by another canned response';

export type CannedResponseRecord = z.output<typeof cannedResponseRecord>;
export type CannedResponseInput = z.output<typeof cannedResponseInput>;

export function toCannedResponseRecord(row: CannedResponseRow): CannedResponseRecord {
  const { id, shortcut, title, text, created_at, updated_at } = row;
  return { id, shortcut, title, text, variables: variablesOf(text), created_at, updated_at };
}

function refusingTakenShortcut<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    throw isUniqueViolation(error) ? conflict(SHORTCUT_TAKEN) : error;
  });
}

export async function listCannedResponses(deps: Deps, accountId: string): Promise<CannedResponseRecord[]> {
  return (await repository.listCannedResponses(deps.database.db, accountId)).map(toCannedResponseRecord);
}

export async function createCannedResponse(deps: Deps, accountId: string, input: CannedResponseInput): Promise<CannedResponseRecord> {
  const at = toStoredTime(deps.clock.now());
  const row: CannedResponseRow = { id: newId(), account_id: accountId, ...input, created_at: at, updated_at: at };
  await refusingTakenShortcut(() => repository.insertCannedResponse(deps.database.db, row));
  return toCannedResponseRecord(row);
}

export async function updateCannedResponse(deps: Deps, accountId: string, id: string, patch: Partial<CannedResponseInput>): Promise<CannedResponseRecord> {
  const updated = await refusingTakenShortcut(() => repository.updateCannedResponse(deps.database.db, accountId, id, { ...patch, updated_at: toStoredTime(deps.clock.now()) }));
  if (!updated) throw notFound(CANNED_RESPONSE_NOT_FOUND);
  return toCannedResponseRecord(updated);
}

export async function deleteCannedResponse(deps: Deps, accountId: string, id: string): Promise<void> {
  if (!(await repository.deleteCannedResponse(deps.database.db, accountId, id))) throw notFound(CANNED_RESPONSE_NOT_FOUND);
}

/** The canned response's text filled from a customer the viewer may see; variables without a value are empty and listed in `missing`. */
export async function renderCannedResponse(deps: Deps, viewer: Viewer, id: string, customerId: string): Promise<{ text: string; missing: string[] }> {
  const canned = await repository.findCannedResponse(deps.database.db, viewer.accountId, id);
  if (!canned) throw notFound(CANNED_RESPONSE_NOT_FOUND);
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  return renderCustomerText(canned.text, customer);
}
