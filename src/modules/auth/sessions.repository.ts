import { sql, type Kysely } from 'kysely';
import type { DB, SessionRow } from '../../db/tables.js';

export function findPersonByEmail(db: Kysely<DB>, emailNormalized: string) {
  return db.selectFrom('agents').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();
}

export async function noteFailedSignIn(db: Kysely<DB>, agentId: string, at: string): Promise<void> {
  await db
    .updateTable('agents')
    .set({ failed_sign_ins: sql`failed_sign_ins + 1`, last_failed_sign_in_at: at })
    .where('id', '=', agentId)
    .execute();
}

export async function clearFailedSignIns(db: Kysely<DB>, agentId: string): Promise<void> {
  await db.updateTable('agents').set({ failed_sign_ins: 0, last_failed_sign_in_at: null }).where('id', '=', agentId).where('failed_sign_ins', '>', 0).execute();
}

export async function insertSession(db: Kysely<DB>, row: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** A session within its lifetime and idle timeout, with its person (who may still sign in) and account. */
export function findLiveSession(db: Kysely<DB>, id: string, now: string, idleSince: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('agents', 'agents.id', 'sessions.agent_id')
    .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
    .select([
      'sessions.id as session_id',
      'sessions.last_seen_at',
      'agents.id as agent_id',
      'agents.account_id',
      'agents.name',
      'agents.role',
      'agents.language',
      'accounts.name as account_name',
      'accounts.hide_unassigned',
    ])
    .select((eb) => eb.fn.coalesce('agents.email', eb.val('')).as('email'))
    .where('sessions.id', '=', id)
    .where('sessions.expires_at', '>', now)
    .where('sessions.last_seen_at', '>', idleSince)
    .where('agents.disabled_at', 'is', null)
    .where('agents.password_hash', 'is not', null)
    .where('agents.email_normalized', 'is not', null)
    .executeTakeFirst();
}

/** The person's inbox language (null: the browser's choice). */
export async function setLanguage(db: Kysely<DB>, agentId: string, language: string | null): Promise<void> {
  await db.updateTable('agents').set({ language }).where('id', '=', agentId).execute();
}

export async function touchSession(db: Kysely<DB>, id: string, at: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export async function teamIdsOf(db: Kysely<DB>, agentId: string): Promise<string[]> {
  const rows = await db.selectFrom('team_members').select('team_id').where('agent_id', '=', agentId).orderBy('team_id').execute();
  return rows.map((row) => row.team_id);
}

export function listSessionsOf(db: Kysely<DB>, agentId: string, now: string): Promise<SessionRow[]> {
  return db.selectFrom('sessions').selectAll().where('agent_id', '=', agentId).where('expires_at', '>', now).orderBy('last_seen_at', 'desc').execute();
}

export async function deleteSession(db: Kysely<DB>, agentId: string, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('agent_id', '=', agentId).where('id', '=', id).execute();
}
