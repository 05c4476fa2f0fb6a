import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they describe the schema at their point in history, not today's types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('messaging_enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('api_keys_account').on('api_keys').column('account_id').execute();

  for (const table of ['agents', 'teams', 'bots']) {
    let builder = db.schema
      .createTable(table)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull());
    if (table === 'agents') builder = builder.addColumn('email', 'text');
    if (table === 'bots') builder = builder.addColumn('type', 'text', (c) => c.notNull().defaultTo('flow'));
    await builder.execute();
    await db.schema.createIndex(`${table}_account`).on(table).columns(['account_id', 'created_at']).execute();
  }

  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('email', 'text')
    .addColumn('source', 'text')
    .addColumn('country', 'text')
    .addColumn('conversation_status', 'text', (c) => c.notNull().defaultTo('new'))
    .addColumn('last_interaction_at', 'text')
    .addColumn('last_inbound_at', 'text')
    .addColumn('agent_id', 'text', (c) => c.references('agents.id').onDelete('set null'))
    .addColumn('team_id', 'text', (c) => c.references('teams.id').onDelete('set null'))
    .addColumn('bot', 'text')
    .addColumn('custom_fields', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('attribution', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('customers_account_phone', ['account_id', 'phone'])
    .execute();
  // get-all-customers pages by (created_at, id) within an account.
  await db.schema.createIndex('customers_account_created').on('customers').columns(['account_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('custom_field_names')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('customers_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('custom_field_names_pk', ['account_id', 'name'])
    .execute();

  await db.schema
    .createTable('labels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('labels_account_name', ['account_id', 'name'])
    .execute();

  await db.schema
    .createTable('customer_labels')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id').onDelete('cascade'))
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_labels_pk', ['label_id', 'customer_id'])
    .execute();
  await db.schema.createIndex('customer_labels_customer').on('customer_labels').column('customer_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['customer_labels', 'labels', 'custom_field_names', 'customers', 'bots', 'teams', 'agents', 'api_keys', 'accounts']) {
    await db.schema.dropTable(table).execute();
  }
}
