import type { Kysely } from 'kysely';
import { ChannelError, type Channel } from '../../channels/channel.js';
import type { RequestAccount, CampaignRecipientRow, CampaignRow, CustomerRow, DB, MessageRow, TemplateRow } from '../../db/tables.js';
import { toApiTime, toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest, notFound } from '../../errors.js';
import { readPage } from '../../http/fields.js';
import { newId } from '../../ids.js';
import { enqueueJob } from '../../jobs/queue.js';
import type { JobHandler } from '../../jobs/worker.js';
import { findAccount } from '../accounts/accounts.repository.js';
import { renderCustomerText } from '../customers/customer-text.js';
import { CUSTOMER_NOT_FOUND } from '../customers/customers.schema.js';
import { LABEL_NOT_FOUND, listLabels } from '../labels/labels.service.js';
import { recordLiveEvents } from '../live/live-events.js';
import { applyPendingStatuses } from '../messages/ingest.js';
import { messageCreated } from '../messages/message-live-events.js';
import { markSendFailed, notePendingReason, requireMessagingEnabled } from '../messages/messages.service.js';
import { isValidPhone } from '../../phone.js';
import { requireTemplate, templateContent, type TemplateContent } from '../templates/templates.service.js';
import { recordEvent } from '../webhooks/events.js';
import { findChannelByAccount } from '../whatsapp/whatsapp.repository.js';
import * as repository from './campaigns.repository.js';
import { OPTED_OUT_LABEL } from './opt-out-label.js';
import {
  CAMPAIGN_FINISHED,
  CAMPAIGN_NOT_FOUND,
  CAMPAIGN_NOT_PAUSED,
  CAMPAIGN_NOT_RUNNING,
  NO_RECIPIENTS,
  RECIPIENTS_PER_PAGE,
  SCHEDULE_INVALID,
  type Audience,
  type CampaignCounts,
  type CampaignRecord,
  type CreateCampaignInput,
  type RecipientRecord,
} from './campaigns.schema.js';

/**
 * Campaigns (docs/campaigns.md): a template to a segment, each recipient a row with its own frozen
 * variables, sent by one durable job per campaign (a job group: one sender at a time, whichever
 * instance runs it) at the campaign's rate. A recipient is taken in the transaction that records its
 * message, so it gets at most one message whatever crashes, pauses or second instances do.
 */

export const CAMPAIGN_SEND_JOB = 'campaign.send';
/**
 * A scheduled campaign waits in a job of its own, outside its number's group: a job waiting in the
 * group would hold up every campaign of the number queued after it until its time.
 */
export const CAMPAIGN_START_JOB = 'campaign.start';
/** Meta's errors a retry can cure: throughput (130429), pair rate (131056), generic and service errors. */
export const RETRYABLE_CODES = [130429, 131056, 131000, 131016, 1, 2];
/** A reply this long after the campaign's message counts as `replied`. */
const REPLY_WINDOW_HOURS = 72;
/** Meta's messaging limit counts unique recipients over a rolling day. */
const DAY_MS = 24 * 3600_000;
/** Meta's pair rate: one message from the number to the same customer per 6 seconds. */
const PAIR_RATE_MS = 6000;
/** After WhatsApp's throughput limit (130429) held a send back, the next round waits this much longer. */
const SLOWDOWN_MS = 5000;
/** A round's recipients are taken (and their messages recorded) a tenth of a second's worth at a time. */
const SLICE_MS = 100;

/** Every campaign of an account's number sends in one job group: one round at a time, so the number's rate is never exceeded. */
const numberGroup = (accountId: string) => `campaigns:${accountId}`;

const now = (deps: Deps) => toStoredTime(deps.clock.now());

interface FrozenValues {
  variables: string[];
  button_variables: string[];
}

