import type { Kysely } from 'kysely';

/**
 * Campaign limits of an account's number (docs/campaigns.md): the daily budget of unique recipients
 * (Meta's messaging-limit tier; null: unlimited), and the words that opt a customer out (JSON; null:
 * the defaults).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('campaign_daily_limit', 'integer').execute();
  await db.schema.alterTable('accounts').addColumn('stop_words', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('stop_words').execute();
  await db.schema.alterTable('accounts').dropColumn('campaign_daily_limit').execute();
}
