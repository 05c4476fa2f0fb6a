import type { Kysely } from 'kysely';
import type { CustomerRow, DB } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest, conflict, notFound } from '../../errors.js';
import { readPage } from '../../http/fields.js';
import { newId } from '../../ids.js';
import { removeUnreferencedFiles } from '../../media/media-store.js';
import { mediaKeysOf } from '../messages/messages.repository.js';
import { countryOfPhone, isValidPhone } from '../../phone.js';
import { AI_BOT, requireEntry } from '../directory/directory.service.js';
import { recordLiveEvent } from '../live/live-events.js';
import { enqueueBotStep } from '../bots/bot-jobs.js';
import { endSession } from '../bots/bots.repository.js';
import { customerRecordIn, recordConversationLiveEvents, recordCustomerChange, recordCustomerEvent } from './customer-events.js';
import { toCustomerRecord, type CustomFields } from './customer-record.js';
import * as repository from './customers.repository.js';
import {
  ATTRIBUTION_FIELDS,
  CUSTOMER_NOT_FOUND,
  MAX_CUSTOM_FIELD_NAMES,
  PER_PAGE,
  customFieldValue,
  customerFieldsInput,
  isKnownField,
  isValidCustomFieldName,
  type CustomerFieldsInput,
  type CustomerRecord,
} from './customers.schema.js';


/** The fields a customer can be created from outside add-new-customer (a template's recipient, an inbound message). */
export type NewContact = Pick<CustomerFieldsInput, 'customer_phone'> & Partial<Pick<CustomerFieldsInput, 'name' | 'email' | 'source' | 'bot_token'>>;
type Scalar = string | number | boolean | null;

export const BOT_OFF = 'turn_off';

/** The account's customer with this (normalized) phone; an invalid number cannot be a customer. */
export async function findCustomer(db: Kysely<DB>, accountId: string, phone: string): Promise<CustomerRow | undefined> {
  return isValidPhone(phone) ? repository.findCustomerByPhone(db, accountId, phone) : undefined;
}

export async function requireCustomer(db: Kysely<DB>, accountId: string, phone: string): Promise<CustomerRow> {
  const customer = await findCustomer(db, accountId, phone);
  if (!customer) throw notFound(CUSTOMER_NOT_FOUND);
  return customer;
}

/** A bot token as stored on a customer: `AI`, a flow bot id of the account, or null for `turn_off`. */
export async function resolveBotToken(deps: Deps, accountId: string, token: string): Promise<string | null> {
  if (token === AI_BOT.id) return AI_BOT.id;
  if (token === BOT_OFF) return null;
  return (await requireEntry(deps, 'bots', accountId, token)).id;
}

/** The attribution fields a request sets (null removes one). */
function attributionChanges(input: CustomerFieldsInput): Array<[string, string | null]> {
  return ATTRIBUTION_FIELDS.filter((field) => input[field] !== undefined).map((field) => [field, input[field] ?? null]);
}

function applyAttribution(current: Record<string, string>, changes: Array<[string, string | null]>): Record<string, string> {
  const next = { ...current };
  for (const [field, value] of changes) {
    if (value === null) delete next[field];
    else next[field] = value;
  }
  return next;
}

interface CustomFieldRequest {
  valid: Array<[string, Scalar]>;
  /** Names refused for their shape: a bad name or a value that is not a JSON scalar. */
  malformed: string[];
}

function customFieldRequest(input: CustomerFieldsInput): CustomFieldRequest {
  const request: CustomFieldRequest = { valid: [], malformed: [] };
  for (const [name, value] of Object.entries(input)) {
    if (isKnownField(name)) continue;
    const parsed = customFieldValue.safeParse(value);
    if (isValidCustomFieldName(name) && parsed.success) request.valid.push([name, parsed.data]);
    else request.malformed.push(name);
  }
  return request;
}

