import type { Kysely } from 'kysely';
import type { Account, CustomerRow, DB } from '../../db/tables.js';
import { newId } from '../../ids.js';
import * as labels from '../labels/labels.repository.js';
import { OPTED_OUT_LABEL } from './opt-out-label.js';

/**
 * Opting out of broadcasts: a customer whose whole message is a stop word is labelled `opted_out`
 * (the label is created when missing), every campaign skips them, and no bot answers the word.
 */
export const STOP_WORDS = ['STOP', 'UNSUBSCRIBE', 'הסר', 'הסרה'];
/** The longest stop word an account may set. */
export const STOP_WORD_MAX = 64;

/** The account's stop words (PATCH …/accounts/:id `stop_words`), or the defaults. */
export function stopWordsOf(account: Pick<Account, 'stop_words'>): string[] {
  return account.stop_words === null ? STOP_WORDS : (JSON.parse(account.stop_words) as string[]);
}

/** The whole message is one of the account's stop words, ignoring case and surrounding spaces. */
export function isStopWord(account: Pick<Account, 'stop_words'>, text: string | null): boolean {
  const said = text?.trim().toLocaleLowerCase();
  return said !== undefined && stopWordsOf(account).some((word) => word.toLocaleLowerCase() === said);
}

/** In the transaction that stores the message: the label, and the customer tagged with it (once). */
export async function optOut(db: Kysely<DB>, customer: Pick<CustomerRow, 'id' | 'account_id'>, at: string): Promise<void> {
  await labels.insertLabel(db, { id: newId(), account_id: customer.account_id, name: OPTED_OUT_LABEL, created_at: at });
  const label = await labels.findLabelByName(db, customer.account_id, OPTED_OUT_LABEL);
  if (label) await labels.tagCustomer(db, customer.account_id, label.id, customer.id, at);
}
