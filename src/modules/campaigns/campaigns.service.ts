import type { Account, CampaignRecipientRow, CampaignRow, CustomerRow } from '../../db/tables.js';
import { toApiTime, toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest, notFound } from '../../errors.js';
import { readPage } from '../../http/fields.js';
import { newId } from '../../ids.js';
import { enqueueJob } from '../../jobs/queue.js';
import type { JobHandler } from '../../jobs/worker.js';
import { findAccount } from '../accounts/accounts.repository.js';
import { renderCustomerText } from '../customers/customer-text.js';
import { labelNamesByCustomer } from '../customers/customers.repository.js';
import { LABEL_NOT_FOUND, listLabels } from '../labels/labels.service.js';
import { SendWithdrawn, sendTemplate } from '../messages/messages.service.js';
import { requireTemplate, templateContent } from '../templates/templates.service.js';
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
/** Meta's errors a retry can cure: throughput (130429), pair rate (131056), generic and service errors. */
export const RETRYABLE_CODES = [130429, 131056, 131000, 131016, 1, 2];
/** A reply this long after the campaign's message counts as `replied`. */
const REPLY_WINDOW_MS = 72 * 3600_000;
/** Meta's messaging limit counts unique recipients over a rolling day. */
const DAY_MS = 24 * 3600_000;
/** Meta's pair rate: one message from the number to the same customer per 6 seconds. */
const PAIR_RATE_MS = 6000;
/** After WhatsApp's throughput limit (130429) held a send back, the next round waits this much longer. */
const SLOWDOWN_MS = 5000;

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

/** The customers the audience selects now. */
async function audienceOf(deps: Deps, accountId: string, audience: Audience, labels: Map<string, string>): Promise<CustomerRow[]> {
  const customers = await repository.selectAudience(deps.database.db, accountId, audience, labels);
  const field = audience.custom_field;
  if (!field) return customers;
  return customers.filter((customer) => {
    const fields = JSON.parse(customer.custom_fields) as Record<string, unknown>;
    return Object.hasOwn(fields, field.name) && String(fields[field.name]) === String(field.equals);
  });
}

/** The first customer the audience selects now: a campaign's sample recipient (its preview). */
export async function firstOfAudience(deps: Deps, accountId: string, audience: Audience): Promise<CustomerRow | undefined> {
  return (await audienceOf(deps, accountId, audience, await audienceLabels(deps, accountId, audience)))[0];
}

function parseSchedule(deps: Deps, scheduledAt: string | undefined): Date | null {
  if (scheduledAt === undefined) return null;
  const at = new Date(scheduledAt);
  if (Number.isNaN(at.getTime()) || at.getTime() <= deps.clock.now().getTime()) throw badRequest(SCHEDULE_INVALID);
  return at;
}

