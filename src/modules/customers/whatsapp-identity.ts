import type { CustomerRow } from '../../db/tables.js';
import { isUniqueViolation } from '../../db/errors.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { newId } from '../../ids.js';
import { countryOfPhone, isValidPhone } from '../../phone.js';
import { customerRecordIn, recordCustomerChange, recordCustomerEvent } from './customer-events.js';
import * as repository from './customers.repository.js';
import { toCustomerRecord } from './customer-record.js';
import { ensureCustomer } from './customers.service.js';

/**
 * Which customer a WhatsApp sender is (docs/whatsapp.md, "Who wrote"). WhatsApp names a person by
 * their phone number and, since usernames, by a business-scoped user id (BSUID, unique per business);
 * a person with a username may come with the BSUID alone. A customer is found by BSUID first, then by
 * number. Someone known by BSUID alone is a customer whose `phone` is that BSUID (no number is known
 * to put there), until a message brings their number.
 */

export interface WhatsAppSender {
  /** Their number (international digits), when WhatsApp gives it. */
  phone: string | null;
  /** Their business-scoped user id, when WhatsApp gives it. */
  userId: string | null;
  /** The name a new customer gets: the profile name, else the username. */
  name: string | null;
}

/** A BSUID: a two-letter country code, a dot, then letters and digits (`US.13491208655302741918`, `US.ENT.…`). */
const BSUID = /^([A-Z]{2})\.[A-Za-z0-9._-]{1,250}$/;

export function isWhatsAppUserId(value: string): boolean {
  return BSUID.test(value);
}

/** A customer whose `phone` holds their BSUID: WhatsApp never told us their number. */
export function isKnownByUserIdOnly(customer: Pick<CustomerRow, 'phone' | 'whatsapp_user_id'>): boolean {
  return customer.whatsapp_user_id !== null && customer.phone === customer.whatsapp_user_id;
}

function usable(sender: WhatsAppSender): { phone: string | null; userId: string | null } {
  return {
    phone: sender.phone && isValidPhone(sender.phone) ? sender.phone : null,
    userId: sender.userId && isWhatsAppUserId(sender.userId) ? sender.userId : null,
  };
}

/** The account's customer this sender is, if any (nothing is created). */
export async function findSender(deps: Deps, accountId: string, sender: Pick<WhatsAppSender, 'phone' | 'userId'>): Promise<CustomerRow | undefined> {
  const { db } = deps.database;
  const { phone, userId } = usable({ ...sender, name: null });
  return (userId && (await repository.findCustomerByWhatsAppUserId(db, accountId, userId))) || (phone ? await repository.findCustomerByPhone(db, accountId, phone) : undefined);
}

/**
 * The customer a sender is, created when unknown; undefined when the sender has neither a usable
 * number nor a BSUID. Learns what WhatsApp tells of a known customer: the BSUID of a customer known
 * by number, the number of a customer known by BSUID alone.
 */
export async function customerOfSender(deps: Deps, accountId: string, sender: WhatsAppSender): Promise<CustomerRow | undefined> {
  const { phone, userId } = usable(sender);
  const { db } = deps.database;
  const byUserId = userId ? await repository.findCustomerByWhatsAppUserId(db, accountId, userId) : undefined;
  if (byUserId) return phone && isKnownByUserIdOnly(byUserId) ? await adoptNumber(deps, byUserId, phone) : byUserId;
  if (phone) {
    const customer = await ensureCustomer(deps, accountId, { customer_phone: phone, name: sender.name });
    return userId ? await attachUserId(deps, customer, userId) : customer;
  }
  if (userId) return createKnownByUserId(deps, accountId, userId, sender.name);
  return undefined;
}

/** Records the BSUID WhatsApp now names the customer by (one customer per BSUID: if another has it, nothing changes). */
async function attachUserId(deps: Deps, customer: CustomerRow, userId: string | null): Promise<CustomerRow> {
  if (customer.whatsapp_user_id === userId) return customer;
  try {
    const updated = await repository.updateCustomerReturning(deps.database.db, customer.account_id, customer.id, { whatsapp_user_id: userId });
    return updated ?? customer;
  } catch (error) {
    if (isUniqueViolation(error)) return customer;
    throw error;
  }
}

