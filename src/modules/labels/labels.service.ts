import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { requireCustomer } from '../customers/customers.service.js';
import * as repository from './labels.repository.js';

export const LABEL_NOT_FOUND = 'Label not found';

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
  if (!created) throw conflict('Label already exists');
}

/** Deleting a label removes it from its customers (the join rows cascade). */
export async function deleteLabel(deps: Deps, accountId: string, name: string): Promise<void> {
  const label = await requireLabel(deps, accountId, name);
  await repository.deleteLabel(deps.database.db, accountId, label.id);
}

export function listLabels(deps: Deps, accountId: string) {
  return repository.listLabelsWithCounts(deps.database.db, accountId);
}

/** Idempotent: tagging a customer twice leaves one tag. */
export async function addCustomerToLabel(deps: Deps, accountId: string, phone: string, name: string): Promise<void> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  const label = await requireLabel(deps, accountId, name);
  await repository.tagCustomer(deps.database.db, accountId, label.id, customer.id, toStoredTime(deps.clock.now()));
}

export async function removeCustomerFromLabel(deps: Deps, accountId: string, phone: string, name: string): Promise<void> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  const label = await requireLabel(deps, accountId, name);
  if (!(await repository.untagCustomer(deps.database.db, label.id, customer.id))) throw badRequest('Customer is not in the label');
}