function toRecord(row: CampaignRow, counts?: CampaignCounts): CampaignRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as CampaignRecord['status'],
    template_id: row.template_id,
    recipients: Number(row.recipients_count),
    rate_per_second: Number(row.rate_per_second),
    scheduled_at: toApiTime(row.scheduled_at),
    started_at: toApiTime(row.started_at),
    completed_at: toApiTime(row.completed_at),
    created_at: toApiTime(row.created_at)!,
    ...(counts && { counts }),
  };
}

/** The labels the audience names, by lower-case name; 404 `Label not found` for one the account lacks. */
async function audienceLabels(deps: Deps, accountId: string, audience: Audience): Promise<Map<string, string>> {
  const labels = new Map((await listLabels(deps, accountId)).map((label) => [label.name.toLowerCase(), label.id]));
  for (const name of [...(audience.labels_any ?? []), ...(audience.labels_all ?? []), ...(audience.exclude_labels ?? [])]) {
    if (!labels.has(name.toLowerCase())) throw notFound(LABEL_NOT_FOUND);
  }
  return labels;
}

/** The first customer the audience selects now: a campaign's sample recipient (its preview). */
export async function firstOfAudience(deps: Deps, accountId: string, audience: Audience): Promise<CustomerRow | undefined> {
  return repository.firstOfAudience(deps.database.db, accountId, audience, await audienceLabels(deps, accountId, audience));
}

function parseSchedule(deps: Deps, scheduledAt: string | undefined): Date | null {
  if (scheduledAt === undefined) return null;
  const at = new Date(scheduledAt);
  if (Number.isNaN(at.getTime()) || at.getTime() <= deps.clock.now().getTime()) throw badRequest(SCHEDULE_INVALID);
  return at;
}

export async function createCampaign(deps: Deps, account: RequestAccount, input: CreateCampaignInput): Promise<CampaignRecord> {
  const template = await requireTemplate(deps, account.id, input.template_id);
  // The template's rules (approved, as many variables as it has) with placeholder values.
  templateContent(template, { variables: input.variables.map(() => 'x'), buttonVariables: input.button_variables.map(() => 'x'), mediaLink: input.media_link });
  const labels = await audienceLabels(deps, account.id, input.audience);
  const scheduledAt = parseSchedule(deps, input.scheduled_at);
  const recipients = await repository.countAudience(deps.database.db, account.id, input.audience, labels);
  if (recipients === 0) throw badRequest(NO_RECIPIENTS);
  const at = now(deps);
  const row: CampaignRow = {
    id: newId(),
    account_id: account.id,
    name: input.name,
    template_id: template.id,
    audience: JSON.stringify(input.audience),
    variables: JSON.stringify(input.variables),
    button_variables: JSON.stringify(input.button_variables),
    media_link: input.media_link ?? null,
    status: 'scheduled',
    rate_per_second: input.rate_per_second,
    recipients_count: recipients,
    scheduled_at: scheduledAt && toStoredTime(scheduledAt),
    started_at: null,
    completed_at: null,
    created_at: at,
    updated_at: at,
  };
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.insertCampaign(trx, row);
    if (scheduledAt) await enqueueJob(trx, { type: CAMPAIGN_START_JOB, payload: { campaignId: row.id }, runAt: scheduledAt, now: deps.clock.now() });
    else await enqueueSending(deps, row, undefined, trx);
  });
  return toRecord(row);
}

/**
 * The campaign starts: its audience as it is now becomes its recipients, each with their own
 * variables. A customer who opted out, or whose variable has no value and no fallback, is skipped
 * with the reason.
 */
