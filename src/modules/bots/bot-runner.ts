import { request } from 'undici';
import { extensionOf } from '../../media/media-types.js';
import { readAtMost } from '../../net/read-at-most.js';
import { MediaUpload, requireMediaType } from '../../media/upload.js';
import type { RequestAccount, BotSessionRow, CustomerRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError, badRequest } from '../../errors.js';
import { newId } from '../../ids.js';
import type { JobHandler } from '../../jobs/worker.js';
import { findAccount } from '../accounts/accounts.repository.js';
import { findCustomerById, labelNamesByCustomer } from '../customers/customers.repository.js';
import { changeConversation, editCustomer } from '../customers/customers.service.js';
import type { CustomerFieldsInput } from '../customers/customers.schema.js';
import { AI_BOT, requireEntry } from '../directory/directory.service.js';
import { recordNote } from '../inbox/conversation-actions.service.js';
import { aiAnswer, aiTurn } from '../ai/ai-turn.js';
import { createLabel, labelCustomer, unlabelCustomer } from '../labels/labels.service.js';
import { isConversationOpen } from '../messages/conversation-window.js';
import { findMessageById } from '../messages/messages.repository.js';
import { SendWithdrawn, sendInteractive, sendMedia, sendTemplate, sendText, type MessageSender } from '../messages/messages.service.js';
import { BOT_STEP_JOB, BOT_TIMER_JOB, enqueueBotStep, enqueueBotTimer, type StepEvent, type StepPayload } from './bot-jobs.js';
import * as repository from './bots.repository.js';
import { Turn, matchesKeyword, type BotAction, type CustomerView, type HttpCall, type SessionState, type TurnContext, type TurnEvent, type TurnResult } from './engine.js';
import type { Flow } from './flow.schema.js';

/**
 * Runs flow bots (docs/bots.md). A step job takes one event of one customer (an inbound message, a
 * timer, a start), computes the turn, and commits the new session with the turn's actions as outbox
 * rows in one transaction; then it carries the actions out in order. Each message action is taken
 * from the outbox in the transaction that records the message, and only while the bot still runs for
 * the customer: a person who took over meanwhile silences it, and a step run twice (its worker died)
 * neither repeats the turn (the session remembers its last event) nor sends anything twice.
 */

const ENDED = repository.SESSION_ENDED;
/** The largest JSON answer an http node reads. */
const HTTP_ANSWER_MAX = 64 * 1024;

const flowCache = new Map<string, Flow>();
const FLOW_CACHE_SIZE = 500;

/** A bot's flow at a version (versions never change once saved, so they are cached). */
async function flowAt(deps: Deps, botId: string, version: number): Promise<Flow | undefined> {
  const key = `${botId}:${version}`;
  const cached = flowCache.get(key);
  if (cached) return cached;
  const json = await repository.findFlowVersion(deps.database.db, botId, version);
  if (json === undefined) return undefined;
  const flow = JSON.parse(json) as Flow;
  if (flowCache.size >= FLOW_CACHE_SIZE) flowCache.delete(flowCache.keys().next().value!);
  flowCache.set(key, flow);
  return flow;
}

/** The current flow of a bot of the account; undefined for a bot without one (or of another account). */
async function currentFlow(deps: Deps, accountId: string, botId: string): Promise<{ flow: Flow; version: number } | undefined> {
  const bot = await repository.findBot(deps.database.db, accountId, botId);
  if (!bot || Number(bot.version) === 0) return undefined;
  const flow = await flowAt(deps, bot.id, Number(bot.version));
  return flow && { flow, version: Number(bot.version) };
}

/** A bot answers this customer: one is theirs (a flow or the AI) and no person took over. */
function botRunning(customer: CustomerRow): boolean {
  return customer.bot !== null && customer.bot_paused_at === null;
}

function eventKey(event: StepEvent, jobId: number): string {
  if (event.type === 'message') return `message:${event.messageId}`;
  if (event.type === 'timer') return `timer:${event.generation}:${event.reason}`;
  return `start:${jobId}`;
}