interface CustomFieldPlan {
  fields: CustomFields;
  processed: string[];
  /** Names refused because the account already has 15 names. */
  overflow: string[];
  deltas: Map<string, number>;
}

/**
 * Applies requested custom fields to a customer's current ones. A name the account does not use yet
 * takes one of its 15 slots; a null value removes the field from this customer.
 */
function planCustomFields(current: CustomFields, requested: Array<[string, Scalar]>, accountNames: Set<string>): CustomFieldPlan {
  const plan: CustomFieldPlan = { fields: { ...current }, processed: [], overflow: [], deltas: new Map() };
  const names = new Set(accountNames);
  const move = (name: string, delta: number) => plan.deltas.set(name, (plan.deltas.get(name) ?? 0) + delta);
  for (const [name, value] of requested) {
    const had = Object.hasOwn(plan.fields, name);
    if (value === null) {
      if (had) move(name, -1);
      delete plan.fields[name];
    } else {
      if (!had && !names.has(name)) {
        if (names.size >= MAX_CUSTOM_FIELD_NAMES) {
          plan.overflow.push(name);
          continue;
        }
        names.add(name);
      }
      if (!had) move(name, +1);
      plan.fields[name] = value;
    }
    plan.processed.push(name);
  }
  return plan;
}

/** The account's custom field names, which planCustomFields needs only when the request sets custom fields. */
async function accountFieldNames(trx: Kysely<DB>, accountId: string, request: CustomFieldRequest): Promise<Set<string>> {
  return request.valid.length > 0 ? repository.customFieldNames(trx, accountId) : new Set();
}

/** Creates a customer. Custom fields that do not fit are skipped, never the customer. */
export async function addCustomer(deps: Deps, accountId: string, input: CustomerFieldsInput): Promise<{ skipped: string[] }> {
  const phone = input.customer_phone;
  if (!isValidPhone(phone)) throw badRequest('Failed to add customer due to invalid input');
  const bot = input.bot_token ? await resolveBotToken(deps, accountId, input.bot_token) : null;
  const now = toStoredTime(deps.clock.now());
  const request = customFieldRequest(input);
  return deps.database.db.transaction().execute(async (trx) => {
    // First: on PostgreSQL this update holds the account row (as lockAccount would) for the
    // custom-field bookkeeping, one round trip fewer; a refused insert rolls it back.
    await repository.adjustCustomersCount(trx, accountId, +1);
    const plan = planCustomFields({}, request.valid, await accountFieldNames(trx, accountId, request));
    const inserted = await repository.insertCustomer(trx, {
      id: newId(),
      account_id: accountId,
      phone,
      name: input.name ?? null,
      email: input.email ?? null,
      source: input.source ?? null,
      country: countryOfPhone(phone),
      conversation_status: 'new',
      last_interaction_at: null,
      last_inbound_at: null,
      agent_id: null,
      team_id: null,
      bot,
      custom_fields: JSON.stringify(plan.fields),
      attribution: JSON.stringify(applyAttribution({}, attributionChanges(input))),
      created_at: now,
      updated_at: now,
    });
    if (!inserted) throw conflict('Customer already exists');
    await repository.adjustCustomFieldCounts(trx, accountId, plan.deltas);
    // The record is the row as the insert returned it, without labels: a customer just created has none.
    await recordCustomerChange(deps, trx, inserted, 'customer.created', () => ({ after: toCustomerRecord(inserted, []) }));
    return { skipped: [...request.malformed, ...plan.overflow] };
  });
}

/**
 * The customer with this phone, created from `input` when there is none (a message from a new
 * number, a template to a new contact). A concurrent creation of the same customer is no error.
 */
export async function ensureCustomer(deps: Deps, accountId: string, contact: NewContact): Promise<CustomerRow> {
  const { db } = deps.database;
  const existing = await findCustomer(db, accountId, contact.customer_phone);
  if (existing) return existing;
  try {
    await addCustomer(deps, accountId, customerFieldsInput.parse(contact));
  } catch (error) {
    if (!(error instanceof ApiError && error.statusCode === 409)) throw error;
  }
  return requireCustomer(db, accountId, contact.customer_phone);
}