async function startCampaign(deps: Deps, campaign: CampaignRow): Promise<boolean> {
  const audience = JSON.parse(campaign.audience) as Audience;
  const labels = await audienceLabels(deps, campaign.account_id, audience).catch(() => undefined);
  const customers = labels ? await repository.selectAudience(deps.database.db, campaign.account_id, audience, labels, OPTED_OUT_LABEL) : [];
  const values = { variables: JSON.parse(campaign.variables) as string[], button_variables: JSON.parse(campaign.button_variables) as string[] };
  const at = now(deps);
  const rows = customers.map((customer, position): CampaignRecipientRow => {
    const rendered = (list: string[]) => list.map((value) => renderCustomerText(value, customer).text.trim());
    const frozen: FrozenValues = { variables: rendered(values.variables), button_variables: rendered(values.button_variables) };
    const optedOut = customer.opted_out;
    const empty = [...frozen.variables, ...frozen.button_variables].some((value) => value === '');
    const reason = optedOut ? 'opted_out' : empty ? 'variable_without_value' : null;
    return {
      id: newId(),
      campaign_id: campaign.id,
      account_id: campaign.account_id,
      customer_id: customer.id,
      phone: customer.phone,
      variables: JSON.stringify(frozen),
      position,
      state: reason ? 'skipped' : 'queued',
      reason,
      message_id: null,
      created_at: at,
      updated_at: at,
    };
  });
  return deps.database.db.transaction().execute(async (trx) => {
    if (!(await repository.moveCampaign(trx, campaign.id, ['scheduled'], { status: 'running', started_at: at, recipients_count: rows.length }, at))) return false;
    await repository.insertRecipients(trx, rows);
    return true;
  });
}

async function requireCampaign(deps: Deps, accountId: string, id: string): Promise<CampaignRow> {
  const campaign = await repository.findCampaign(deps.database.db, accountId, id);
  if (!campaign) throw notFound(CAMPAIGN_NOT_FOUND);
  return campaign;
}

/** What became of the recipients: their state, or their message's status once they have one. */
export async function campaignCounts(deps: Deps, campaignId: string): Promise<CampaignCounts> {
  const counts: CampaignCounts = { queued: 0, sending: 0, sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, skipped: 0 };
  for (const row of await repository.countByStatus(deps.database.db, campaignId)) counts[recipientStatus(row)] += row.recipients;
  counts.replied = await repository.countReplied(deps.database.db, campaignId, REPLY_WINDOW_HOURS);
  return counts;
}

function recipientStatus(row: Pick<repository.RecipientView, 'state' | 'message_status'>): RecipientRecord['status'] {
  if (row.state !== 'sent') return row.state as RecipientRecord['status'];
  if (row.message_status === 'pending' || row.message_status === null) return 'sending';
  return row.message_status as RecipientRecord['status'];
}

export async function getCampaign(deps: Deps, accountId: string, id: string): Promise<CampaignRecord> {
  const campaign = await requireCampaign(deps, accountId, id);
  return toRecord(campaign, await campaignCounts(deps, campaign.id));
}

export async function listCampaigns(deps: Deps, accountId: string): Promise<CampaignRecord[]> {
  return (await repository.listCampaigns(deps.database.db, accountId)).map((row) => toRecord(row));
}

/** A page of the campaign's recipients (of one status), paged and filtered by the database. */
export async function getRecipients(deps: Deps, accountId: string, id: string, page: number, status?: RecipientRecord['status']) {
  const campaign = await requireCampaign(deps, accountId, id);
  const { db } = deps.database;
  const { rows, total, pages } = await readPage(
    page,
    RECIPIENTS_PER_PAGE,
    () => repository.countRecipients(db, campaign.id, status),
    (limit, offset) => repository.recipientsPage(db, campaign.id, status, limit, offset),
  );
  const recipients = rows.map((row) => ({
    phone: row.phone,
    status: recipientStatus(row),
    message_wa_id: row.message_wa_id,
    error_code: row.error_code === null ? null : Number(row.error_code),
    error_title: row.error_title,
    reason: row.reason,
  }));
  return { recipients, total, pages, current_page: page };
}

/** The campaign's next round, in its number's group (`db`: a transaction to enqueue it in). */
async function enqueueSending(deps: Deps, campaign: Pick<CampaignRow, 'id' | 'account_id'>, runAt?: Date, db: Kysely<DB> = deps.database.db): Promise<void> {
  await enqueueJob(db, { type: CAMPAIGN_SEND_JOB, payload: { campaignId: campaign.id }, groupKey: numberGroup(campaign.account_id), runAt, now: deps.clock.now() });
}