/**
 * Moves a customer to a new number, with their history (their id stays). When the number already is
 * another customer of the account, or is no valid number, nothing changes: two customers are never
 * merged (their labels, fields and assignments could not be told apart again). The customer as
 * moved, or undefined when nothing changed.
 */
async function changeNumber(deps: Deps, customer: CustomerRow, phone: string, userId: string | null): Promise<CustomerRow | undefined> {
  if (!isValidPhone(phone) || phone === customer.phone) return undefined;
  try {
    return await deps.database.db.transaction().execute(async (trx) => {
      const before = await customerRecordIn(trx, customer);
      const updated = await repository.updateCustomerReturning(trx, customer.account_id, customer.id, {
        phone,
        country: countryOfPhone(phone),
        whatsapp_user_id: userId,
        updated_at: toStoredTime(deps.clock.now()),
      });
      if (updated) await recordCustomerEvent(deps, trx, updated, 'customer.updated', before);
      return updated;
    });
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
}

/** A customer known by BSUID alone whose number WhatsApp now gives: the number becomes theirs, unless another customer has it. */
async function adoptNumber(deps: Deps, customer: CustomerRow, phone: string): Promise<CustomerRow> {
  return (await changeNumber(deps, customer, phone, customer.whatsapp_user_id)) ?? customer;
}

/**
 * `user_changed_number`: the customer now writes from `newPhone` (with a new BSUID, when WhatsApp
 * gives it). When another customer of the account already has that number, both stay as they are.
 */
export async function moveToNewNumber(deps: Deps, customer: CustomerRow, newPhone: string, newUserId: string | null): Promise<{ customer: CustomerRow; moved: boolean }> {
  const userId = newUserId && isWhatsAppUserId(newUserId) ? newUserId : null;
  const moved = await changeNumber(deps, customer, newPhone, null);
  if (!moved) return { customer, moved: false };
  return { customer: userId ? await attachUserId(deps, moved, userId) : moved, moved: true };
}

/** `user_changed_user_id`: WhatsApp names the customer by a new BSUID. */
export async function changeUserId(deps: Deps, customer: CustomerRow, newUserId: string): Promise<CustomerRow> {
  if (!isWhatsAppUserId(newUserId)) return customer;
  if (!isKnownByUserIdOnly(customer)) return attachUserId(deps, customer, newUserId);
  // Known by the old BSUID alone: it was their `phone` too.
  try {
    const updated = await repository.updateCustomerReturning(deps.database.db, customer.account_id, customer.id, { phone: newUserId, whatsapp_user_id: newUserId });
    return updated ?? customer;
  } catch (error) {
    if (isUniqueViolation(error)) return customer;
    throw error;
  }
}

/** A new customer known by BSUID alone: `phone` holds the BSUID, `country` its country code. */
async function createKnownByUserId(deps: Deps, accountId: string, userId: string, name: string | null): Promise<CustomerRow> {
  const now = toStoredTime(deps.clock.now());
  try {
    const created = await deps.database.db.transaction().execute(async (trx) => {
      const inserted = await repository.insertCustomer(trx, {
        id: newId(),
        account_id: accountId,
        phone: userId,
        name: name?.slice(0, 256) ?? null,
        country: BSUID.exec(userId)![1],
        conversation_status: 'new',
        custom_fields: '{}',
        attribution: '{}',
        created_at: now,
        updated_at: now,
      });
      if (!inserted) return undefined;
      const customer = (await repository.updateCustomerReturning(trx, accountId, inserted.id, { whatsapp_user_id: userId }))!;
      await repository.adjustCustomersCount(trx, accountId, +1);
      await recordCustomerChange(deps, trx, customer, 'customer.created', () => ({ after: toCustomerRecord(customer, []) }));
      return customer;
    });
    if (created) return created;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  // Created meanwhile by a concurrent delivery.
  const existing = await repository.findCustomerByWhatsAppUserId(deps.database.db, accountId, userId);
  if (!existing) throw new Error(`customer with WhatsApp user id ${userId} neither created nor found`);
  return existing;
}
