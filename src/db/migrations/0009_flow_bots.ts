import type { Kysely } from 'kysely';

/**
 * Flow bots that run (docs/bots.md): a bot's flow and its versions (a running session finishes on the
 * version it started with), an account's default flow for new customers, each customer's session,
 * and the bot's outbox: what a step decided to send or change, carried out in order after the step
 * commits.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('bots').addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('accounts').addColumn('default_bot_id', 'text').execute();

  await db.schema
    .createTable('bot_flow_versions')
    .addColumn('bot_id', 'text', (c) => c.notNull().references('bots.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('flow', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bot_flow_versions_pk', ['bot_id', 'version'])
    .execute();

  await db.schema
    .createTable('bot_sessions')
    .addColumn('customer_id', 'text', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('bot_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('waiting', 'text', (c) => c.notNull())
    .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_answer', 'text')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_event', 'text')
    .addColumn('deadline_at', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('bot_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('bot_id', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bot_outbox_customer').on('bot_outbox').columns(['customer_id', 'generation', 'position']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bot_outbox').execute();
  await db.schema.dropTable('bot_sessions').execute();
  await db.schema.dropTable('bot_flow_versions').execute();
  await db.schema.alterTable('accounts').dropColumn('default_bot_id').execute();
  await db.schema.alterTable('bots').dropColumn('version').execute();
}
