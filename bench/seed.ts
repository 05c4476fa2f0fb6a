// Bulk seeding for benchmarks: an account with N customers (1,000,000 by default), labels, API keys
// and a conversation history for some customers (with `messages`: the inbox's history of 10M
// messages, people in teams, assignments and read marks), written in batched multi-row inserts inside
// transactions straight through the driver. The rows are the ones the service writes (same
// columns, valid phones, the country libphonenumber gives, JSON custom fields and attribution, the
// custom-field and customer counts that add-new-customer keeps), so the server reads them like its own.
//
//   npx tsx bench/seed.ts sqlite:/tmp/bench.db [customers] [messages]
//   npx tsx bench/seed.ts 'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dbench' [customers]
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/database.js';
import type { DB } from '../src/db/tables.js';
import { countryOfPhone, isValidPhone } from '../src/phone.js';
import { hashApiKey } from '../src/modules/accounts/accounts.service.js';
import { hashPassword } from '../src/modules/people/passwords.js';
import { SANDBOX_PHONE_NUMBER } from '../src/channels/sandbox/sandbox-channel.js';
import type { CustomerRecord } from '../src/modules/customers/customers.schema.js';

export const BENCH_ACCOUNT_ID = '00000000-0000-4000-8000-00000000be7c';
const DAY_MS = 86_400_000;

export interface SeedOptions {
  customers: number;
  /** Customers with a message history (spread evenly over all customers); their 24-hour window is open. */
  conversations: number;
  messagesPerConversation: number;
  /** API keys of the bench account (the messaging bucket is 5/s per key: a load rotates them). */
  apiKeys: number;
  /** The seed's "now": created_at times lie in the year before it, messages in the hours before it. */
  now: Date;
  /**
   * All messages of the account (the inbox's history). Unset: only the `conversations`, of
   * `messagesPerConversation` messages each. Set: one customer in four has a history, of a long-tailed
   * length (the open-window conversations at least `messagesPerConversation`, `longConversations` of
   * LONG_CONVERSATION messages), the counts summing to this.
   */
  messages?: number;
  /** Conversations of exactly LONG_CONVERSATION messages (with `messages`). */
  longConversations?: number;
  /** People who sign in to the inbox: agents (role agent) in `teams` teams, and one admin. */
  agents?: number;
  teams?: number;
}

export const DEFAULT_SEED: SeedOptions = {
  customers: 1_000_000,
  conversations: 10_000,
  messagesPerConversation: 20,
  apiKeys: 1_000,
  now: new Date(),
};

/** The inbox's seed (issue 18): 10M messages over 1M customers, 50 agents in 5 teams. */
export const DEFAULT_INBOX_SEED = { messages: 10_000_000, longConversations: 100, agents: 50, teams: 5 } as const;
/** A long conversation's messages: the inbox must open one of these fast. */
export const LONG_CONVERSATION = 10_000;
/** The password of every seeded person. */
export const BENCH_PASSWORD = 'openmumble-bench-password';
/** A seeded person's email: agents 0…n-1, the admin is `admin`. */
export const benchPersonEmail = (agent: number | 'admin') => (agent === 'admin' ? 'admin@bench.example' : `agent${agent}@bench.example`);