/** Updates the fields sent; custom fields are applied whole or not at all. */
export async function editCustomer(deps: Deps, accountId: string, input: CustomerFieldsInput): Promise<{ processed: string[] }> {
  const request = customFieldRequest(input);
  if (request.malformed.length > 0) throw badRequest('Failed to update customer due to invalid input');
  const bot = input.bot_token ? await resolveBotToken(deps, accountId, input.bot_token) : undefined;
  const { dialect } = deps.database;
  return deps.database.db.transaction().execute(async (trx) => {
    await repository.lockAccount(trx, dialect, accountId);
    const customer = await requireCustomer(trx, accountId, input.customer_phone);
    const current = JSON.parse(customer.custom_fields) as CustomFields;
    const plan = planCustomFields(current, request.valid, await accountFieldNames(trx, accountId, request));
    if (plan.overflow.length > 0) throw badRequest(`Cannot add more than ${MAX_CUSTOM_FIELD_NAMES} custom fields per account`);
    await repository.adjustCustomFieldCounts(trx, accountId, plan.deltas);
    const updated = await repository.updateCustomerReturning(trx, accountId, customer.id, {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.email !== undefined && { email: input.email }),
      ...(input.source !== undefined && { source: input.source }),
      ...(bot !== undefined && { bot }),
      custom_fields: JSON.stringify(plan.fields),
      attribution: JSON.stringify(applyAttribution(JSON.parse(customer.attribution), attributionChanges(input))),
      updated_at: toStoredTime(deps.clock.now()),
    });
    if (updated) {
      // Before: the row this transaction read at its start (on SQLite nothing else writes in between).
      // After: the row as the update returned it. An edit does not touch labels: read once for both.
      await recordCustomerChange(deps, trx, customer, 'customer.updated', async () => {
        const labels = (await repository.labelNamesByCustomer(trx, accountId, [customer.id])).get(customer.id) ?? [];
        return { after: toCustomerRecord(updated, labels), before: toCustomerRecord(customer, labels) };
      });
    }
    return { processed: plan.processed };
  });
}

/** Deletes the customer with their messages, notes and labels, then their media files. */
export async function deleteCustomer(deps: Deps, accountId: string, phone: string): Promise<void> {
  const { dialect } = deps.database;
  const mediaKeys = await deps.database.db.transaction().execute(async (trx) => {
    await repository.lockAccount(trx, dialect, accountId);
    const customer = await requireCustomer(trx, accountId, phone);
    const names = Object.keys(JSON.parse(customer.custom_fields) as CustomFields);
    const media = await mediaKeysOf(trx, 'customer_id', customer.id);
    await repository.adjustCustomFieldCounts(trx, accountId, new Map(names.map((name) => [name, -1])));
    await repository.deleteCustomer(trx, accountId, customer.id);
    await repository.adjustCustomersCount(trx, accountId, -1);
    await recordLiveEvent(trx, { accountId, type: 'customer.deleted', customer, data: { customer_id: customer.id }, occurredAt: deps.clock.now() });
    return media;
  });
  await removeUnreferencedFiles(deps.database, deps.media, mediaKeys);
}

export async function getCustomer(deps: Deps, accountId: string, phone: string): Promise<CustomerRecord> {
  const found = isValidPhone(phone) ? await repository.findCustomerWithLabels(deps.database.db, accountId, phone) : undefined;
  if (!found) throw notFound(CUSTOMER_NOT_FOUND);
  return toCustomerRecord(found.customer, found.labels);
}

/**
 * A page of customers in three queries whatever the account's size: the kept count, the page, its
 * labels; in one snapshot, as the page is found from the end when that is nearer, which takes the count.
 */