async function customerView(deps: Deps, customer: CustomerRow): Promise<CustomerView> {
  const labels = (await labelNamesByCustomer(deps.database.db, customer.account_id, [customer.id])).get(customer.id) ?? [];
  return { phone: customer.phone, name: customer.name, email: customer.email, status: customer.conversation_status, fields: JSON.parse(customer.custom_fields), labels };
}

function toState(row: BotSessionRow): SessionState {
  return {
    botId: row.bot_id,
    version: Number(row.version),
    nodeId: row.node_id,
    waiting: row.waiting as SessionState['waiting'],
    retries: Number(row.retries),
    lastAnswer: row.last_answer,
    deadlineAt: row.deadline_at ? new Date(row.deadline_at) : null,
  };
}

/** An http node's call: public hosts only (the SSRF guard), bounded in time and size. */
async function callHttp(deps: Deps, call: HttpCall, idempotencyKey: string): Promise<unknown> {
  const response = await request(call.url, {
    method: call.method,
    dispatcher: deps.whatsapp.publicDispatcher,
    headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'openmumble-bot', 'idempotency-key': idempotencyKey },
    ...(call.method === 'POST' && { body: JSON.stringify(call.body) }),
    headersTimeout: call.timeoutMs,
    bodyTimeout: call.timeoutMs,
    signal: AbortSignal.timeout(call.timeoutMs),
  });
  const answer = await readAtMost(response.body, HTTP_ANSWER_MAX);
  if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`the answer was ${response.statusCode}`);
  try {
    return JSON.parse(answer.toString('utf8'));
  } catch {
    return null;
  }
}

interface StepInput {
  deps: Deps;
  account: RequestAccount;
  customer: CustomerRow;
  session: BotSessionRow | undefined;
  key: string;
}

function turnContext(input: StepInput, view: CustomerView): TurnContext {
  const { deps, account, customer, key } = input;
  return {
    now: deps.clock.now(),
    customer: view,
    loadFlow: (botId) => currentFlow(deps, account.id, botId),
    http: (call) => callHttp(deps, call, `${customer.id}:${key}`),
    ai: (question) => aiAnswer(deps, account, customer, question),
  };
}

/** The flow a message starts when none runs: the customer's own bot, a keyword trigger, or the default flow for a new customer. */
async function flowToStart(input: StepInput, text: string, messageId: number): Promise<{ botId: string; flow: Flow; version: number } | undefined> {
  const { deps, account, customer } = input;
  if (customer.bot !== null) {
    const current = await currentFlow(deps, account.id, customer.bot);
    return current && { botId: customer.bot, ...current };
  }
  if (customer.agent_id !== null || customer.bot_paused_at !== null) return undefined;
  for (const row of await repository.listCurrentFlows(deps.database.db, account.id)) {
    const flow = await flowAt(deps, row.bot_id, Number(row.version));
    if (flow?.triggers.some((trigger) => trigger.keywords.some((keyword) => matchesKeyword(text, keyword)))) return { botId: row.bot_id, flow, version: Number(row.version) };
  }
  if (account.default_bot_id && (await repository.isFirstInbound(deps.database.db, customer.id, messageId))) {
    const current = await currentFlow(deps, account.id, account.default_bot_id);
    return current && { botId: account.default_bot_id, ...current };
  }
  return undefined;
}

/** The turn an event makes, or undefined when it changes nothing. */
async function computeTurn(input: StepInput, event: StepEvent): Promise<{ result: TurnResult; startedBot: string | null } | undefined> {
  const { deps, customer } = input;
  const session = input.session && input.session.waiting !== ENDED ? input.session : undefined;
  const view = await customerView(deps, customer);
  const context = turnContext(input, view);
  const resume = async (turnEvent: TurnEvent) => {
    const flow = await flowAt(deps, session!.bot_id, Number(session!.version));
    return flow && { result: await Turn.resume(context, toState(session!), flow, turnEvent), startedBot: null };
  };
  if (event.type === 'timer') {
    if (!session || Number(session.generation) !== event.generation) return undefined;
    return resume(event);
  }
  if (event.type === 'start') {
    if (customer.bot === null || !isConversationOpen(customer, deps.clock.now())) return undefined;
    const current = await currentFlow(deps, customer.account_id, customer.bot);
    return current && { result: await Turn.start(context, customer.bot, current.flow, current.version), startedBot: null };
  }
  const message = await findMessageById(deps.database.db, customer.account_id, event.messageId);
  if (!message) return undefined;
  const content = message.content ? (JSON.parse(message.content) as { reply?: { id?: string } }) : null;
  if (session) return resume({ type: 'message', text: message.text, replyId: content?.reply?.id ?? null });
  const start = await flowToStart(input, message.text ?? '', event.messageId);
  if (!start) return undefined;
  return { result: await Turn.start(context, start.botId, start.flow, start.version), startedBot: customer.bot === null ? start.botId : null };
}

