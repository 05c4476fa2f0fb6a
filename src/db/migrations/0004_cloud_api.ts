import type { Kysely } from 'kysely';

/**
 * The WhatsApp Cloud API channel: each connected account's number (token encrypted), and the inbox
 * of webhook deliveries from Meta, stored before they are acknowledged and processed by a job.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('whatsapp_channels')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    // A phone number id belongs to one account: webhooks are routed by it.
    .addColumn('phone_number_id', 'text', (c) => c.notNull().unique())
    .addColumn('waba_id', 'text', (c) => c.notNull())
    .addColumn('display_phone_number', 'text', (c) => c.notNull())
    // AES-256-GCM, key derived from OPENMUMBLE_SECRET_KEY (src/secrets/secret-box.ts).
    .addColumn('access_token', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('connected'))
    .addColumn('status_reason', 'text')
    .addColumn('status_changed_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('whatsapp_channels_waba').on('whatsapp_channels').column('waba_id').execute();

  await db.schema
    .createTable('whatsapp_webhook_inbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // SHA-256 of the raw body: Meta's redelivery of the same body is stored once.
    .addColumn('body_sha256', 'text', (c) => c.notNull().unique())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'text')
    // processed | unrouted (no account has its phone number id) | partly_unrouted
    .addColumn('outcome', 'text')
    .addColumn('unrouted_phone_number_ids', 'text')
    .addColumn('last_error', 'text')
    // Which process processed it, and how many times it was processed (1: exactly once).
    .addColumn('processed_by', 'text')
    .addColumn('process_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('whatsapp_webhook_inbox_received').on('whatsapp_webhook_inbox').column('received_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('whatsapp_webhook_inbox').execute();
  await db.schema.dropTable('whatsapp_channels').execute();
}