export async function pauseCampaign(deps: Deps, accountId: string, id: string): Promise<CampaignRecord> {
  const campaign = await requireCampaign(deps, accountId, id);
  if (!(await repository.moveCampaign(deps.database.db, campaign.id, ['running', 'scheduled'], { status: 'paused' }, now(deps)))) throw badRequest(CAMPAIGN_NOT_RUNNING);
  return getCampaign(deps, accountId, id);
}

/** A paused campaign goes on (one that never started starts now). */
export async function resumeCampaign(deps: Deps, accountId: string, id: string): Promise<CampaignRecord> {
  const campaign = await requireCampaign(deps, accountId, id);
  const next = campaign.started_at === null ? 'scheduled' : 'running';
  if (!(await repository.moveCampaign(deps.database.db, campaign.id, ['paused'], { status: next }, now(deps)))) throw badRequest(CAMPAIGN_NOT_PAUSED);
  await enqueueSending(deps, campaign);
  return getCampaign(deps, accountId, id);
}

export async function cancelCampaign(deps: Deps, accountId: string, id: string): Promise<CampaignRecord> {
  const campaign = await requireCampaign(deps, accountId, id);
  const at = now(deps);
  await deps.database.db.transaction().execute(async (trx) => {
    if (!(await repository.moveCampaign(trx, campaign.id, ['scheduled', 'running', 'paused'], { status: 'cancelled', completed_at: at }, at))) throw badRequest(CAMPAIGN_FINISHED);
    await repository.skipQueued(trx, campaign.id, 'cancelled', at);
  });
  return getCampaign(deps, accountId, id);
}

/** Recipients whose message failed for a reason a retry can cure are queued again, and the campaign runs. */
export async function retryFailed(deps: Deps, accountId: string, id: string): Promise<CampaignRecord & { requeued: number }> {
  const campaign = await requireCampaign(deps, accountId, id);
  if (campaign.status === 'cancelled') throw badRequest(CAMPAIGN_FINISHED);
  const at = now(deps);
  const requeued = await deps.database.db.transaction().execute(async (trx) => {
    const count = await repository.requeueFailed(trx, campaign.id, RETRYABLE_CODES, at);
    if (count > 0 && campaign.status === 'completed') await repository.moveCampaign(trx, campaign.id, ['completed'], { status: 'running', completed_at: null }, at);
    return count;
  });
  if (requeued > 0) await enqueueSending(deps, campaign);
  return { ...(await getCampaign(deps, accountId, id)), requeued };
}

/**
 * How many more unique customers the number may reach in the rolling day (its messaging-limit
 * tier), and when the earliest of the day's sends leaves the window.
 */
async function dailyBudget(deps: Deps, account: RequestAccount): Promise<{ left: number; rollsOverAt: Date | null }> {
  if (account.campaign_daily_limit === null) return { left: Number.POSITIVE_INFINITY, rollsOverAt: null };
  const since = toStoredTime(new Date(deps.clock.now().getTime() - DAY_MS));
  const reach = await repository.campaignReach(deps.database.db, account.id, since);
  return { left: Number(account.campaign_daily_limit) - reach.customers, rollsOverAt: reach.earliest ? new Date(Date.parse(reach.earliest) + DAY_MS) : null };
}

/** A recipient ready to send: what the channel is given and what the message records. */
interface Prepared {
  recipient: repository.QueuedRecipient;
  content: Omit<TemplateContent, 'renderedText'>;
  text: string;
}

/** A recipient taken and its message recorded (pending), not yet handed to WhatsApp. */
interface Recorded {
  prepared: Prepared;
  message: MessageRow;
}

/**
 * What each recipient of the round is sent, or why it cannot be (the same refusals, in the same
 * order, as a single template send: messaging off, the number invalid, the template not approved or
 * its variables not fitting). Those refused fail with the reason, before any message.
 */