/**
 * Commits the turn: the session (or its end), the actions to carry out, and the timer it waits on.
 * False when it commits nothing: the session moved on since the step read it (the same step ran
 * twice at once, a person ended the session), or a person took over while the turn was computed.
 */
async function commitTurn(input: StepInput, result: TurnResult, fallbackBotId: string, replies = 0): Promise<boolean> {
  const { deps, account, customer, session, key } = input;
  const now = deps.clock.now();
  const at = toStoredTime(now);
  const generation = Number(session?.generation ?? 0) + 1;
  const next = result.session;
  const botId = next?.botId ?? fallbackBotId;
  return deps.database.db.transaction().execute(async (trx) => {
    await repository.lockCustomer(trx, customer.id);
    const current = await findCustomerById(trx, account.id, customer.id);
    if (!current || !botRunning(current)) return false;
    const saved = await repository.saveSession(
      trx,
      {
        customer_id: customer.id,
        account_id: account.id,
        bot_id: botId,
        version: next?.version ?? Number(session?.version ?? 0),
        node_id: next?.nodeId ?? '',
        waiting: next?.waiting ?? ENDED,
        retries: next?.retries ?? 0,
        last_answer: next?.lastAnswer ?? null,
        generation,
        last_event: key,
        deadline_at: next?.deadlineAt ? toStoredTime(next.deadlineAt) : null,
        started_at: session && session.waiting !== ENDED ? session.started_at : at,
        updated_at: at,
        replies,
      },
      session ? Number(session.generation) : null,
    );
    if (!saved) return false;
    await repository.insertOutbox(
      trx,
      result.actions.map((action, position) => ({ id: newId(), account_id: account.id, customer_id: customer.id, bot_id: botId, generation, position, action: JSON.stringify(action), created_at: at })),
    );
    if (next?.deadlineAt) {
      const reason = next.waiting === 'timer' ? 'wait' : 'timeout';
      await enqueueBotTimer(trx, { accountId: account.id, customerId: customer.id, event: { type: 'timer', generation, reason } }, next.deadlineAt, now);
    }
    return true;
  });
}

function countTurn(deps: Deps, botId: string, result: TurnResult): void {
  const { steps, handoffs, noMatches, errors } = result.counts;
  const counter = deps.metrics.botEvents;
  if (steps) counter.inc({ bot: botId, event: 'step' }, steps);
  if (handoffs) counter.inc({ bot: botId, event: 'handoff' }, handoffs);
  if (noMatches) counter.inc({ bot: botId, event: 'no_match' }, noMatches);
  if (errors) counter.inc({ bot: botId, event: 'error' }, errors);
}

/** One event of one customer through their flow. */
export async function runStep(deps: Deps, payload: StepPayload, jobId: number): Promise<void> {
  const { db } = deps.database;
  const account = await findAccount(db, payload.accountId);
  if (!account) return;
  // What an earlier run of a step committed but did not finish carrying out (its worker died).
  await carryOut(deps, account, payload.customerId);
  const customer = await findCustomerById(db, account.id, payload.customerId);
  if (!customer) return;
  const session = await repository.findSession(db, customer.id);
  const key = eventKey(payload.event, jobId);
  if (session?.last_event === key) return;
  const running = session && session.waiting !== ENDED;
  if (customer.bot_paused_at !== null || (running && customer.bot === null)) {
    // A person took over, or the bot was turned off: the session ends without a word.
    if (running) await repository.endSession(db, customer.id, toStoredTime(deps.clock.now()));
    return;
  }
  if (customer.bot === AI_BOT.id) {
    if (payload.event.type === 'message') await runAiStep({ deps, account, customer, session, key }, payload.event.messageId);
    return;
  }
  // A start finds the flow already running when a message started it first (the assignment came between).
  if (payload.event.type === 'start' && running && session.bot_id === customer.bot) return;
  const input: StepInput = { deps, account, customer, session: payload.event.type === 'start' ? undefined : session, key };
  const turn = await computeTurn(input, payload.event);
  if (!turn) return;
  if (turn.startedBot) await changeConversation(deps, customer, { bot: turn.startedBot });
  const botId = turn.result.session?.botId ?? turn.startedBot ?? session?.bot_id ?? customer.bot ?? '';
  if (await commitTurn({ ...input, session }, turn.result, botId)) countTurn(deps, botId, turn.result);
  await carryOut(deps, account, customer.id);
}

