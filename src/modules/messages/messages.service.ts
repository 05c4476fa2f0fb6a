import { ChannelError, type Channel, type InteractiveAction, type MediaSource, type SendResult } from '../../channels/channel.js';
import type { Kysely } from 'kysely';
import type { RequestAccount, CustomerRow, DB, NewMessageRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest, notFound } from '../../errors.js';
import { readPage } from '../../http/fields.js';
import { isMediaLink, linkExtension } from '../../media/media-link.js';
import type { MediaType } from '../../media/media-types.js';
import { requireMediaType, type MediaUpload } from '../../media/upload.js';
import { isValidPhone } from '../../phone.js';
import { recordMessageTime } from '../customers/customers.repository.js';
import { CUSTOMER_NOT_FOUND } from '../customers/customers.schema.js';
import { ensureCustomer, findCustomer, requireCustomer } from '../customers/customers.service.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import { requireTemplate, templateContent } from '../templates/templates.service.js';
import { isConversationOpen } from './conversation-window.js';
import { recordLiveEvent } from '../live/live-events.js';
import { applyPendingStatuses } from './ingest.js';
import { messageCreated, messageStatusChanged } from './message-live-events.js';
import { toMessageRecord } from './message-record.js';
import * as repository from './messages.repository.js';
import {
  CONVERSATION_CLOSED,
  FILE_OR_URL_REQUIRED,
  MEDIA_PHONE_REQUIRED,
  MESSAGE_NOT_FOUND,
  MESSAGING_DISABLED,
  PER_PAGE,
  SEND_MEDIA_FAILED,
  SEND_TEMPLATE_FAILED,
  SEND_TEXT_FAILED,
  type MessageRecord,
  type SendMediaInput,
  type SendTemplateInput,
  type SendTextInput,
} from './messages.schema.js';

/** `message_wa_id` is null while the channel holds the message back (a WhatsApp rate limit; see ChannelError). */
export type SentMessage = { id: number; message_wa_id: string | null };

/** What a new outbound message row holds besides its bookkeeping. */
type MessageContent = Pick<NewMessageRow, 'type' | 'text'> &
  Partial<Pick<NewMessageRow, 'media_url' | 'media_key' | 'media_mime_type' | 'media_filename' | 'template_id' | 'content' | 'sender_type' | 'sender_agent_id' | AiColumn>> & {
    claim?: SendClaim;
  };

/** What the AI bot keeps on its messages for the operator. */
type AiColumn = 'ai_model' | 'ai_prompt_tokens' | 'ai_completion_tokens';

/**
 * Runs in the transaction that records the message; false records and sends nothing (the send was
 * withdrawn meanwhile: a person took over from the bot that wanted to send it).
 */
export type SendClaim = (trx: Kysely<DB>) => Promise<boolean>;

/** Who sends a message: the Mumble API unless told (a person in the inbox: `agent` with their id; a bot; a campaign). */
export type MessageSender = Required<Pick<MessageContent, 'sender_type' | 'sender_agent_id'>> & Pick<MessageContent, 'claim' | AiColumn>;

/** A send whose claim said no: nothing was recorded or sent. */
export class SendWithdrawn extends Error {
  constructor() {
    super('the send was withdrawn before it was recorded');
    this.name = 'SendWithdrawn';
  }
}

const API_SENDER: MessageSender = { sender_type: 'api', sender_agent_id: null };

export function requireMessagingEnabled(account: RequestAccount): void {
  if (!account.messaging_enabled) throw new ApiError(401, MESSAGING_DISABLED);
}

/** The customer, if their 24-hour window is open; a phone that is no customer has no window. */
async function requireOpenConversation(deps: Deps, accountId: string, phone: string): Promise<CustomerRow> {
  const customer = await findCustomer(deps.database.db, accountId, phone);
  if (!customer || !isConversationOpen(customer, deps.clock.now())) throw badRequest(CONVERSATION_CLOSED);
  return customer;
}

const now = (deps: Deps) => toStoredTime(deps.clock.now());

/**
 * The one way a message goes out: committed as `pending` first (so it exists whatever happens next),
 * then handed to the channel; its WhatsApp id is recorded, or, when the channel refuses, it is
 * `failed` with the channel's reason and the endpoint answers `failure`.
 */