async function prepareRound(deps: Deps, account: RequestAccount, campaign: CampaignRow, batch: repository.QueuedRecipient[]): Promise<{ sendable: Prepared[]; refused: number }> {
  const refusals = new Map<string, string[]>();
  const refuse = (recipient: repository.QueuedRecipient, error: ApiError) => refusals.set(error.message, [...(refusals.get(error.message) ?? []), recipient.id]);
  let template: TemplateRow | ApiError;
  try {
    requireMessagingEnabled(account);
    template = await requireTemplate(deps, account.id, campaign.template_id);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    template = error;
  }
  const sendable: Prepared[] = [];
  for (const recipient of batch) {
    if (template instanceof ApiError && template.statusCode === 401) refuse(recipient, template);
    else if (!isValidPhone(recipient.phone)) refuse(recipient, notFound(CUSTOMER_NOT_FOUND));
    else if (template instanceof ApiError) refuse(recipient, template);
    else {
      const frozen = JSON.parse(recipient.variables) as FrozenValues;
      try {
        const { renderedText, ...content } = templateContent(template, { variables: frozen.variables, buttonVariables: frozen.button_variables, mediaLink: campaign.media_link ?? undefined });
        sendable.push({ recipient, content, text: renderedText });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        refuse(recipient, error);
      }
    }
  }
  for (const [reason, ids] of refusals) await repository.failRecipients(deps.database.db, ids, reason, now(deps));
  return { sendable, refused: [...refusals.values()].reduce((sum, ids) => sum + ids.length, 0) };
}

/**
 * Takes a slice of the round's recipients and records their messages as `pending`, in ONE
 * transaction: a recipient is taken only while queued, its campaign running and its customer not
 * written to in the last 6 seconds, and exactly the recipients taken get a message, each tied to
 * it. Each message's id goes to WhatsApp with its send (the idempotency key the status webhooks
 * echo), so a send whose answer is lost is reconciled, never repeated.
 */
async function recordSlice(deps: Deps, account: RequestAccount, campaign: CampaignRow, businessPhone: string, slice: Prepared[]): Promise<Recorded[]> {
  const at = now(deps);
  const pairSince = toStoredTime(new Date(deps.clock.now().getTime() - PAIR_RATE_MS));
  return deps.database.db.transaction().execute(async (trx) => {
    const taken = new Set(await repository.claimRecipients(trx, campaign.id, slice.map((item) => item.recipient.id), at, pairSince));
    const chosen = slice.filter((item) => taken.has(item.recipient.id));
    if (chosen.length === 0) return [];
    const conversations = await repository.conversationsOf(trx, chosen.map((item) => item.recipient.customer_id));
    const inserted = await repository.insertMessages(
      trx,
      chosen.map((item) => ({
        account_id: account.id,
        customer_id: item.recipient.customer_id,
        message_wa_id: null,
        direction: 'outbound',
        type: 'template',
        text: item.text,
        media_url: item.content.headerMedia?.link ?? null,
        media_key: null,
        media_mime_type: null,
        media_filename: null,
        template_id: item.content.templateId,
        sender_type: 'campaign',
        sender_agent_id: null,
        content: null,
        business_phone: businessPhone,
        status: 'pending',
        error_code: null,
        error_title: null,
        created_at: at,
        updated_at: at,
      })),
    );
    // One message per customer per slice: the campaign has each customer once.
    const byCustomer = new Map(inserted.map((message) => [message.customer_id, message]));
    const recorded = chosen.map((prepared) => ({ prepared, message: byCustomer.get(prepared.recipient.customer_id)! }));
    await repository.linkMessages(trx, recorded.map(({ prepared, message }) => ({ recipientId: prepared.recipient.id, messageId: message.id })));
    // The inbox hears of each message when it is committed, as it will be sent.
    await recordLiveEvents(
      trx,
      recorded.map(({ message }) => {
        const conversation = conversations.get(message.customer_id)!;
        return { ...messageCreated(conversation, { ...message, sender_name: null }), accountId: account.id, occurredAt: deps.clock.now() };
      }),
    );
    return recorded;
  });
}