/** The AI session (bot `AI`): it remembers the last inbound message it answered as `ai:<id>`. */
const AI_SESSION: Omit<SessionState, 'lastAnswer' | 'deadlineAt'> = { botId: AI_BOT.id, version: 0, nodeId: 'ai', waiting: 'input', retries: 0 };

/**
 * The AI bot answers what the customer said since its last answer, in one reply: a step for a
 * message an earlier step already answered (it came while the model was thinking) does nothing.
 */
async function runAiStep(input: Omit<StepInput, 'key'> & { key: string }, messageId: number): Promise<void> {
  const { deps, account, customer, session } = input;
  const running = session?.bot_id === AI_BOT.id && session.waiting !== ENDED;
  const answeredUpTo = running ? Number(session.last_event?.replace(/^ai:/, '')) || 0 : messageId - 1;
  if (messageId <= answeredUpTo) return;
  const replies = running ? Number(session.replies) : 0;
  const turn = await aiTurn(deps, account, customer, replies, answeredUpTo);
  const result: TurnResult = {
    session: turn.handoff ? null : { ...AI_SESSION, lastAnswer: null, deadlineAt: null },
    actions: turn.actions,
    counts: { steps: 0, noMatches: 0, handoffs: turn.handoff ? 1 : 0, errors: 0 },
  };
  const committed = await commitTurn({ ...input, key: `ai:${turn.answeredUpTo}` }, result, AI_BOT.id, replies + (turn.replied ? 1 : 0));
  if (committed && turn.handoff) deps.metrics.aiHandoffs.inc({ reason: turn.handoff });
  await carryOut(deps, account, customer.id);
}

/** Carries out the customer's outbox in order, while their bot still runs; then it is empty. */
async function carryOut(deps: Deps, account: RequestAccount, customerId: string): Promise<void> {
  const { db } = deps.database;
  for (const row of await repository.listOutbox(db, customerId)) {
    const customer = await findCustomerById(db, account.id, customerId);
    if (!customer || !botRunning(customer)) {
      await repository.clearOutbox(db, customerId);
      return;
    }
    const action = JSON.parse(row.action) as BotAction;
    try {
      await perform(deps, account, customer, row.id, action);
    } catch (error) {
      if (error instanceof SendWithdrawn) continue;
      if (!(error instanceof ApiError)) throw error;
      // Refused for good (the window closed, a template not approved, a label name taken): the bot goes on.
      deps.logger.warn({ err: error, customerId, action: action.type, botId: row.bot_id }, 'a bot action was refused');
      deps.metrics.botEvents.inc({ bot: row.bot_id, event: 'error' });
    }
    await repository.takeOutboxRow(db, row.id);
  }
}

/**
 * A flow's uploaded file, copied for one send: the message owns its copy, so retention or a deleted
 * customer removes that copy and never the flow's file.
 */
async function copyOfFlowMedia(deps: Deps, key: string, filename: string | null): Promise<MediaUpload> {
  const extension = extensionOf(key);
  const type = requireMediaType(extension);
  let content;
  try {
    content = await deps.media.open(key);
  } catch {
    throw badRequest(`The flow's media file ${key} is gone`);
  }
  return new MediaUpload(await deps.media.stage(content, extension), type, filename ?? key);
}

