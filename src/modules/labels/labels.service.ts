import type { Kysely } from 'kysely';
import type { CustomerRow, DB } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { requireCustomer } from '../customers/customers.service.js';
import { recordLiveEvent } from '../live/live-events.js';
import * as repository from './labels.repository.js';

export const LABEL_NOT_FOUND = 'Label not found';
export const LABEL_EXISTS = 'Label already exists';

async function requireLabel(deps: Deps, accountId: string, name: string) {
  const label = await repository.findLabelByName(deps.database.db, accountId, name);
  if (!label) throw notFound(LABEL_NOT_FOUND);
  return label;
}

export async function createLabel(deps: Deps, accountId: string, name: string): Promise<void> {
  const created = await repository.insertLabel(deps.database.db, {
    id: newId(),
    account_id: accountId,
    name,
    created_at: toStoredTime(deps.clock.now()),
  });
  if (!created) throw conflict(LABEL_EXISTS);
}

/** Deleting a label removes it from its customers (the join rows cascade), as the inbox hears (one event for the account). */
export async function deleteLabel(deps: Deps, accountId: string, name: string): Promise<void> {
  const label = await requireLabel(deps, accountId, name);
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.deleteLabel(trx, accountId, label.id);
    await recordLiveEvent(trx, { accountId, type: 'conversation.labels', data: { customer_id: null, label: label.name, action: 'deleted' }, occurredAt: deps.clock.now() });
  });
}

export function listLabels(deps: Deps, accountId: string) {
  return repository.listLabelsWithCounts(deps.database.db, accountId);
}

/** The inbox hears that a label was added to or removed from a conversation (`conversation.labels`). */
function recordLabelChange(deps: Deps, trx: Kysely<DB>, customer: CustomerRow, label: string, action: 'added' | 'removed') {
  return recordLiveEvent(trx, { accountId: customer.account_id, type: 'conversation.labels', customer, data: { customer_id: customer.id, label, action }, occurredAt: deps.clock.now() });
}

/** Idempotent: tagging a customer twice leaves one tag (and tells the inbox once). */
export async function addCustomerToLabel(deps: Deps, accountId: string, phone: string, name: string): Promise<void> {
  await labelCustomer(deps, await requireCustomer(deps.database.db, accountId, phone), name);
}

export async function removeCustomerFromLabel(deps: Deps, accountId: string, phone: string, name: string): Promise<void> {
  await unlabelCustomer(deps, await requireCustomer(deps.database.db, accountId, phone), name);
}

/** Tags a customer already found (by phone, or by id in the inbox: a customer known only by WhatsApp user id has no phone to look up). */
export async function labelCustomer(deps: Deps, customer: CustomerRow, name: string): Promise<void> {
  const label = await requireLabel(deps, customer.account_id, name);
  await deps.database.db.transaction().execute(async (trx) => {
    if (await repository.tagCustomer(trx, customer.account_id, label.id, customer.id, toStoredTime(deps.clock.now()))) await recordLabelChange(deps, trx, customer, label.name, 'added');
  });
}

export async function unlabelCustomer(deps: Deps, customer: CustomerRow, name: string): Promise<void> {
  const label = await requireLabel(deps, customer.account_id, name);
  await deps.database.db.transaction().execute(async (trx) => {
    if (!(await repository.untagCustomer(trx, label.id, customer.id))) throw badRequest('Customer is not in the label');
    await recordLabelChange(deps, trx, customer, label.name, 'removed');
  });
}
