import type { Kysely } from 'kysely';

/** Each person's inbox language (`en`, `he`); null: the browser's choice. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('agents').addColumn('language', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('agents').dropColumn('language').execute();
}
