import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { DB } from '../src/db/tables.js';

/** Flows and look-ups shared by the flow-bot suites (bots-durability, bots-cloud-api). */

export const ORDER_FLOW = JSON.parse(readFileSync(new URL('../examples/flows/order-status.json', import.meta.url), 'utf8'));

/**
 * Answers every message exactly once with a text naming it: the first message gets "Hello <name>"
 * and the question, every later one "Echo: <text>" and the question again. A transcript therefore
 * shows at a glance whether a turn was lost, repeated or taken out of order.
 */
export const ECHO_FLOW = {
  version: 1,
  start: 'hello',
  nodes: [
    { id: 'hello', type: 'message', text: 'Hello {{customer.name}}' },
    { id: 'ask', type: 'ask', text: 'Say something', save_to: 'fields.said' },
    { id: 'echo', type: 'message', text: 'Echo: {{fields.said}}' },
  ],
  edges: [
    { from: 'hello', to: 'ask' },
    { from: 'ask', to: 'echo' },
    { from: 'echo', to: 'ask' },
  ],
};

/** What the echo flow says to a customer named `name` who wrote `texts`, in order. */
export function echoTranscript(name: string, texts: string[]): string[] {
  return texts.flatMap((text, index) => (index === 0 ? [`Hello ${name}`, 'Say something'] : [`Echo: ${text}`, 'Say something']));
}

/** A durable delay between two messages. */
export const WAIT_FLOW = {
  version: 1,
  start: 'before',
  nodes: [
    { id: 'before', type: 'message', text: 'See you in an hour' },
    { id: 'pause', type: 'wait', seconds: 3600 },
    { id: 'after', type: 'message', text: 'An hour has passed' },
  ],
  edges: [
    { from: 'before', to: 'pause' },
    { from: 'pause', to: 'after' },
  ],
};

/** A question with a `timeout` edge, and a session timeout of 10 minutes. */
export const TIMEOUT_FLOW = {
  version: 1,
  start: 'ask',
  timeout_seconds: 600,
  nodes: [
    { id: 'ask', type: 'ask', text: 'Your email?', save_to: 'email', retry_text: 'That is no email', max_retries: 5 },
    { id: 'thanks', type: 'message', text: 'Thanks!' },
    { id: 'nudge', type: 'message', text: 'Still there? Write to us any time.' },
  ],
  edges: [
    { from: 'ask', to: 'thanks' },
    { from: 'ask', to: 'nudge', on: 'timeout' },
  ],
};

/** A list of rows, each leading to its own answer. */
export const LIST_FLOW = {
  version: 1,
  start: 'pick',
  nodes: [
    {
      id: 'pick',
      type: 'list',
      text: 'When should we call?',
      button: 'Pick a time',
      sections: [
        { title: 'Morning', rows: [{ id: 'mon-am', title: 'Monday morning', description: '9:00 to 12:00' }, { id: 'tue-am', title: 'Tuesday morning' }] },
        { title: 'Evening', rows: [{ id: 'mon-pm', title: 'Monday evening' }] },
      ],
    },
    { id: 'morning', type: 'message', text: 'See you in the morning' },
    { id: 'evening', type: 'message', text: 'See you in the evening' },
    { id: 'other', type: 'message', text: 'Please pick from the list' },
  ],
  edges: [
    { from: 'pick', to: 'morning', on: 'row:mon-am' },
    { from: 'pick', to: 'morning', on: 'row:tue-am' },
    { from: 'pick', to: 'evening', on: 'row:mon-pm' },
    { from: 'pick', to: 'other', on: 'no_match' },
  ],
};

export interface StoredMessage {
  id: number;
  direction: string;
  type: string;
  text: string | null;
  sender_type: string | null;
  status: string;
}

/** A customer's messages as stored, oldest first. */
export async function storedMessages(db: Kysely<DB>, customerId: string): Promise<StoredMessage[]> {
  return db
    .selectFrom('messages')
    .select(['id', 'direction', 'type', 'text', 'sender_type', 'status'])
    .where('customer_id', '=', customerId)
    .orderBy('id')
    .execute() as Promise<StoredMessage[]>;
}

/** The texts the bot sent to a customer, oldest first. */
export async function botTexts(db: Kysely<DB>, customerId: string): Promise<Array<string | null>> {
  return (await storedMessages(db, customerId)).filter((m) => m.direction === 'outbound' && m.sender_type === 'bot').map((m) => m.text);
}

export async function customerIdOf(db: Kysely<DB>, accountId: string, phone: string): Promise<string> {
  const row = await db.selectFrom('customers').select('id').where('account_id', '=', accountId).where('phone', '=', phone).executeTakeFirstOrThrow();
  return row.id;
}

export async function sessionOf(db: Kysely<DB>, customerId: string) {
  return db.selectFrom('bot_sessions').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

export async function outboxOf(db: Kysely<DB>, customerId: string) {
  return db.selectFrom('bot_outbox').selectAll().where('customer_id', '=', customerId).execute();
}

/** Bot jobs not yet done (failed ones included), of every customer. */
export async function pendingBotJobs(db: Kysely<DB>) {
  return db.selectFrom('jobs').select(['id', 'type', 'payload', 'run_at', 'failed_at', 'last_error']).where('type', 'like', 'bot.%').execute();
}

/** A simulated crash: thrown by an injected fault, never by the code under test. */
export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash: ${where}`);
  }
}

/**
 * Makes `target[method]` throw a SimulatedCrash on its `nth` call from now (1 = the next), once; the
 * method behaves as before otherwise. Returns how many times it was called, to prove it was reached.
 */
export function crashOnCall<T extends object, K extends keyof T>(target: T, method: K, nth = 1): { calls: () => number; restore: () => void } {
  const original = target[method] as unknown as (...args: unknown[]) => unknown;
  let calls = 0;
  (target as Record<K, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    calls += 1;
    if (calls === nth) throw new SimulatedCrash(String(method));
    return original.apply(this, args);
  };
  return { calls: () => calls, restore: () => ((target as Record<K, unknown>)[method] = original) };
}