export async function listCustomers(deps: Deps, accountId: string, page: number) {
  const { rows, total, pages, labels } = await deps.database.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const found = await readPage(
        page,
        PER_PAGE,
        () => repository.customersCount(trx, accountId),
        (limit, offset, total) => repository.listCustomersPage(trx, accountId, limit, offset, total),
      );
      return { ...found, labels: await repository.labelNamesByCustomer(trx, accountId, found.rows.map((row) => row.id)) };
    });
  return {
    customers: rows.map((row) => toCustomerRecord(row, labels.get(row.id) ?? [])),
    total,
    pages,
    current_page: page,
    per_page: PER_PAGE,
    total_pages: pages,
  };
}

/** What the inbox and the Mumble API change of a conversation: its status, assignment and bot. */
export type ConversationChange = Partial<Pick<CustomerRow, 'conversation_status' | 'agent_id' | 'team_id' | 'bot' | 'bot_paused_at' | 'bot_paused_by'>>;

/**
 * Assigning a person stops the conversation's running bot (people before bots): the bot stays
 * assigned, paused, until a person hands the conversation back.
 */
function withBotStoppedByAssignment(deps: Deps, customer: CustomerRow, patch: ConversationChange): ConversationChange {
  const assignsPerson = patch.agent_id != null && patch.agent_id !== customer.agent_id;
  const botRunning = (patch.bot ?? customer.bot) !== null && customer.bot_paused_at === null && patch.bot_paused_at === undefined;
  return assignsPerson && botRunning ? { ...patch, bot_paused_at: toStoredTime(deps.clock.now()), bot_paused_by: patch.agent_id! } : patch;
}

/**
 * Changes the status, assignment or bot of a conversation, with its webhook event and its live
 * events in the same transaction. Returns the customer as changed.
 */
export async function changeConversation(deps: Deps, customer: CustomerRow, change: ConversationChange): Promise<CustomerRow> {
  const patch = withBotStoppedByAssignment(deps, customer, change);
  return deps.database.db.transaction().execute(async (trx) => {
    const before = await customerRecordIn(trx, customer);
    const current = (await repository.findCustomerById(trx, customer.account_id, customer.id)) ?? customer;
    await repository.updateCustomer(trx, customer.account_id, customer.id, { ...patch, updated_at: toStoredTime(deps.clock.now()) });
    // People first: a person taking over (or another bot, or none) ends the running flow at once.
    if (patch.bot !== undefined || (patch.bot_paused_at !== undefined && patch.bot_paused_at !== null)) await endSession(trx, customer.id, toStoredTime(deps.clock.now()));
    const type = patch.conversation_status !== undefined ? 'conversation.status_changed' : 'customer.updated';
    await recordCustomerEvent(deps, trx, customer, type, before);
    const after = { ...current, ...patch };
    await recordConversationLiveEvents(deps, trx, current, after);
    return after;
  });
}

export async function setConversationStatus(deps: Deps, accountId: string, phone: string, status: string): Promise<void> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  await changeConversation(deps, customer, { conversation_status: status });
}

export async function assignAgent(deps: Deps, accountId: string, phone: string, agentId: string): Promise<void> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  await requireEntry(deps, 'agents', accountId, agentId);
  await changeConversation(deps, customer, { agent_id: agentId });
}

export async function assignTeam(deps: Deps, accountId: string, phone: string, teamId: string): Promise<void> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  await requireEntry(deps, 'teams', accountId, teamId);
  await changeConversation(deps, customer, { team_id: teamId });
}

/** A flow bot starts at once when the customer's 24-hour window is open (the step checks), otherwise on their next message. */
export async function assignBot(deps: Deps, accountId: string, phone: string, token: string): Promise<void> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  const bot = await resolveBotToken(deps, accountId, token);
  await changeConversation(deps, customer, { bot, bot_paused_at: null, bot_paused_by: null });
  if (bot !== null && bot !== AI_BOT.id) await enqueueBotStep(deps.database.db, { accountId, customerId: customer.id, event: { type: 'start' } }, deps.clock.now());
}
