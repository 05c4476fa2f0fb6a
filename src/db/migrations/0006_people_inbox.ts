import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * People who sign in (agents with an email, a role and a password), their sessions and invitations,
 * team membership, the inbox's own records (notes, read marks, canned responses, who sent each
 * outbound message, a bot's hand-over to a person) and the live events the inbox streams.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema.alterTable('agents').addColumn('email_normalized', 'text').execute();
  await db.schema.alterTable('agents').addColumn('role', 'text', (c) => c.notNull().defaultTo('agent')).execute();
  await db.schema.alterTable('agents').addColumn('password_hash', 'text').execute();
  await db.schema.alterTable('agents').addColumn('disabled_at', 'text').execute();
  await db.schema.alterTable('agents').addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('agents').addColumn('last_failed_sign_in_at', 'text').execute();
  // Emails are unique across the server, whatever their case; an earlier duplicate keeps its email
  // as a name only (the oldest agent with it becomes the person).
  await sql`update agents set email_normalized = lower(trim(email)) where email is not null and trim(email) <> ''`.execute(db);
  await sql`
    update agents set email_normalized = null
    where email_normalized is not null and exists (
      select 1 from agents older where older.email_normalized = agents.email_normalized
      and (older.created_at < agents.created_at or (older.created_at = agents.created_at and older.id < agents.id)))`.execute(db);
  await db.schema.createIndex('agents_email_normalized').on('agents').column('email_normalized').unique().execute();

  await db.schema.alterTable('accounts').addColumn('hide_unassigned', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'agent_id'])
    .execute();
  await db.schema.createIndex('team_members_agent').on('team_members').column('agent_id').execute();

  // A session's id is the SHA-256 of the cookie's token: a leaked table signs nobody in.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sessions_agent').on('sessions').column('agent_id').execute();
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invitations_agent').on('invitations').column('agent_id').execute();

  // Who sent an outbound message (`agent`, `bot`, `api`, `campaign`), and what a message holds
  // beyond its text (shared contacts, order items, a location, a reaction's target) as JSON.
  await db.schema.alterTable('messages').addColumn('sender_type', 'text').execute();
  await db.schema.alterTable('messages').addColumn('sender_agent_id', 'text', (c) => c.references('agents.id').onDelete('set null')).execute();
  await db.schema.alterTable('messages').addColumn('content', 'text').execute();
  await sql`update messages set sender_type = 'api' where direction = 'outbound'`.execute(db);

  // A person took the conversation over from its bot (the bot stays assigned, and answers again once handed back).
  await db.schema.alterTable('customers').addColumn('bot_paused_at', 'text').execute();
  await db.schema.alterTable('customers').addColumn('bot_paused_by', 'text').execute();
  // The conversation list: an account's customers with messages, newest activity first.
  await db.schema.createIndex('customers_account_activity').on('customers').columns(['account_id', 'last_interaction_at', 'id']).execute();
  await db.schema.createIndex('customers_agent_activity').on('customers').columns(['agent_id', 'last_interaction_at']).execute();
  await db.schema.createIndex('customers_team_activity').on('customers').columns(['team_id', 'last_interaction_at']).execute();

  // Private notes: beside the messages, never sent to WhatsApp nor shown by the Mumble API.
  await db.schema
    .createTable('notes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.references('agents.id').onDelete('set null'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notes_conversation').on('notes').columns(['customer_id', 'created_at', 'id']).execute();

  // How far each person has read each conversation (unread = inbound messages after it).
  await db.schema
    .createTable('conversation_reads')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('last_read_message_id', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('conversation_reads_pk', ['agent_id', 'customer_id'])
    .execute();

  await db.schema
    .createTable('canned_responses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('shortcut', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('canned_responses_account_shortcut', ['account_id', 'shortcut'])
    .execute();

  // What the inbox streams: every change of a conversation, with the assignment it had (and had
  // before) so each connection can apply the visibility rule. The id is the SSE event id.
  await db.schema
    .createTable('live_events')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('team_id', 'text')
    .addColumn('previous_agent_id', 'text')
    .addColumn('previous_team_id', 'text')
    .addColumn('recipient_agent_id', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('live_events_account').on('live_events').columns(['account_id', 'id']).execute();
  await db.schema.createIndex('live_events_created').on('live_events').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['live_events', 'canned_responses', 'conversation_reads', 'notes', 'invitations', 'sessions', 'team_members']) {
    await db.schema.dropTable(table).execute();
  }
  for (const index of ['customers_account_activity', 'customers_agent_activity', 'customers_team_activity', 'agents_email_normalized']) {
    await db.schema.dropIndex(index).execute();
  }
  for (const column of ['bot_paused_at', 'bot_paused_by']) await db.schema.alterTable('customers').dropColumn(column).execute();
  for (const column of ['content', 'sender_agent_id', 'sender_type']) await db.schema.alterTable('messages').dropColumn(column).execute();
  await db.schema.alterTable('accounts').dropColumn('hide_unassigned').execute();
  for (const column of ['last_failed_sign_in_at', 'failed_sign_ins', 'disabled_at', 'password_hash', 'role', 'email_normalized']) {
    await db.schema.alterTable('agents').dropColumn(column).execute();
  }
}