async function deliver(
  deps: Deps,
  account: RequestAccount,
  customer: CustomerRow,
  content: MessageContent,
  send: (channel: Channel, messageId: number) => Promise<SendResult>,
  failure: string,
): Promise<SentMessage> {
  const { db } = deps.database;
  const channel = await deps.channels.forAccount(account);
  const createdAt = now(deps);
  const { claim, ...columns } = content;
  // The inbox hears of the message when it is committed, as it will be sent.
  const id = await db.transaction().execute(async (trx) => {
    if (claim && !(await claim(trx))) throw new SendWithdrawn();
    const message = await repository.insertOutboundMessageForEvent(trx, {
      // Sent through the Mumble API unless the caller says who sent it (a person in the inbox, a bot, a campaign).
      sender_type: 'api',
      ...columns,
      account_id: account.id,
      customer_id: customer.id,
      message_wa_id: null,
      direction: 'outbound',
      business_phone: channel.phoneNumber,
      status: 'pending',
      error_code: null,
      error_title: null,
      created_at: createdAt,
      updated_at: createdAt,
    });
    const assignment = { id: customer.id, agent_id: message.customer_agent_id, team_id: message.customer_team_id };
    await recordLiveEvent(trx, { ...messageCreated(assignment, message), accountId: account.id, occurredAt: deps.clock.now() });
    return message.id;
  });
  // WhatsApp must not deliver a message whose record a power cut could still take away.
  await deps.database.durable();
  let result: SendResult;
  try {
    result = await send(channel, id);
  } catch (error) {
    const reason = error instanceof ChannelError ? error : new ChannelError('Channel failure');
    deps.logger.warn({ err: error, messageId: id, disposition: reason.disposition }, 'the channel did not take a message');
    if (reason.disposition === 'queued' || reason.disposition === 'unknown') {
      // Not failed: the channel sends it later (queued), or a status will tell whether it went (unknown).
      await notePendingReason(deps, account.id, id, reason.code, reason.title);
      if (reason.disposition === 'queued') return { id, message_wa_id: null };
      throw new ApiError(500, failure);
    }
    await markSendFailed(deps, account.id, id, reason.code, reason.title);
    deps.metrics.sendFailures.inc({ channel: account.channel_type, code: String(reason.code ?? 'none') });
    if (reason.disposition === 'window_closed') throw badRequest(CONVERSATION_CLOSED);
    throw new ApiError(500, failure);
  }
  await db.transaction().execute(async (trx) => {
    await repository.recordWaId(trx, id, result.messageWaId, now(deps));
    await recordMessageTime(trx, customer.id, 'outbound', createdAt, now(deps));
  });
  deps.metrics.messagesSent.inc({ channel: account.channel_type, type: content.type, sender: content.sender_type ?? 'api' });
  await applyPendingStatuses(deps, account.id, result.messageWaId);
  return { id, message_wa_id: result.messageWaId };
}

/** Changes an outbound message's status (`change`) and tells the inbox (`message.status`), in one transaction. */
async function changeSendStatus(deps: Deps, accountId: string, messageId: number, change: (trx: Kysely<DB>) => Promise<void>): Promise<void> {
  await deps.database.db.transaction().execute(async (trx) => {
    await change(trx);
    const row = await repository.findMessageForEvent(trx, accountId, messageId);
    if (!row) return;
    const assignment = { id: row.customer_id, agent_id: row.customer_agent_id, team_id: row.customer_team_id };
    await recordLiveEvent(trx, { ...messageStatusChanged(assignment, row), accountId, occurredAt: deps.clock.now() });
  });
}

/** A send the channel (or a retry of it) refused for good: `failed`, with the reason. */
export async function markSendFailed(deps: Deps, accountId: string, messageId: number, code: number | null, title: string): Promise<void> {
  await changeSendStatus(deps, accountId, messageId, (trx) => repository.markFailed(trx, messageId, code, title, now(deps)));
}

/** Why a message is still `pending`: the channel holds it back (a rate limit), or its outcome is not known yet. */
export async function notePendingReason(deps: Deps, accountId: string, messageId: number, code: number | null, title: string): Promise<void> {
  await changeSendStatus(deps, accountId, messageId, (trx) => repository.notePendingError(trx, messageId, code, title, now(deps)));
}

export async function sendText(deps: Deps, account: RequestAccount, input: SendTextInput, sender = API_SENDER): Promise<SentMessage> {
  requireMessagingEnabled(account);
  const customer = await requireOpenConversation(deps, account.id, input.customer_phone);
  return deliver(deps, account, customer, { type: 'text', text: input.text, ...sender }, (channel, messageId) => channel.sendText({ messageId, to: customer.phone, text: input.text }), SEND_TEXT_FAILED);
}

/** Reply buttons or a list (a bot's question); the row keeps the buttons or rows as its content. */
export async function sendInteractive(deps: Deps, account: RequestAccount, customerPhone: string, body: string, action: InteractiveAction, sender: MessageSender): Promise<SentMessage> {
  requireMessagingEnabled(account);
  const customer = await requireOpenConversation(deps, account.id, customerPhone);
  return deliver(
    deps,
    account,
    customer,
    { type: 'interactive', text: body, content: JSON.stringify({ interactive: action }), ...sender },
    (channel, messageId) => channel.sendInteractive({ messageId, to: customer.phone, body, action }),
    SEND_TEXT_FAILED,
  );
}