/**
 * The WhatsApp ids of the round's sends, recorded together (a tenth of a second's sends per
 * transaction), then the statuses that overtook them applied.
 */
class SendRecorder {
  private buffer: Array<{ messageId: number; customerId: string; messageWaId: string; createdAt: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly deps: Deps,
    private readonly account: RequestAccount,
  ) {}

  add(send: { messageId: number; customerId: string; messageWaId: string; createdAt: string }): void {
    this.buffer.push(send);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, SLICE_MS);
  }

  /** Writes what is left; throws the first failure of any write. */
  async done(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
    await this.chain;
    if (this.failure) throw this.failure;
  }

  private schedule(): void {
    this.chain = this.chain.then(() => this.write()).catch((error: unknown) => void (this.failure ??= error));
  }

  private async write(): Promise<void> {
    const sends = this.buffer.splice(0);
    if (sends.length === 0) return;
    const { deps, account } = this;
    await deps.database.db.transaction().execute((trx) => repository.recordSends(trx, sends, now(deps)));
    deps.metrics.messagesSent.inc({ channel: account.channel_type, type: 'template', sender: 'campaign' }, sends.length);
    const overtaken = await repository.withPendingStatuses(deps.database.db, account.id, sends.map((send) => send.messageWaId));
    for (const messageWaId of overtaken) await applyPendingStatuses(deps, account.id, messageWaId);
  }
}

type SendOutcome = 'sent' | 'held' | 'unknown' | 'failed';

