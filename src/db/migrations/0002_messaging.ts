import { PostgresAdapter, type Kysely } from 'kysely';

/** Messages in both directions, statuses that arrived before their message, templates, and each account's channel. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('channel_type', 'text', (c) => c.notNull().defaultTo('sandbox')).execute();

  await db.schema
    .createTable('templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('body_examples', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('header', 'text')
    .addColumn('media_url', 'text')
    .addColumn('footer', 'text')
    .addColumn('buttons', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('provider_template_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('templates_account_name_language', ['account_id', 'name', 'language'])
    .execute();
  await db.schema.createIndex('templates_provider_id').on('templates').columns(['account_id', 'provider_template_id']).execute();

  // The API's message id is an integer the database assigns; the two dialects spell that differently.
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('messages')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    // Null until WhatsApp has taken the message (a send is committed before the channel is called).
    .addColumn('message_wa_id', 'text')
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('media_url', 'text')
    .addColumn('media_key', 'text')
    .addColumn('media_mime_type', 'text')
    .addColumn('media_filename', 'text')
    .addColumn('template_id', 'text', (c) => c.references('templates.id').onDelete('set null'))
    .addColumn('business_phone', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('messages_account_wa_id', ['account_id', 'message_wa_id'])
    .execute();
  // get-conversation: a customer's messages, newest first.
  await db.schema.createIndex('messages_conversation').on('messages').columns(['customer_id', 'created_at', 'id']).execute();

  // Statuses whose message we do not know yet (they can overtake the send's answer); applied when it appears.
  await db.schema
    .createTable('pending_statuses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('message_wa_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pending_statuses_message').on('pending_statuses').columns(['account_id', 'message_wa_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['pending_statuses', 'messages', 'templates']) await db.schema.dropTable(table).execute();
  await db.schema.alterTable('accounts').dropColumn('channel_type').execute();
}