/** A button or list row of the customer's last interactive message, by its id: what the customer tapped. */
export async function findInteractiveOption(deps: Deps, accountId: string, phone: string, id: string): Promise<{ kind: 'button_reply' | 'list_reply'; title: string } | undefined> {
  const customer = await findCustomer(deps.database.db, accountId, phone);
  const content = customer && (await repository.lastInteractiveContent(deps.database.db, customer.id));
  if (!content) return undefined;
  const { interactive } = JSON.parse(content) as { interactive: InteractiveAction };
  if ('buttons' in interactive) {
    const button = interactive.buttons.find((candidate) => candidate.id === id);
    return button && { kind: 'button_reply', title: button.title };
  }
  const row = interactive.sections.flatMap((section) => section.rows).find((candidate) => candidate.id === id);
  return row && { kind: 'list_reply', title: row.title };
}

interface MediaToSend {
  type: MediaType;
  source: MediaSource;
  upload?: MediaUpload;
}

/** The file uploaded with the request, or else the link WhatsApp fetches; its extension decides the media type. */
function mediaToSend(input: SendMediaInput): MediaToSend {
  const { file } = input;
  if (file) return { type: file.type, source: { stored: { key: file.staged.key, mimeType: file.type.mimeType } }, upload: file };
  if (!input.media_url) throw badRequest(FILE_OR_URL_REQUIRED);
  if (!isMediaLink(input.media_url)) throw badRequest(MEDIA_LINK_INVALID);
  return { type: requireMediaType(linkExtension(input.media_url, input.filename)), source: { link: input.media_url } };
}

export async function sendMedia(deps: Deps, account: RequestAccount, input: SendMediaInput, sender = API_SENDER): Promise<SentMessage> {
  const { type, source, upload } = mediaToSend(input);
  if (!input.customer_phone) throw badRequest(MEDIA_PHONE_REQUIRED);
  requireMessagingEnabled(account);
  const customer = await requireOpenConversation(deps, account.id, input.customer_phone);
  const filename = input.filename ?? upload?.filename ?? null;
  const caption = input.caption ?? null;
  if (upload) await deps.media.commit(upload.staged);
  return deliver(
    deps,
    account,
    customer,
    {
      type: type.kind,
      text: caption,
      media_url: 'link' in source ? source.link : null,
      media_key: upload?.staged.key ?? null,
      media_mime_type: type.mimeType,
      media_filename: filename,
      ...sender,
    },
    (channel, messageId) => channel.sendMedia({ messageId, to: customer.phone, kind: type.kind, source, caption, filename }),
    SEND_MEDIA_FAILED,
  );
}

/**
 * An approved template, to a customer or to a phone that becomes one (from the request's name,
 * email, source and bot_token). Needs no open window: this is how a conversation starts.
 */
export async function sendTemplate(deps: Deps, account: RequestAccount, input: SendTemplateInput, sender = API_SENDER): Promise<SentMessage> {
  requireMessagingEnabled(account);
  if (!isValidPhone(input.customer_phone)) throw notFound(CUSTOMER_NOT_FOUND);
  const template = await requireTemplate(deps, account.id, input.template_id);
  const content = templateContent(template, {
    variables: input.variables,
    buttonVariables: input.button_variables ?? [],
    mediaLink: input.media_link,
  });
  const { customer_phone, name, email, source, bot_token } = input;
  const customer = await ensureCustomer(deps, account.id, { customer_phone, name, email, source, bot_token });
  const { templateId, renderedText, ...message } = content;
  return deliver(
    deps,
    account,
    customer,
    { type: 'template', text: renderedText, template_id: templateId, media_url: message.headerMedia?.link ?? null, ...sender },
    (channel, messageId) => channel.sendTemplate({ messageId, to: customer.phone, ...message }),
    SEND_TEMPLATE_FAILED,
  );
}

export async function getMessage(deps: Deps, accountId: string, messageWaId: string): Promise<MessageRecord> {
  const row = await repository.findMessageByWaId(deps.database.db, accountId, messageWaId);
  if (!row) throw notFound(MESSAGE_NOT_FOUND);
  return toMessageRecord(row);
}

/** A page of the customer's messages, newest first. */
export async function getConversation(deps: Deps, accountId: string, phone: string, page: number) {
  const { db } = deps.database;
  const customer = await requireCustomer(db, accountId, phone);
  const { rows, total, pages } = await readPage(
    page,
    PER_PAGE,
    () => repository.countConversation(db, customer.id),
    (limit, offset) => repository.listConversationPage(db, customer.id, limit, offset),
  );
  return { messages: rows.map(toMessageRecord), total, pages, current_page: page };
}

export async function isActiveConversation(deps: Deps, accountId: string, phone: string): Promise<boolean> {
  const customer = await requireCustomer(deps.database.db, accountId, phone);
  return isConversationOpen(customer, deps.clock.now());
}
