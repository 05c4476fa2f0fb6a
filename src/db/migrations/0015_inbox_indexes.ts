import { sql, type Kysely } from 'kysely';

/**
 * The inbox at 1M customers and 10M messages (issue 18; docs/performance.md, "The inbox at 1M
 * customers / 10M messages").
 *
 * - `messages_inbound`: a conversation's unread count is the number of its inbound messages after
 *   the person's read mark. This index holds exactly those rows, by (customer, id), so the count is a
 *   range of the index alone, not a walk over the messages' rows (5,000 of them in a 10,000-message
 *   conversation the person has not read).
 * - `customers_conversation_assignment`: the list's tab counts read every conversation the person
 *   may see (a quarter of a million at 1M customers). With the assignment in the index, they count
 *   index entries instead of reading each customer's row (7 s a request on SQLite before, cold).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('messages_inbound').on('messages').columns(['customer_id', 'id']).where(sql.ref('direction'), '=', 'inbound').execute();
  await db.schema
    .createIndex('customers_conversation_assignment')
    .on('customers')
    .columns(['account_id', 'agent_id', 'team_id', 'last_interaction_at'])
    .where(sql.ref('last_interaction_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('customers_conversation_assignment').execute();
  await db.schema.dropIndex('messages_inbound').execute();
}
