import type { RequestAccount, CustomerRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest, notFound } from '../../errors.js';
import type { Viewer } from '../../http/viewer.js';
import { newId } from '../../ids.js';
import type { MediaUpload } from '../../media/upload.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { labelNamesByCustomer } from '../customers/customers.repository.js';
import { changeConversation, type ConversationChange } from '../customers/customers.service.js';
import { requireEntry } from '../directory/directory.service.js';
import { labelCustomer, unlabelCustomer } from '../labels/labels.service.js';
import { recordLiveEvent } from '../live/live-events.js';
import { MESSAGING_DISABLED } from '../messages/messages.schema.js';
import { sendMedia, sendTemplate, sendText, type MessageSender, type SentMessage } from '../messages/messages.service.js';
import * as repository from './conversations.repository.js';
import { conversationDetailOf, requireVisibleConversation } from './conversations.service.js';
import { toInboxMessage, toInboxNote, type InboxMessage, type InboxNote } from './inbox-records.js';
import { CONVERSATION_NOT_FOUND, type ConversationPatch } from './inbox.schema.js';

/**
 * What a signed-in person does to a conversation they may see (anything else is 404 `Conversation
 * not found`). Each change records its live events in its own transaction: here for notes and read
 * marks; in the shared services for messages (messages.service), labels (labels.service), and
 * status, assignment and the bot (customers.service changeConversation).
 */

export const NO_BOT = 'This conversation has no bot';

const now = (deps: Deps) => toStoredTime(deps.clock.now());

/**
 * The Mumble API answers a send of an account whose messaging is off with 401; in the inbox a 401
 * means "sign in again", so the same message comes as 403.
 */
async function asPerson<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof ApiError && error.statusCode === 401 && error.message === MESSAGING_DISABLED) throw new ApiError(403, MESSAGING_DISABLED);
    throw error;
  }
}

/** The conversation as it is after a change, for the reply (shown once even when the change hid it from the person). */
async function currentConversation(deps: Deps, viewer: Viewer, customer: CustomerRow) {
  const row = await repository.findConversation(deps.database.db, viewer.accountId, customer.id);
  if (!row) throw notFound(CONVERSATION_NOT_FOUND);
  return conversationDetailOf(deps, viewer, row);
}

/** People before bots: a person's action stops the conversation's bot (it stays assigned, paused, until handed back). */
async function pauseRunningBot(deps: Deps, viewer: Viewer, customer: CustomerRow): Promise<void> {
  if (customer.bot === null || customer.bot_paused_at !== null) return;
  await changeConversation(deps, customer, { bot_paused_at: now(deps), bot_paused_by: viewer.agentId });
}

/** The Mumble send's recipient fields for an existing customer (its contact fields create new customers only). */
const recipient = (customer: CustomerRow) => ({ customer_phone: customer.phone, email: undefined, bot_token: undefined });

type Send = (account: RequestAccount, customer: CustomerRow, sender: MessageSender) => Promise<SentMessage>;

/**
 * A person's reply: the Mumble API's send (same 24-hour rule, same errors), as `agent` with the
 * person's id. Once it is sent (or queued behind a WhatsApp rate limit), a running bot is paused.
 */
async function reply(deps: Deps, viewer: Viewer, customerId: string, send: Send): Promise<InboxMessage> {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  const account = await requireAccount(deps, viewer.accountId);
  const sent = await asPerson(() => send(account, customer, { sender_type: 'agent', sender_agent_id: viewer.agentId }));
  const current = await repository.findConversation(deps.database.db, viewer.accountId, customer.id);
  if (current) await pauseRunningBot(deps, viewer, current);
  const message = await repository.findMessage(deps.database.db, viewer.accountId, sent.id);
  return toInboxMessage(message!);
}

export function replyWithText(deps: Deps, viewer: Viewer, customerId: string, text: string): Promise<InboxMessage> {
  return reply(deps, viewer, customerId, (account, customer, sender) => sendText(deps, account, { ...recipient(customer), text }, sender));
}

export interface MediaReply {
  file?: MediaUpload;
  media_url?: string;
  caption?: string;
  filename?: string;
}

export function replyWithMedia(deps: Deps, viewer: Viewer, customerId: string, media: MediaReply): Promise<InboxMessage> {
  return reply(deps, viewer, customerId, (account, customer, sender) => sendMedia(deps, account, { ...media, ...recipient(customer) }, sender));
}

export interface TemplateReply {
  template_id: string;
  variables: string[];
  button_variables: string[];
  media_link?: string;
}

/** An approved template: needs no open window (this is how a closed conversation restarts). */
export function replyWithTemplate(deps: Deps, viewer: Viewer, customerId: string, template: TemplateReply): Promise<InboxMessage> {
  return reply(deps, viewer, customerId, (account, customer, sender) => sendTemplate(deps, account, { ...template, ...recipient(customer) }, sender));
}

