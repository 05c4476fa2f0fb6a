import type { Kysely } from 'kysely';
import type { CustomerRow, DB } from '../../db/tables.js';
import { newId } from '../../ids.js';
import * as labels from '../labels/labels.repository.js';
import { OPTED_OUT_LABEL } from './opt-out-label.js';

/**
 * Opting out of broadcasts: a customer whose whole message is a stop word is labelled `opted_out`
 * (the label is created when missing), every campaign skips them, and no bot answers the word.
 */
export const STOP_WORDS = ['stop', 'unsubscribe', 'הסר', 'הסרה'];

export function isStopWord(text: string | null): boolean {
  return text !== null && STOP_WORDS.includes(text.trim().toLocaleLowerCase());
}

/** In the transaction that stores the message: the label, and the customer tagged with it (once). */
export async function optOut(db: Kysely<DB>, customer: Pick<CustomerRow, 'id' | 'account_id'>, at: string): Promise<void> {
  await labels.insertLabel(db, { id: newId(), account_id: customer.account_id, name: OPTED_OUT_LABEL, created_at: at });
  const label = await labels.findLabelByName(db, customer.account_id, OPTED_OUT_LABEL);
  if (label) await labels.tagCustomer(db, customer.account_id, label.id, customer.id, at);
}