export async function createCampaign(deps: Deps, account: Account, input: CreateCampaignInput): Promise<CampaignRecord> {
  const template = await requireTemplate(deps, account.id, input.template_id);
  // The template's rules (approved, as many variables as it has) with placeholder values.
  templateContent(template, { variables: input.variables.map(() => 'x'), buttonVariables: input.button_variables.map(() => 'x'), mediaLink: input.media_link });
  const labels = await audienceLabels(deps, account.id, input.audience);
  const scheduledAt = parseSchedule(deps, input.scheduled_at);
  const customers = await audienceOf(deps, account.id, input.audience, labels);
  if (customers.length === 0) throw badRequest(NO_RECIPIENTS);
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
    recipients_count: customers.length,
    scheduled_at: scheduledAt && toStoredTime(scheduledAt),
    started_at: null,
    completed_at: null,
    created_at: at,
    updated_at: at,
  };
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.insertCampaign(trx, row);
    await enqueueJob(trx, { type: CAMPAIGN_SEND_JOB, payload: { campaignId: row.id }, groupKey: numberGroup(account.id), runAt: scheduledAt ?? undefined, now: deps.clock.now() });
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
  const customers = labels ? await audienceOf(deps, campaign.account_id, audience, labels) : [];
  const names = await labelNamesByCustomer(deps.database.db, campaign.account_id, customers.map((customer) => customer.id));
  const values = { variables: JSON.parse(campaign.variables) as string[], button_variables: JSON.parse(campaign.button_variables) as string[] };
  const at = now(deps);
  const rows = customers.map((customer, position): CampaignRecipientRow => {
    const rendered = (list: string[]) => list.map((value) => renderCustomerText(value, customer).text.trim());
    const frozen: FrozenValues = { variables: rendered(values.variables), button_variables: rendered(values.button_variables) };
    const optedOut = (names.get(customer.id) ?? []).some((name) => name.toLowerCase() === OPTED_OUT_LABEL);
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
  const replies = await repository.firstReplies(deps.database.db, campaignId);
  counts.replied = replies.filter((reply) => reply.first_reply !== null && Date.parse(reply.first_reply) - Date.parse(reply.sent_at) <= REPLY_WINDOW_MS).length;
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

export async function getRecipients(deps: Deps, accountId: string, id: string, page: number, status?: RecipientRecord['status']) {
  const campaign = await requireCampaign(deps, accountId, id);
  const all = (await repository.recipientsWithStatus(deps.database.db, campaign.id).orderBy('r.position').execute()).map((row) => ({
    phone: row.phone,
    status: recipientStatus(row),
    message_wa_id: row.message_wa_id,
    error_code: row.error_code === null ? null : Number(row.error_code),
    error_title: row.error_title,
    reason: row.reason,
  }));
  const chosen = status ? all.filter((recipient) => recipient.status === status) : all;
  const { rows, total, pages } = await readPage(
    page,
    RECIPIENTS_PER_PAGE,
    async () => chosen.length,
    async (limit, offset) => chosen.slice(offset, offset + limit),
  );
  return { recipients: rows, total, pages, current_page: page };
}

async function enqueueSending(deps: Deps, campaign: Pick<CampaignRow, 'id' | 'account_id'>, runAt?: Date): Promise<void> {
  await enqueueJob(deps.database.db, { type: CAMPAIGN_SEND_JOB, payload: { campaignId: campaign.id }, groupKey: numberGroup(campaign.account_id), runAt, now: deps.clock.now() });
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
 * Sends one recipient; a send the channel refuses is recorded on the message (failed, with its code).
 * True when WhatsApp's throughput limit held it back (the channel sends it later).
 */
async function sendTo(deps: Deps, account: Account, campaign: CampaignRow, recipient: CampaignRecipientRow): Promise<boolean> {
  const frozen = JSON.parse(recipient.variables) as FrozenValues;
  try {
    const sent = await sendTemplate(
      deps,
      account,
      { customer_phone: recipient.phone, template_id: campaign.template_id, variables: frozen.variables, button_variables: frozen.button_variables, media_link: campaign.media_link ?? undefined, email: undefined, bot_token: undefined },
      {
        sender_type: 'campaign',
        sender_agent_id: null,
        claim: (trx) => repository.claimRecipient(trx, recipient.id, now(deps)),
        recorded: (trx, messageId) => repository.linkMessage(trx, recipient.id, messageId),
      },
    );
    return sent.message_wa_id === null;
  } catch (error) {
    if (error instanceof SendWithdrawn) return false;
    if (!(error instanceof ApiError)) throw error;
    // Refused before any message (not approved any more, messaging off, the number invalid): the recipient fails with why.
    await repository.markRecipient(deps.database.db, recipient.id, 'failed', error.message, now(deps));
    // Meta refused the token (190): every other send would fail too, so the campaign waits for a person.
    const channel = await findChannelByAccount(deps.database.db, account.id);
    if (channel?.status === 'disconnected') await repository.moveCampaign(deps.database.db, campaign.id, ['running'], { status: 'paused' }, now(deps));
    return false;
  }
}

/**
 * How many more unique customers the number may reach in the rolling day (its messaging-limit
 * tier), and when the earliest of the day's sends leaves the window.
 */
async function dailyBudget(deps: Deps, account: Account): Promise<{ left: number; rollsOverAt: Date | null }> {
  if (account.campaign_daily_limit === null) return { left: Number.POSITIVE_INFINITY, rollsOverAt: null };
  const since = toStoredTime(new Date(deps.clock.now().getTime() - DAY_MS));
  const reach = await repository.campaignReach(deps.database.db, account.id, since);
  return { left: Number(account.campaign_daily_limit) - reach.customers, rollsOverAt: reach.earliest ? new Date(Date.parse(reach.earliest) + DAY_MS) : null };
}

/** Meta's pair rate: the customer got nothing from the number in the last 6 seconds. */
async function pairRateAllows(deps: Deps, customerId: string): Promise<boolean> {
  const last = await repository.lastOutboundAt(deps.database.db, customerId);
  return last === null || deps.clock.now().getTime() - Date.parse(last) >= PAIR_RATE_MS;
}

/**
 * One round of a campaign's sending: up to a second's worth of recipients at its rate, within the
 * number's daily budget and the pair rate, then the next round (later when WhatsApp slowed us down,
 * or when the day's budget is spent: then at its roll-over).
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
  // Sends overlap (each waits for its commit to be durable), but start no faster than the rate:
  // the n-th of the round no sooner than n/rate seconds after its start.
  const sends: Array<Promise<boolean>> = [];
  for (const [index, recipient] of batch.entries()) {
    if (signal.aborted) break;
    const due = (index * 1000) / rate - (performance.now() - started);
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    // A customer written to in the last 6 seconds waits for a later round.
    sends.push(pairRateAllows(deps, recipient.customer_id).then((allowed) => allowed && sendTo(deps, account, campaign, recipient)));
  }
  const slowed = (await Promise.all(sends)).some(Boolean);
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

export function campaignJobHandler(deps: Deps): JobHandler<{ campaignId: string }> {
  return {
    type: CAMPAIGN_SEND_JOB,
    // A round sends at most a second's worth at the rate; the rest is the sends' own time.
    timeoutMs: 120_000,
    run: (payload, { signal }) => sendRound(deps, payload.campaignId, signal),
  };
}
