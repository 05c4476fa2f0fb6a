// Bulk seeding for benchmarks: an account with N customers (1,000,000 by default), labels, API keys
// and a conversation history for some customers, written in batched multi-row inserts inside
// transactions straight through the driver. The rows are the ones the service writes (same
// columns, valid phones, the country libphonenumber gives, JSON custom fields and attribution, the
// custom-field and customer counts that add-new-customer keeps), so the server reads them like its own.
//
//   npx tsx bench/seed.ts sqlite:/tmp/bench.db [customers]
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
}

export const DEFAULT_SEED: SeedOptions = {
  customers: 1_000_000,
  conversations: 10_000,
  messagesPerConversation: 20,
  apiKeys: 1_000,
  now: new Date(),
};

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

interface Timeline {
  createdAt: string;
  conversation?: { firstMessageMs: number; lastInboundAt: string; lastInteractionAt: string };
}

export interface SeededData {
  options: SeedOptions;
  /** Indexes of the customers with a conversation (their window is open at `now`). */
  conversationCustomers(): number[];
  isConversationCustomer(index: number): boolean;
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
  // A conversation: messagesPerConversation messages over the last ~20 hours, alternating, ending with the customer's.
  const spacing = Math.floor((20 * 3_600_000) / Math.max(1, options.messagesPerConversation));
  const timeline = (index: number): Timeline => {
    const createdAt = new Date(Math.floor(start + index * step)).toISOString();
    if (!isConversationCustomer(index)) return { createdAt };
    const firstMessageMs = nowMs - 20 * 3_600_000 - (index % 600) * 1000;
    const last = firstMessageMs + (options.messagesPerConversation - 1) * spacing;
    const iso = new Date(last).toISOString();
    return { createdAt, conversation: { firstMessageMs, lastInboundAt: iso, lastInteractionAt: iso } };
  };

  const fields = (index: number) => {
    const first = FIRST_NAMES[index % FIRST_NAMES.length];
    const last = LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length];
    const { createdAt, conversation } = timeline(index);
    return {
      id: seededId(1, index),
      phone: seededPhone(index),
      name: `${first} ${last}`,
      email: index % 3 === 2 ? null : `${first.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${index}@example.com`,
      source: SOURCES[index % SOURCES.length],
      country: seededCountry(index),
      conversation_status: conversation ? 'open' : 'new',
      last_interaction_at: conversation?.lastInteractionAt ?? null,
      last_inbound_at: conversation?.lastInboundAt ?? null,
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
        agent_id: null,
        team_id: null,
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
        agent_id: null,
        team_id: null,
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
  connection.pragma('cache_size = -262144');
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
    async finish() {
      connection.pragma('journal_mode = WAL');
    },
    close: () => db.destroy(),
  };
}

/** Column types for PostgreSQL's unnest(): everything is text but these. */
const INTEGER_COLUMNS = new Set(['customers_count', 'error_code', 'messaging_enabled']);

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
      const casts = columns.map((column, n) => `$${n + 1}::${INTEGER_COLUMNS.has(column) ? 'integer' : 'text'}[]`).join(', ');
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
    async finish() {
      // A database that grew by itself has been vacuumed and analysed by autovacuum (statistics, and
      // the visibility map that index-only scans need); a bulk load has not been yet.
      for (const table of ['customers', 'messages', 'customer_labels', 'labels', 'api_keys', 'custom_field_names']) await query(`vacuum analyze ${table}`);
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
  'account_id', 'customer_id', 'message_wa_id', 'direction', 'type', 'text', 'media_url', 'media_key', 'media_mime_type', 'media_filename',
  'template_id', 'business_phone', 'status', 'error_code', 'error_title', 'created_at', 'updated_at',
];
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

    const conversationCustomers = data.conversationCustomers();
    const perBatch = Math.max(1, Math.floor(BATCH / Math.max(1, options.messagesPerConversation)));
    const spacing = Math.floor((20 * 3_600_000) / Math.max(1, options.messagesPerConversation));
    for (let from = 0; from < conversationCustomers.length; from += perBatch) {
      const messages: Row[] = [];
      for (const index of conversationCustomers.slice(from, from + perBatch)) {
        const customer = data.customerRow(index);
        const lastInbound = Date.parse(customer.last_inbound_at as string);
        const first = lastInbound - (options.messagesPerConversation - 1) * spacing;
        for (let m = 0; m < options.messagesPerConversation; m++) {
          // Alternating, the last one (m = count - 1) from the customer.
          const inbound = (options.messagesPerConversation - 1 - m) % 2 === 0;
          const at = new Date(first + m * spacing).toISOString();
          messages.push({
            account_id: BENCH_ACCOUNT_ID,
            customer_id: customer.id,
            message_wa_id: `wamid.${randomBytes(24).toString('base64url')}`,
            direction: inbound ? 'inbound' : 'outbound',
            type: 'text',
            text: inbound ? `Hi, this is message ${m} about my order` : `Thanks for writing! Reply ${m}`,
            media_url: null,
            media_key: null,
            media_mime_type: null,
            media_filename: null,
            template_id: null,
            business_phone: SANDBOX_PHONE_NUMBER,
            status: inbound ? 'received' : 'read',
            error_code: null,
            error_title: null,
            created_at: at,
            updated_at: at,
          });
        }
      }
      await writer.transaction(() => writer.insert('messages', MESSAGE_COLUMNS, messages));
      count('messages', messages.length);
    }
    log(`seed: ${(rows.messages ?? 0).toLocaleString('en')} messages in ${conversationCustomers.length.toLocaleString('en')} conversations`);
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
    console.error('usage: tsx bench/seed.ts <sqlite:path | postgres://…> [customers]');
    process.exit(2);
  } else {
    const result = await seed(url, customers ? { customers: Number(customers) } : {}, console.log);
    console.log(`seeded in ${result.seconds.toFixed(1)} s:`, result.rows);
  }
}