/** The sender of a bot's message: the outbox row is taken in the message's own transaction, and only while the bot still runs. */
function botSender(deps: Deps, customer: CustomerRow, rowId: string): MessageSender {
  return {
    sender_type: 'bot',
    sender_agent_id: null,
    claim: async (trx) => {
      // The customer's row first, as a step's commit takes it: the same order, so no deadlock.
      await repository.lockCustomer(trx, customer.id);
      if (!(await repository.takeOutboxRow(trx, rowId))) return false;
      const current = await findCustomerById(trx, customer.account_id, customer.id);
      return current !== undefined && botRunning(current);
    },
  };
}

async function perform(deps: Deps, account: RequestAccount, customer: CustomerRow, rowId: string, action: BotAction): Promise<void> {
  const sender = botSender(deps, customer, rowId);
  // The customer as it is: a send names no contact fields to change.
  const to = { customer_phone: customer.phone, email: undefined, bot_token: undefined };
  const customer_phone = customer.phone;
  switch (action.type) {
    case 'text':
      await sendText(deps, account, { ...to, text: action.text }, action.ai ? { ...sender, ai_model: action.ai.model, ai_prompt_tokens: action.ai.prompt_tokens, ai_completion_tokens: action.ai.completion_tokens } : sender);
      if (action.ai) deps.metrics.aiReplies.inc();
      return;
    case 'note':
      await recordNote(deps, customer, null, action.text);
      return;
    case 'media': {
      const file = action.media_key ? await copyOfFlowMedia(deps, action.media_key, action.filename) : undefined;
      await sendMedia(deps, account, { ...to, file, media_url: action.url ?? undefined, caption: action.caption ?? undefined, filename: action.filename ?? undefined }, sender);
      return;
    }
    case 'buttons':
      await sendInteractive(deps, account, customer_phone, action.text, { buttons: action.buttons }, sender);
      return;
    case 'list':
      await sendInteractive(deps, account, customer_phone, action.text, { button: action.button, sections: action.sections }, sender);
      return;
    case 'template':
      await sendTemplate(deps, account, { ...to, template_id: action.template_id, variables: action.variables, media_link: action.media_link ?? undefined }, sender);
      return;
    case 'set_field': {
      const field = action.field.startsWith('fields.') ? action.field.slice('fields.'.length) : action.field;
      await editCustomer(deps, account.id, { customer_phone, [field]: action.value } as CustomerFieldsInput);
      return;
    }
    case 'set_label':
      await createLabel(deps, account.id, action.label).catch((error: unknown) => {
        if (!(error instanceof ApiError && error.statusCode === 409)) throw error;
      });
      await labelCustomer(deps, customer, action.label);
      return;
    case 'remove_label':
      await unlabelCustomer(deps, customer, action.label).catch((error: unknown) => {
        // Not labelled (or no such label): already as the flow wants it.
        if (!(error instanceof ApiError)) throw error;
      });
      return;
    case 'set_status':
      await changeConversation(deps, customer, { conversation_status: action.status });
      return;
    case 'assign_team':
      await requireEntry(deps, 'teams', account.id, action.team_id);
      await changeConversation(deps, customer, { team_id: action.team_id });
      return;
    case 'assign_agent':
      await requireEntry(deps, 'agents', account.id, action.agent_id);
      await changeConversation(deps, customer, { agent_id: action.agent_id });
      return;
    case 'handoff':
      if (action.agent_id) await requireEntry(deps, 'agents', account.id, action.agent_id);
      if (action.team_id) await requireEntry(deps, 'teams', account.id, action.team_id);
      await changeConversation(deps, customer, {
        conversation_status: action.status,
        ...(action.agent_id && { agent_id: action.agent_id }),
        ...(action.team_id && { team_id: action.team_id }),
        bot_paused_at: toStoredTime(deps.clock.now()),
        bot_paused_by: null,
      });
      return;
  }
}

/** The bot engine's job handlers (background.ts). */
export function botJobHandlers(deps: Deps): Array<JobHandler<StepPayload>> {
  return [
    {
      type: BOT_STEP_JOB,
      // An http node may take 30 s; sends and a turn take far less.
      timeoutMs: 60_000,
      run: (payload, { job }) => runStep(deps, payload, job.id),
    },
    {
      type: BOT_TIMER_JOB,
      timeoutMs: 10_000,
      run: (payload) => enqueueBotStep(deps.database.db, payload, deps.clock.now()),
    },
  ];
}
