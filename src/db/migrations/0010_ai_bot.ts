import type { Kysely } from 'kysely';

/**
 * The AI bot (docs/ai.md): each account's provider settings (the key sealed with
 * OPENMUMBLE_SECRET_KEY), the model and token counts kept on the messages it wrote, and the replies
 * it made in a conversation (its reply budget).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ai_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('base_url', 'text')
    .addColumn('api_key', 'text')
    .addColumn('model', 'text')
    .addColumn('instructions', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('knowledge', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('handoff_team_id', 'text')
    .addColumn('max_replies_per_conversation', 'integer', (c) => c.notNull().defaultTo(20))
    .addColumn('temperature', 'real')
    .addColumn('handoff_phrases', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('messages').addColumn('ai_model', 'text').execute();
  await db.schema.alterTable('messages').addColumn('ai_prompt_tokens', 'integer').execute();
  await db.schema.alterTable('messages').addColumn('ai_completion_tokens', 'integer').execute();
  await db.schema.alterTable('bot_sessions').addColumn('replies', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('bot_sessions').dropColumn('replies').execute();
  await db.schema.alterTable('messages').dropColumn('ai_completion_tokens').execute();
  await db.schema.alterTable('messages').dropColumn('ai_prompt_tokens').execute();
  await db.schema.alterTable('messages').dropColumn('ai_model').execute();
  await db.schema.dropTable('ai_settings').execute();
}
