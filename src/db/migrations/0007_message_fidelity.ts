import type { Kysely } from 'kysely';

/**
 * A customer's WhatsApp business-scoped user id (BSUID, `US.13491208655302741918`): WhatsApp names a
 * person with a username by it, with or without their phone number. It finds the customer when the
 * number is withheld, and is unique per account (null for customers WhatsApp has not named so yet).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('customers').addColumn('whatsapp_user_id', 'text').execute();
  await db.schema.createIndex('customers_account_whatsapp_user').unique().on('customers').columns(['account_id', 'whatsapp_user_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('customers_account_whatsapp_user').execute();
  await db.schema.alterTable('customers').dropColumn('whatsapp_user_id').execute();
}