/** A private note: kept beside the messages, never sent to WhatsApp, never shown by the Mumble API. */
export async function addNote(deps: Deps, viewer: Viewer, customerId: string, text: string): Promise<InboxNote> {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  return recordNote(deps, customer, { id: viewer.agentId, name: viewer.name }, text);
}

/** Keeps a note on the conversation and tells the inbox; a note without an author is the bot's (the AI's hand-over reason). */
export async function recordNote(deps: Deps, customer: Pick<CustomerRow, 'id' | 'account_id'>, author: { id: string; name: string } | null, text: string): Promise<InboxNote> {
  const note = { id: newId(), account_id: customer.account_id, customer_id: customer.id, agent_id: author?.id ?? null, text, created_at: now(deps) };
  const record = toInboxNote({ ...note, author_name: author?.name ?? null });
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.insertNote(trx, note);
    // The assignment as it stands in this transaction decides who hears of it.
    const current = await repository.findConversation(trx, customer.account_id, customer.id);
    if (current) await recordLiveEvent(trx, { accountId: customer.account_id, type: 'note.created', customer: current, data: { customer_id: customer.id, note: record }, occurredAt: deps.clock.now() });
  });
  return record;
}

/**
 * Status and assignment. Any person who may see the conversation may assign it to any agent or team
 * of the account (themselves included), or unassign it (null). Assigning an agent pauses a running
 * bot (customers.service). Only what differs from the conversation as it is gets changed.
 */
export async function changeConversationAsPerson(deps: Deps, viewer: Viewer, customerId: string, patch: ConversationPatch) {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  if (patch.agent_id) await requireEntry(deps, 'agents', viewer.accountId, patch.agent_id);
  if (patch.team_id) await requireEntry(deps, 'teams', viewer.accountId, patch.team_id);
  const change: ConversationChange = {
    ...(patch.status !== undefined && patch.status !== customer.conversation_status && { conversation_status: patch.status }),
    ...(patch.agent_id !== undefined && patch.agent_id !== customer.agent_id && { agent_id: patch.agent_id }),
    ...(patch.team_id !== undefined && patch.team_id !== customer.team_id && { team_id: patch.team_id }),
  };
  if (Object.keys(change).length > 0) await changeConversation(deps, customer, change);
  return currentConversation(deps, viewer, customer);
}

async function labelsOf(deps: Deps, customer: CustomerRow): Promise<string[]> {
  return (await labelNamesByCustomer(deps.database.db, customer.account_id, [customer.id])).get(customer.id) ?? [];
}

/** Adds one of the account's labels (get-labels); adding it twice changes nothing. */
export async function addLabel(deps: Deps, viewer: Viewer, customerId: string, label: string): Promise<string[]> {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  await labelCustomer(deps, customer, label);
  return labelsOf(deps, customer);
}

export async function removeLabel(deps: Deps, viewer: Viewer, customerId: string, label: string): Promise<string[]> {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  await unlabelCustomer(deps, customer, label);
  return labelsOf(deps, customer);
}

/**
 * The person has read the conversation up to its latest message: their read mark moves there (never
 * back), and their other sessions hear it (`conversation.read`, to this person only).
 */
export async function markRead(deps: Deps, viewer: Viewer, customerId: string): Promise<{ last_read_message_id: number | null; unread: number }> {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  return deps.database.db.transaction().execute(async (trx) => {
    const latest = await repository.latestMessageId(trx, customer.id);
    if (latest === undefined) return { last_read_message_id: null, unread: 0 };
    await repository.markRead(trx, viewer.agentId, customer.id, latest, now(deps));
    const current = (await repository.findConversation(trx, viewer.accountId, customer.id)) ?? customer;
    await recordLiveEvent(trx, {
      accountId: viewer.accountId,
      type: 'conversation.read',
      customer: current,
      recipientAgentId: viewer.agentId,
      data: { customer_id: customer.id, last_read_message_id: latest, unread: 0 },
      occurredAt: deps.clock.now(),
    });
    return { last_read_message_id: latest, unread: 0 };
  });
}

/** A person takes the conversation over: its bot stays assigned but does not answer. Taking over twice changes nothing. */
export async function takeOverFromBot(deps: Deps, viewer: Viewer, customerId: string) {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  if (customer.bot === null) throw badRequest(NO_BOT);
  await pauseRunningBot(deps, viewer, customer);
  return currentConversation(deps, viewer, customer);
}

/** The bot answers again. Handing back a bot that was not paused changes nothing. */
export async function handBackToBot(deps: Deps, viewer: Viewer, customerId: string) {
  const customer = await requireVisibleConversation(deps, viewer, customerId);
  if (customer.bot === null) throw badRequest(NO_BOT);
  if (customer.bot_paused_at !== null) await changeConversation(deps, customer, { bot_paused_at: null, bot_paused_by: null });
  return currentConversation(deps, viewer, customer);
}
