import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Full-text search for the inbox's conversation list: customers by name, phone and email, and
 * messages by their text.
 *
 * SQLite: FTS5 tables with external content, kept by triggers. Customers use the trigram tokenizer
 * (any substring of 3+ characters: a part of a phone number, a name in any script); messages use
 * unicode61 without diacritics (words, by prefix), which splits Hebrew and Arabic on spaces as it
 * should. PostgreSQL: GIN indexes on `to_tsvector('simple', …)` expressions (no stemming, no stop
 * words: names and chats in any language), queried by prefix; the customers' one also holds the phone
 * reversed, so a number typed without its country code (its end) is a prefix match too.
 * The queries that use them are in src/modules/inbox/inbox-search.ts: change both together.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index customers_search on customers using gin (to_tsvector('simple', coalesce(name, '') || ' ' || phone || ' ' || reverse(phone) || ' ' || coalesce(email, '')))`.execute(db);
    await sql`create index messages_search on messages using gin (to_tsvector('simple', coalesce(text, '')))`.execute(db);
    return;
  }
  await sql`create virtual table customers_fts using fts5(name, phone, email, content='customers', content_rowid='rowid', tokenize='trigram')`.execute(db);
  await sql`create trigger customers_fts_insert after insert on customers begin
    insert into customers_fts(rowid, name, phone, email) values (new.rowid, new.name, new.phone, new.email);
  end`.execute(db);
  await sql`create trigger customers_fts_delete after delete on customers begin
    insert into customers_fts(customers_fts, rowid, name, phone, email) values ('delete', old.rowid, old.name, old.phone, old.email);
  end`.execute(db);
  await sql`create trigger customers_fts_update after update of name, phone, email on customers begin
    insert into customers_fts(customers_fts, rowid, name, phone, email) values ('delete', old.rowid, old.name, old.phone, old.email);
    insert into customers_fts(rowid, name, phone, email) values (new.rowid, new.name, new.phone, new.email);
  end`.execute(db);
  await sql`insert into customers_fts(customers_fts) values ('rebuild')`.execute(db);

  await sql`create virtual table messages_fts using fts5(text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`.execute(db);
  await sql`create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts(rowid, text) values (new.id, new.text);
  end`.execute(db);
  await sql`create trigger messages_fts_delete after delete on messages begin
    insert into messages_fts(messages_fts, rowid, text) values ('delete', old.id, old.text);
  end`.execute(db);
  await sql`create trigger messages_fts_update after update of text on messages begin
    insert into messages_fts(messages_fts, rowid, text) values ('delete', old.id, old.text);
    insert into messages_fts(rowid, text) values (new.id, new.text);
  end`.execute(db);
  await sql`insert into messages_fts(messages_fts) values ('rebuild')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop index customers_search`.execute(db);
    await sql`drop index messages_search`.execute(db);
    return;
  }
  for (const trigger of ['customers_fts_insert', 'customers_fts_delete', 'customers_fts_update', 'messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) {
    await sql`drop trigger ${sql.raw(trigger)}`.execute(db);
  }
  await sql`drop table customers_fts`.execute(db);
  await sql`drop table messages_fts`.execute(db);
}