/** Hands one recorded message to WhatsApp; a refusal is recorded on the message as a single send records it. */
async function sendRecorded(deps: Deps, account: RequestAccount, channel: Channel, recorder: SendRecorder, { prepared, message }: Recorded): Promise<SendOutcome> {
  try {
    const result = await channel.sendTemplate({ messageId: message.id, to: prepared.recipient.phone, ...prepared.content });
    recorder.add({ messageId: message.id, customerId: message.customer_id, messageWaId: result.messageWaId, createdAt: message.created_at });
    return 'sent';
  } catch (error) {
    const reason = error instanceof ChannelError ? error : new ChannelError('Channel failure');
    deps.logger.warn({ err: error, messageId: message.id, disposition: reason.disposition }, 'the channel did not take a campaign message');
    if (reason.disposition === 'queued' || reason.disposition === 'unknown') {
      // Not failed: the channel sends it later (queued), or a status will tell whether it went (unknown).
      await notePendingReason(deps, account.id, message.id, reason.code, reason.title);
      return reason.disposition === 'queued' ? 'held' : 'unknown';
    }
    await markSendFailed(deps, account.id, message.id, reason.code, reason.title);
    deps.metrics.sendFailures.inc({ channel: account.channel_type, code: String(reason.code ?? 'none') });
    return 'failed';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One round of a campaign's sending: up to a second's worth of recipients at its rate, within the
 * number's daily budget and the pair rate, then the next round (later when WhatsApp slowed us down,
 * or when the day's budget is spent: then at its roll-over).
 *
 * The round goes in slices of a tenth of a second's worth: each slice's recipients are taken and
 * their messages recorded in one transaction, made durable, then sent, the n-th of the round no
 * sooner than n/rate seconds after its start, overlapping (the next slice is recorded while the
 * sends of this one are under way).
 */
async function sendRound(deps: Deps, campaignId: string, signal: AbortSignal): Promise<void> {
  const { db } = deps.database;
  let campaign = await repository.findCampaignById(db, campaignId);
  if (!campaign) return;
  if (campaign.status === 'scheduled') {
    if (campaign.scheduled_at && Date.parse(campaign.scheduled_at) > deps.clock.now().getTime()) return;
    await startCampaign(deps, campaign);
    campaign = (await repository.findCampaignById(db, campaignId))!;
  }
  if (campaign.status !== 'running') return;
  const account = await findAccount(db, campaign.account_id);
  if (!account) return;
  const budget = await dailyBudget(deps, account);
  if (budget.left <= 0) {
    await enqueueSending(deps, campaign, budget.rollsOverAt ?? new Date(deps.clock.now().getTime() + DAY_MS));
    return;
  }
  const rate = Number(campaign.rate_per_second);
  const batch = await repository.nextQueued(db, campaign.id, Math.min(rate, budget.left));
  if (batch.length === 0) {
    await completeCampaign(deps, campaign);
    return;
  }
  // Rounds are a second apart by the clock: a round that took longer is followed at once.
  const roundStart = deps.clock.now().getTime();
  const started = performance.now();
  const { sendable, refused } = await prepareRound(deps, account, campaign, batch);
  const channel = sendable.length > 0 ? await deps.channels.forAccount(account) : undefined;
  const recorder = new SendRecorder(deps, account);
  const perSlice = Math.max(1, Math.ceil((rate * SLICE_MS) / 1000));
  const sends: Array<Promise<SendOutcome>> = [];
  for (let first = 0; channel && first < sendable.length && !signal.aborted; first += perSlice) {
    const due = (first * 1000) / rate - (performance.now() - started);
    if (due > 0) await sleep(due);
    const recorded = await recordSlice(deps, account, campaign, channel.phoneNumber, sendable.slice(first, first + perSlice));
    if (recorded.length === 0) continue;
    // WhatsApp must not deliver a message whose record a power cut could still take away.
    await deps.database.durable();
    for (const [index, item] of recorded.entries()) {
      const wait = ((first + index) * 1000) / rate - (performance.now() - started);
      sends.push(wait > 1 ? sleep(wait).then(() => sendRecorded(deps, account, channel, recorder, item)) : sendRecorded(deps, account, channel, recorder, item));
    }
  }
  const outcomes = await Promise.allSettled(sends);
  await recorder.done();
  const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw rejected.reason;
  const results = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<SendOutcome>).value);
  // Meta refused the token (190): every other send would fail too, so the campaign waits for a person.
  if (refused > 0 || results.some((result) => result === 'failed' || result === 'unknown')) {
    const current = await findChannelByAccount(db, account.id);
    if (current?.status === 'disconnected') await repository.moveCampaign(db, campaign.id, ['running'], { status: 'paused' }, now(deps));
  }
  const slowed = results.includes('held');
  await enqueueSending(deps, campaign, new Date(roundStart + 1000 + (slowed ? SLOWDOWN_MS : 0)));
}

async function completeCampaign(deps: Deps, campaign: CampaignRow): Promise<void> {
  const at = now(deps);
  const counts = await campaignCounts(deps, campaign.id);
  await deps.database.db.transaction().execute(async (trx) => {
    if (!(await repository.moveCampaign(trx, campaign.id, ['running'], { status: 'completed', completed_at: at }, at))) return;
    await recordEvent(trx, campaign.account_id, 'campaign.completed', { campaign: toRecord({ ...campaign, status: 'completed', completed_at: at }, counts) }, `campaign:${campaign.id}`, deps.clock.now(), []);
  });
}

export function campaignJobHandlers(deps: Deps): Array<JobHandler<{ campaignId: string }>> {
  return [
    {
      type: CAMPAIGN_SEND_JOB,
      // A round sends at most a second's worth at the rate; the rest is the sends' own time.
      timeoutMs: 120_000,
      run: (payload, { signal }) => sendRound(deps, payload.campaignId, signal),
    },
    {
      type: CAMPAIGN_START_JOB,
      timeoutMs: 10_000,
      // Its time has come: the campaign joins its number's queue (unless paused or cancelled meanwhile).
      run: async ({ campaignId }) => {
        const campaign = await repository.findCampaignById(deps.database.db, campaignId);
        if (campaign?.status === 'scheduled') await enqueueSending(deps, campaign);
      },
    },
  ];
}