export interface SeedResult {
  options: SeedOptions;
  seconds: number;
  rows: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// The data: a pure function of the customer's index, so a load can address any seeded customer.

/**
 * Mobile-number shapes of countries whose calling code is theirs alone: the country of every
 * number of a shape is the same, so libphonenumber is asked once per shape (and checked on a
 * sample of rows, see verifyCountries).
 */
const PHONE_SHAPES = ['9725', '55119', '919', '4915', '3519', '5255'] as const;
/** add-new-customer in a load uses numbers of a shape no seeded customer has (France, +33 7). */
export const NEW_CUSTOMER_PREFIX = '337';

export function seededPhone(index: number): string {
  const shape = PHONE_SHAPES[index % PHONE_SHAPES.length];
  return shape + String(Math.floor(index / PHONE_SHAPES.length)).padStart(8, '0');
}

/** A phone for the n-th customer a load creates; never a seeded one. */
export function newCustomerPhone(n: number): string {
  return NEW_CUSTOMER_PREFIX + String(n).padStart(8, '0');
}

const COUNTRY_OF_SHAPE = new Map<string, string | null>(PHONE_SHAPES.map((shape) => [shape, countryOfPhone(seededPhone(PHONE_SHAPES.indexOf(shape)))]));

function seededCountry(index: number): string | null {
  return COUNTRY_OF_SHAPE.get(PHONE_SHAPES[index % PHONE_SHAPES.length])!;
}

const FIRST_NAMES = ['Noa', 'Ana', 'Priya', 'Lukas', 'João', 'Sofía', 'Daniel', 'Maya', 'Arjun', 'Lena', 'Tomás', 'Yael'];
const LAST_NAMES = ['Cohen', 'Silva', 'Sharma', 'Müller', 'Santos', 'García', 'Levi', 'Costa', 'Patel', 'Weber', 'Ramos', 'Mizrahi'];
const SOURCES = ['web', 'whatsapp', 'import', 'facebook', null] as const;
const PLANS = ['free', 'silver', 'gold'] as const;
export const LABEL_NAMES = ['churn-risk', 'customer', 'lead', 'newsletter', 'vip'] as const;

export function labelId(n: number): string {
  return `00000000-0000-4000-8000-${String(n + 1).padStart(12, '0')}`;
}

/** A random-looking UUID v4 derived from the index (ids the service makes are random UUIDs too), the same in every run. */
function seededId(kind: number, index: number): string {
  const hex = createHash('sha1').update(`${kind}:${index}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The seed's API keys: `om_live_` + 43 base64url characters, like generated ones, derived from the index. */
export function benchApiKey(index: number): string {
  return `om_live_${createHash('sha256').update(`openmumble-bench-key-${index}`).digest('base64url')}`;
}

function customFieldsOf(index: number): Record<string, string | number | boolean> {
  switch (index % 3) {
    case 0:
      return { plan: PLANS[index % PLANS.length], lead_score: index % 100 };
    case 1:
      return { company_size: '50-100', newsletter: index % 2 === 0 };
    default:
      return {};
  }
}

function attributionOf(index: number): Record<string, string> {
  switch (index % 4) {
    case 0:
      return { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'summer_sale' };
    case 1:
      return { utm_source: 'facebook', fbclid: `IwAR${index.toString(36)}` };
    default:
      return {};
  }
}

/** The label indexes (into LABEL_NAMES) a customer carries: one in five customers has one or two. */
function labelsOf(index: number): number[] {
  if (index % 5 !== 0) return [];
  return index % 10 === 0 ? [index % LABEL_NAMES.length, (index + 1) % LABEL_NAMES.length] : [index % LABEL_NAMES.length];
}

/** A uniform number in [0, 1) from (kind, index): a 32-bit integer hash, the same in every run. */
function unit(kind: number, index: number): number {
  let h = (Math.imul(index, 0x9e3779b1) + Math.imul(kind + 1, 0x7f4a7c15)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4_294_967_296;
}

/** With `messages`: the share of customers with a history (most have none), and the tail's shape (Pareto). */
const ACTIVE_SHARE = 0.25;
const TAIL_ALPHA = 1.1;
/** The longest conversation of the tail (the long ones are LONG_CONVERSATION). */
const TAIL_MAX = LONG_CONVERSATION / 2;
const OTHER_STATUSES = ['closed', 'closed', 'solved', 'open', 'waiting', 'pending_customer'] as const;
const INBOUND_TEXTS = ['Hi, is my order {n} on its way?', 'Can I change the delivery address?', 'Thanks, that helps', 'Do you have it in blue?', 'What time do you open tomorrow?', 'I paid for invoice {n} yesterday'];
const OUTBOUND_TEXTS = ['Thanks for writing! Let me check order {n}', 'Sure, send me the new address', 'You are welcome', 'Yes, in blue and black', 'We open at 9:00', 'Received, thank you'];

/** A customer's messages: `count` of them, the last at `lastMs`, `gapMs` apart; alternating, the last one from the customer. */
export interface History {
  count: number;
  lastMs: number;
  gapMs: number;
}

/** Who a customer is assigned to: an agent's number (and their team), a team's number alone, or nobody. */
export interface Assignment {
  agent: number | null;
  team: number | null;
}

export interface SeededPerson {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'agent';
  team: number | null;
}

export interface SeededData {
  options: SeedOptions;
  /** Indexes of the customers with a conversation (their window is open at `now`). */
  conversationCustomers(): number[];
  isConversationCustomer(index: number): boolean;
  /** Indexes of the customers with LONG_CONVERSATION messages. */
  longConversationCustomers(): number[];
  /** The customer's messages, if they have any. */
  historyOf(index: number): History | undefined;
  assignmentOf(index: number): Assignment;
  /** The person's read mark, as a position in the customer's messages (0 = the first), if they have one. */
  readPositionOf(index: number): number | undefined;
  /** A message of the customer's history (position 0 = the first), without id and wa id. */
  messageAt(index: number, position: number, history: History): Row;
  people(): SeededPerson[];
  agentId(agent: number): string;
  teamId(team: number): string;
  /** Whether seeded agent `agent` may see customer `index` (src/modules/inbox/visibility.ts). */
  agentSees(agent: number, index: number): boolean;
  customerRow(index: number): Record<string, unknown>;
  /** What get-customer answers for a seeded customer (as long as no load has changed it). */
  expectedRecord(index: number): CustomerRecord;
}

export function seededData(options: SeedOptions): SeededData {
  const nowMs = options.now.getTime();
  const start = nowMs - 365 * DAY_MS;
  const step = (364 * DAY_MS) / Math.max(1, options.customers);
  const every = options.conversations > 0 ? Math.max(1, Math.floor(options.customers / options.conversations)) : Infinity;
  const isConversationCustomer = (index: number) => index % every === 0 && index / every < options.conversations;
  const history = options.messages !== undefined;
  const longCount = history && every >= 2 && Number.isFinite(every) ? (options.longConversations ?? 0) : 0;
  const isLongConversation = (index: number) => longCount > 0 && index % every === Math.floor(every / 2) && Math.floor(index / every) < longCount;
  const agents = options.agents ?? 0;
  const teams = options.teams ?? 0;
  const perConversation = Math.max(1, options.messagesPerConversation);
  // An open-window conversation: its last messagesPerConversation messages over ~20 hours, ending with the customer's.
  const spacing = Math.floor((20 * 3_600_000) / perConversation);
  const createdMsOf = (index: number) => Math.floor(start + index * step);

  let counts: Int32Array | undefined;
  /** Every customer's message count: a pass over all customers, once. */
  const countsOf = (): Int32Array => {
    if (counts) return counts;
    counts = new Int32Array(options.customers);
    const tail: number[] = [];
    let fixed = 0;
    for (let index = 0; index < options.customers; index++) {
      if (isLongConversation(index)) counts[index] = LONG_CONVERSATION;
      else if (isConversationCustomer(index)) counts[index] = perConversation;
      else if (history && unit(3, index) < ACTIVE_SHARE) counts[index] = 1;
      else continue;
      fixed += counts[index];
      if (!isLongConversation(index)) tail.push(index);
    }
    const rest = (options.messages ?? 0) - fixed;
    if (!history || rest <= 0 || tail.length === 0) return counts;
    // The rest over the tail in proportion to Pareto weights, capped so no tail conversation passes TAIL_MAX;
    // rounded cumulatively, so the counts add up to `messages` exactly.
    const weights = tail.map((index) => Math.pow(1 - unit(4, index), -1 / TAIL_ALPHA) - 1);
    let cap = Infinity;
    let scale = 0;
    for (let round = 0; round < 40; round++) {
      const sum = weights.reduce((total, weight) => total + Math.min(weight, cap), 0);
      scale = rest / sum;
      const next = TAIL_MAX / scale;
      if (next >= cap * 0.999) break;
      cap = next;
    }
    let running = 0;
    let given = 0;
    tail.forEach((index, n) => {
      running += Math.min(weights[n], cap) * scale;
      const upTo = n === tail.length - 1 ? rest : Math.min(rest, Math.round(running));
      counts![index] += upTo - given;
      given = upTo;
    });
    return counts;
  };

  const historyOf = (index: number): History | undefined => {
    const count = index < options.customers ? countsOf()[index] : 0;
    if (!count) return undefined;
    const createdMs = createdMsOf(index);
    const roomFor = (lastMs: number, most: number) => Math.max(1, Math.min(most, Math.floor((lastMs - createdMs - 60_000) / Math.max(1, count - 1))));
    if (isConversationCustomer(index)) {
      const lastMs = nowMs - 20 * 3_600_000 - (index % 600) * 1000 + (perConversation - 1) * spacing;
      return { count, lastMs, gapMs: count <= perConversation ? spacing : roomFor(lastMs, 30 * 60_000) };
    }
    if (isLongConversation(index)) {
      // Busy chats, active in the last week.
      const lastMs = nowMs - 60_000 - Math.floor(unit(5, index) * 7 * DAY_MS);
      return { count, lastMs, gapMs: roomFor(lastMs, 10 * 60_000) };
    }
    // Any time since the customer came, more of them lately.
    const u = unit(5, index);
    const lastMs = createdMs + 60_000 + Math.floor((1 - u * u) * (nowMs - createdMs - 120_000));
    return { count, lastMs, gapMs: roomFor(lastMs, Math.floor(45 * 60_000 * (0.2 + unit(6, index)))) };
  };

  const assignmentOf = (index: number): Assignment => {
    if (agents === 0 || !historyOf(index)) return { agent: null, team: null };
    const u = unit(8, index);
    if (u < 0.5) {
      const agent = Math.floor(unit(9, index) * agents);
      return { agent, team: teams > 0 ? agent % teams : null };
    }
    if (u < 0.7 && teams > 0) return { agent: null, team: Math.floor(unit(9, index) * teams) };
    return { agent: null, team: null };
  };

  const agentId = (agent: number) => seededId(3, agent);
  /** messageAt's customer (a history is written message by message). */
  const current: { index: number; id: string; agent: number | null } = { index: -1, id: '', agent: null };
  const teamId = (team: number) => seededId(4, team);

  const fields = (index: number) => {
    const first = FIRST_NAMES[index % FIRST_NAMES.length];
    const last = LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length];
    const createdAt = new Date(createdMsOf(index)).toISOString();
    const messages = historyOf(index);
    const lastAt = messages && new Date(messages.lastMs).toISOString();
    const assignment = assignmentOf(index);
    const status = !messages ? 'new' : isConversationCustomer(index) || isLongConversation(index) ? 'open' : OTHER_STATUSES[Math.floor(unit(7, index) * OTHER_STATUSES.length)];
    return {
      id: seededId(1, index),
      phone: seededPhone(index),
      name: `${first} ${last}`,
      email: index % 3 === 2 ? null : `${first.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${index}@example.com`,
      source: SOURCES[index % SOURCES.length],
      country: seededCountry(index),
      conversation_status: status,
      last_interaction_at: lastAt ?? null,
      // Every history ends with the customer's message.
      last_inbound_at: lastAt ?? null,
      agent_id: assignment.agent === null ? null : agentId(assignment.agent),
      team_id: assignment.team === null ? null : teamId(assignment.team),
      bot: index % 10 === 3 ? 'AI' : null,
      custom_fields: customFieldsOf(index),
      attribution: attributionOf(index),
      created_at: createdAt,
    };
  };

  return {
    options,
    isConversationCustomer,
    conversationCustomers: () => Array.from({ length: Math.min(options.conversations, options.customers) }, (_, n) => n * every).filter((i) => i < options.customers),
    longConversationCustomers: () =>
      Array.from({ length: longCount }, (_, n) => n * every + Math.floor(every / 2)).filter((i) => i < options.customers && isLongConversation(i)),
    historyOf,
    assignmentOf,
    readPositionOf: (index) => {
      const messages = historyOf(index);
      if (!messages || assignmentOf(index).agent === null) return undefined;
      // The assigned agent has read all, or all but the last few.
      return Math.max(0, messages.count - 1 - Math.floor(unit(10, index) * 4));
    },
    messageAt: (index, position, messages) => {
      const inbound = (messages.count - 1 - position) % 2 === 0;
      const at = new Date(messages.lastMs - (messages.count - 1 - position) * messages.gapMs).toISOString();
      if (current.index !== index) Object.assign(current, { index, id: seededId(1, index), agent: assignmentOf(index).agent });
      const { agent } = current;
      const texts = inbound ? INBOUND_TEXTS : OUTBOUND_TEXTS;
      return {
        account_id: BENCH_ACCOUNT_ID,
        customer_id: current.id,
        direction: inbound ? 'inbound' : 'outbound',
        type: 'text',
        text: texts[(index + position) % texts.length].replace('{n}', String(1000 + (index % 9000))),
        media_url: null,
        media_key: null,
        media_mime_type: null,
        media_filename: null,
        template_id: null,
        // Outbound: sent by the assigned agent from the inbox, else through the Mumble API.
        sender_type: inbound ? null : agent === null ? 'api' : 'agent',
        sender_agent_id: inbound || agent === null ? null : agentId(agent),
        business_phone: SANDBOX_PHONE_NUMBER,
        status: inbound ? 'received' : 'read',
        error_code: null,
        error_title: null,
        created_at: at,
        updated_at: at,
      };
    },
    people: () => [
      ...Array.from({ length: agents }, (_, n): SeededPerson => ({ id: agentId(n), name: `Agent ${n}`, email: benchPersonEmail(n), role: 'agent', team: teams > 0 ? n % teams : null })),
      ...(agents > 0 ? [{ id: agentId(agents), name: 'Admin', email: benchPersonEmail('admin'), role: 'admin' as const, team: null }] : []),
    ],
    agentId,
    teamId,
    agentSees: (agent, index) => {
      const assignment = assignmentOf(index);
      if (assignment.agent === agent) return true;
      if (assignment.team !== null && teams > 0 && assignment.team === agent % teams) return true;
      return assignment.agent === null && assignment.team === null;
    },
    customerRow: (index) => {
      const f = fields(index);
      return {
        id: f.id,
        account_id: BENCH_ACCOUNT_ID,
        phone: f.phone,
        name: f.name,
        email: f.email,
        source: f.source,
        country: f.country,
        conversation_status: f.conversation_status,
        last_interaction_at: f.last_interaction_at,
        last_inbound_at: f.last_inbound_at,
        agent_id: f.agent_id,
        team_id: f.team_id,
        bot: f.bot,
        bot_paused_at: null,
        bot_paused_by: null,
        whatsapp_user_id: null,
        custom_fields: JSON.stringify(f.custom_fields),
        attribution: JSON.stringify(f.attribution),
        created_at: f.created_at,
        updated_at: f.last_interaction_at ?? f.created_at,
      };
    },
    expectedRecord: (index) => {
      const f = fields(index);
      return {
        id: f.id,
        name: f.name,
        phone: f.phone,
        email: f.email,
        country: f.country,
        conversation_status: f.conversation_status as CustomerRecord['conversation_status'],
        last_interaction: f.last_interaction_at?.slice(0, 19) ?? null,
        source: f.source,
        custom_fields: f.custom_fields,
        attribution: f.attribution,
        labels: labelsOf(index).map((n) => LABEL_NAMES[n]).sort(),
        agent_id: f.agent_id,
        team_id: f.team_id,
        bot: f.bot,
        created_at: f.created_at.slice(0, 19),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Writers: one per dialect, each taking rows of one table in batches.

type Row = Record<string, unknown>;

interface BulkWriter {
  db: Kysely<DB>;
  /** Inserts rows (all with the same columns) in multi-row statements. */
  insert(table: string, columns: string[], rows: Row[]): Promise<void>;
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /**
   * A bulk load of `table` without its secondary indexes, constraints and triggers: dropped before,
   * made again after (as the migrations made them), the full-text index rebuilt from the rows (what
   * the triggers would have written). Creating an index over 10M rows sorts once; keeping it up row
   * by row is several times slower.
   */
  withoutIndexes(table: string, work: () => Promise<void>): Promise<void>;
  /** After rows with explicit ids: the id sequence continues after them. */
  continueIds(table: string): Promise<void>;
  /** After the load: planner statistics where the database keeps them up by itself. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

/** SQLite: one prepared statement of many rows, reused; bound values must be scalars. */
function sqliteWriter(path: string): BulkWriter {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const connection = new SQLite(file);
  // A seed is rebuilt, not recovered: no journal and no fsync while loading. The file is switched to
  // WAL at the end, as the server keeps it (the server opens it with synchronous = NORMAL and group commit).
  connection.pragma('journal_mode = OFF');
  connection.pragma('synchronous = OFF');
  // The rows reference each other correctly by construction (the bench test checks a sample).
  connection.pragma('foreign_keys = OFF');
  // 2 GB: the messages' unique (account, WhatsApp id) index takes random inserts while 10M rows go in.
  connection.pragma('cache_size = -2097152');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: connection }) });
  const statements = new Map<string, SQLite.Statement>();
  const ROWS_PER_STATEMENT = 200;
  const prepared = (table: string, columns: string[], rows: number) => {
    const key = `${table}:${columns.join(',')}:${rows}`;
    let statement = statements.get(key);
    if (!statement) {
      const tuple = `(${columns.map(() => '?').join(',')})`;
      statement = connection.prepare(`insert into ${table} (${columns.join(',')}) values ${Array(rows).fill(tuple).join(',')}`);
      statements.set(key, statement);
    }
    return statement;
  };
  return {
    db,
    async insert(table, columns, rows) {
      for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(offset, offset + ROWS_PER_STATEMENT);
        const values: unknown[] = [];
        for (const row of chunk) for (const column of columns) values.push(row[column]);
        prepared(table, columns, chunk.length).run(values);
      }
    },
    async transaction(work) {
      connection.exec('begin');
      try {
        const result = await work();
        connection.exec('commit');
        return result;
      } catch (error) {
        connection.exec('rollback');
        throw error;
      }
    },
    async withoutIndexes(table, work) {
      const saved = connection
        .prepare(`select type, name, sql from sqlite_master where tbl_name = ? and type in ('index', 'trigger') and sql is not null`)
        .all(table) as Array<{ type: 'index' | 'trigger'; name: string; sql: string }>;
      const fullText = (connection.prepare(`select name from sqlite_master where type = 'table' and sql like ?`).all(`%content='${table}'%`) as Array<{ name: string }>).map((row) => row.name);
      for (const item of saved) connection.exec(`drop ${item.type} ${item.name}`);
      await work();
      for (const item of saved.filter((item) => item.type === 'index')) connection.exec(item.sql);
      for (const name of fullText) connection.exec(`insert into ${name}(${name}) values ('rebuild')`);
      for (const item of saved.filter((item) => item.type === 'trigger')) connection.exec(item.sql);
    },
    // INTEGER PRIMARY KEY AUTOINCREMENT keeps the largest id ever inserted, explicit ones too.
    async continueIds() {},
    async finish() {
      connection.pragma('journal_mode = WAL');
    },
    close: () => db.destroy(),
  };
}

/** Column types for PostgreSQL's unnest(): everything is text but these. */
const INTEGER_COLUMNS = new Set(['customers_count', 'error_code', 'messaging_enabled', 'failed_sign_ins']);
const BIGINT_COLUMNS = new Set(['messages.id', 'conversation_reads.last_read_message_id']);
const columnType = (table: string, column: string) => (BIGINT_COLUMNS.has(`${table}.${column}`) ? 'bigint' : INTEGER_COLUMNS.has(column) ? 'integer' : 'text');

/** PostgreSQL: `insert … select * from unnest($1::text[], …)`, one array per column, thousands of rows a statement. */
function postgresWriter(url: string): BulkWriter {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const ROWS_PER_STATEMENT = 10_000;
  let client: pg.PoolClient | undefined;
  const query = async (text: string, values?: unknown[]) => {
    if (client) return client.query(text, values);
    return pool.query(text, values);
  };
  return {
    db,
    async insert(table, columns, rows) {
      const casts = columns.map((column, n) => `$${n + 1}::${columnType(table, column)}[]`).join(', ');
      const text = `insert into ${table} (${columns.join(', ')}) select * from unnest(${casts})`;
      for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(offset, offset + ROWS_PER_STATEMENT);
        await query(text, columns.map((column) => chunk.map((row) => row[column] ?? null)));
      }
    },
    async transaction(work) {
      client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work();
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
        client = undefined;
      }
    },
    async withoutIndexes(table, work) {
      const constraints = (await query(`select conname, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = $1::regclass and contype in ('u', 'f')`, [table])).rows as Array<{ conname: string; def: string }>;
      const indexes = (
        await query(
          `select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename = $1 and indexname not in (select conname from pg_constraint where conrelid = $1::regclass)`,
          [table],
        )
      ).rows as Array<{ indexname: string; indexdef: string }>;
      for (const constraint of constraints) await query(`alter table ${table} drop constraint ${constraint.conname}`);
      for (const index of indexes) await query(`drop index ${index.indexname}`);
      await work();
      client = await pool.connect();
      try {
        await client.query(`set maintenance_work_mem = '1GB'`);
        for (const index of indexes) await client.query(index.indexdef);
        for (const constraint of constraints) await client.query(`alter table ${table} add constraint ${constraint.conname} ${constraint.def}`);
      } finally {
        client.release();
        client = undefined;
      }
    },
    async continueIds(table) {
      await query(`select setval(pg_get_serial_sequence('${table}', 'id'), coalesce((select max(id) from ${table}), 0) + 1, false)`);
    },
    async finish() {
      // A database that grew by itself has been vacuumed and analysed by autovacuum (statistics, and
      // the visibility map that index-only scans need); a bulk load has not been yet.
      for (const table of ['customers', 'messages', 'customer_labels', 'labels', 'api_keys', 'custom_field_names', 'agents', 'teams', 'team_members', 'conversation_reads']) await query(`vacuum analyze ${table}`);
    },
    close: () => db.destroy(),
  };
}

export function openWriter(url: string): BulkWriter {
  return url.startsWith('sqlite:') ? sqliteWriter(url.slice('sqlite:'.length)) : postgresWriter(url);
}

// ---------------------------------------------------------------------------------------------

const CUSTOMER_COLUMNS = [
  'id', 'account_id', 'phone', 'name', 'email', 'source', 'country', 'conversation_status', 'last_interaction_at', 'last_inbound_at',
  'agent_id', 'team_id', 'bot', 'custom_fields', 'attribution', 'created_at', 'updated_at',
];
const MESSAGE_COLUMNS = [
  'id', 'account_id', 'customer_id', 'message_wa_id', 'direction', 'type', 'text', 'media_url', 'media_key', 'media_mime_type', 'media_filename',
  'template_id', 'sender_type', 'sender_agent_id', 'business_phone', 'status', 'error_code', 'error_title', 'created_at', 'updated_at',
];
const AGENT_COLUMNS = ['id', 'account_id', 'name', 'email', 'email_normalized', 'role', 'password_hash', 'disabled_at', 'failed_sign_ins', 'last_failed_sign_in_at', 'created_at'];

/** WhatsApp message ids: `wamid.` and 32 random base64url characters, from a pool of random bytes. */
function waIds(): () => string {
  let pool = Buffer.alloc(0);
  let offset = 0;
  let issued = 0;
  return () => {
    if (offset + 24 > pool.length) {
      pool = randomBytes(24 * 8192);
      offset = 0;
    }
    offset += 24;
    pool.writeUIntBE(++issued, offset - 24, 6);
    return `wamid.${pool.toString('base64url', offset - 24, offset)}`;
  };
}
/** Rows per transaction: big enough to amortise the commit, small enough to keep memory flat. */
const BATCH = 50_000;

/** libphonenumber on a sample of rows: the per-shape country must be what the service computes. */
export function verifyCountries(data: SeededData, samples = 2_000): void {
  const { customers } = data.options;
  for (let n = 0; n < Math.min(samples, customers); n++) {
    const index = Math.floor((n * customers) / Math.min(samples, customers));
    const row = data.customerRow(index);
    const phone = row.phone as string;
    if (!isValidPhone(phone)) throw new Error(`seed: invalid phone ${phone}`);
    if (countryOfPhone(phone) !== row.country) throw new Error(`seed: country of ${phone} is ${countryOfPhone(phone)}, not ${row.country}`);
  }
}

export async function seed(url: string, overrides: Partial<SeedOptions> = {}, log: (line: string) => void = () => {}): Promise<SeedResult> {
  const options = { ...DEFAULT_SEED, ...overrides };
  const data = seededData(options);
  verifyCountries(data);
  const started = performance.now();
  const writer = openWriter(url);
  const rows: Record<string, number> = {};
  const count = (table: string, n: number) => (rows[table] = (rows[table] ?? 0) + n);
  try {
    await migrateToLatest(writer.db);
    const createdAt = new Date(options.now.getTime() - 366 * DAY_MS).toISOString();
    await writer.transaction(async () => {
      await writer.insert('accounts', ['id', 'name', 'messaging_enabled', 'channel_type', 'created_at'], [
        { id: BENCH_ACCOUNT_ID, name: 'bench', messaging_enabled: 1, channel_type: 'sandbox', created_at: createdAt },
      ]);
      const keys = Array.from({ length: options.apiKeys }, (_, n) => {
        const key = benchApiKey(n);
        return {
          id: seededId(2, n),
          account_id: BENCH_ACCOUNT_ID,
          name: `bench ${n}`,
          key_hash: hashApiKey(key),
          key_prefix: key.slice(0, 'om_live_'.length + 4),
          created_at: createdAt,
          last_used_at: null,
          revoked_at: null,
        };
      });
      await writer.insert('api_keys', Object.keys(keys[0]), keys);
      await writer.insert('labels', ['id', 'account_id', 'name', 'created_at'], LABEL_NAMES.map((name, n) => ({ id: labelId(n), account_id: BENCH_ACCOUNT_ID, name, created_at: createdAt })));
      count('api_keys', keys.length);
      count('labels', LABEL_NAMES.length);
    });

    // People before customers: customers reference their agent and team.
    const people = data.people();
    if (people.length > 0) {
      const passwordHash = await hashPassword(BENCH_PASSWORD);
      const teams = Array.from({ length: options.teams ?? 0 }, (_, n) => ({ id: data.teamId(n), account_id: BENCH_ACCOUNT_ID, name: `Team ${n}`, created_at: createdAt }));
      const agents = people.map((person) => ({
        id: person.id,
        account_id: BENCH_ACCOUNT_ID,
        name: person.name,
        email: person.email,
        email_normalized: person.email,
        role: person.role,
        password_hash: passwordHash,
        disabled_at: null,
        failed_sign_ins: 0,
        last_failed_sign_in_at: null,
        created_at: createdAt,
      }));
      const members = people
        .filter((person) => person.team !== null)
        .map((person) => ({ team_id: data.teamId(person.team!), agent_id: person.id, account_id: BENCH_ACCOUNT_ID, created_at: createdAt }));
      await writer.transaction(async () => {
        if (teams.length > 0) await writer.insert('teams', ['id', 'account_id', 'name', 'created_at'], teams);
        await writer.insert('agents', AGENT_COLUMNS, agents);
        if (members.length > 0) await writer.insert('team_members', ['team_id', 'agent_id', 'account_id', 'created_at'], members);
      });
      count('teams', teams.length);
      count('agents', agents.length);
      count('team_members', members.length);
    }

    const fieldCounts = new Map<string, number>();
    for (let from = 0; from < options.customers; from += BATCH) {
      const to = Math.min(options.customers, from + BATCH);
      const customers: Row[] = [];
      const labels: Row[] = [];
      for (let index = from; index < to; index++) {
        const row = data.customerRow(index);
        customers.push(row);
        for (const name of Object.keys(JSON.parse(row.custom_fields as string))) fieldCounts.set(name, (fieldCounts.get(name) ?? 0) + 1);
        for (const label of labelsOf(index)) {
          labels.push({ account_id: BENCH_ACCOUNT_ID, label_id: labelId(label), customer_id: row.id, created_at: row.created_at });
        }
      }
      await writer.transaction(async () => {
        await writer.insert('customers', CUSTOMER_COLUMNS, customers);
        if (labels.length > 0) await writer.insert('customer_labels', ['account_id', 'label_id', 'customer_id', 'created_at'], labels);
      });
      count('customers', customers.length);
      count('customer_labels', labels.length);
      if ((to / BATCH) % 4 === 0 || to === options.customers) log(`seed: ${to.toLocaleString('en')} customers`);
    }
    await writer.transaction(async () => {
      const names = [...fieldCounts].map(([name, customers_count]) => ({ account_id: BENCH_ACCOUNT_ID, name, customers_count }));
      if (names.length > 0) await writer.insert('custom_field_names', ['account_id', 'name', 'customers_count'], names);
      count('custom_field_names', names.length);
    });
    // The account's customer count, which add-new-customer and delete-customer keep (get-all-customers' total).
    await writer.db.updateTable('accounts').set({ customers_count: rows.customers ?? 0 }).where('id', '=', BENCH_ACCOUNT_ID).execute();

    // Every customer's history, in customer order, ids given here (as the database would: they grow), so
    // each person's read mark can name the message it stops at.
    const reads: Row[] = [];
    let conversations = 0;
    await writer.withoutIndexes('messages', async () => {
      const waId = waIds();
      let nextId = 1;
      let batch: Row[] = [];
      let logged = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const messages = batch;
        batch = [];
        await writer.transaction(() => writer.insert('messages', MESSAGE_COLUMNS, messages));
        count('messages', messages.length);
        if (rows.messages! - logged >= 1_000_000) {
          logged = rows.messages!;
          log(`seed: ${logged.toLocaleString('en')} messages`);
        }
      };
      for (let index = 0; index < options.customers; index++) {
        const history = data.historyOf(index);
        if (!history) continue;
        conversations++;
        const firstId = nextId;
        for (let position = 0; position < history.count; position++) {
          const message = data.messageAt(index, position, history);
          message.id = nextId++;
          message.message_wa_id = waId();
          batch.push(message);
          if (batch.length >= BATCH) await flush();
        }
        const read = data.readPositionOf(index);
        const { agent } = data.assignmentOf(index);
        if (read !== undefined && agent !== null) {
          const at = data.messageAt(index, read, history).created_at;
          reads.push({ agent_id: data.agentId(agent), customer_id: data.customerRow(index).id, last_read_message_id: firstId + read, read_at: at });
        }
      }
      await flush();
    });
    await writer.continueIds('messages');
    for (let from = 0; from < reads.length; from += BATCH) {
      await writer.transaction(() => writer.insert('conversation_reads', ['agent_id', 'customer_id', 'last_read_message_id', 'read_at'], reads.slice(from, from + BATCH)));
    }
    count('conversation_reads', reads.length);
    log(`seed: ${(rows.messages ?? 0).toLocaleString('en')} messages in ${conversations.toLocaleString('en')} conversations`);
    await writer.finish();
  } finally {
    await writer.close();
  }
  return { options, seconds: (performance.now() - started) / 1000, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [url, customers] = process.argv.slice(2);
  if (url === '--ipc') {
    // bench/run.ts seeds each database in a process of its own, in parallel.
    process.once('message', (message: { url: string; options: SeedOptions & { now: string }; label: string }) => {
      seed(message.url, { ...message.options, now: new Date(message.options.now) }, (line) => console.log(`${message.label} ${line}`)).then(
        (result) => process.send!({ result }, () => process.exit(0)),
        (error: unknown) => process.send!({ error: (error as Error).stack ?? String(error) }, () => process.exit(1)),
      );
    });
  } else if (!url) {
    console.error('usage: tsx bench/seed.ts <sqlite:path | postgres://…> [customers] [messages]');
    process.exit(2);
  } else {
    // With a message count: the inbox's history, people and assignments too (as npm run bench seeds it).
    const messages = process.argv[4];
    const inbox = messages ? { ...DEFAULT_INBOX_SEED, messages: Number(messages), longConversations: Math.max(1, Math.min(DEFAULT_INBOX_SEED.longConversations, Math.floor(Number(messages) / (10 * LONG_CONVERSATION)))) } : {};
    const result = await seed(url, { ...(customers && { customers: Number(customers) }), ...inbox }, console.log);
    console.log(`seeded in ${result.seconds.toFixed(1)} s:`, result.rows);
  }
}
