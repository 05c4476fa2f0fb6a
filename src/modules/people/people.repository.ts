import type { Kysely } from 'kysely';
import type { AgentRow, DB } from '../../db/tables.js';

export async function insertAgent(db: Kysely<DB>, agent: AgentRow): Promise<void> {
  await db.insertInto('agents').values(agent).execute();
}

export function findAgent(db: Kysely<DB>, id: string): Promise<AgentRow | undefined> {
  return db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listAgents(db: Kysely<DB>, accountId: string): Promise<AgentRow[]> {
  return db.selectFrom('agents').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

export async function updateAgent(db: Kysely<DB>, id: string, patch: Partial<AgentRow>): Promise<void> {
  await db.updateTable('agents').set(patch).where('id', '=', id).execute();
}

/** Ends every session of the person, or every one but `keep`. */
export async function endSessionsOf(db: Kysely<DB>, agentId: string, keep?: string): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where('agent_id', '=', agentId)
    .$if(keep !== undefined, (query) => query.where('id', '<>', keep!))
    .execute();
}

export async function endInvitationsOf(db: Kysely<DB>, agentId: string): Promise<void> {
  await db.deleteFrom('invitations').where('agent_id', '=', agentId).execute();
}

export function findTeam(db: Kysely<DB>, id: string) {
  return db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function addTeamMember(db: Kysely<DB>, member: { team_id: string; agent_id: string; account_id: string; created_at: string }): Promise<void> {
  await db.insertInto('team_members').values(member).onConflict((conflict) => conflict.columns(['team_id', 'agent_id']).doNothing()).execute();
}

export async function removeTeamMember(db: Kysely<DB>, teamId: string, agentId: string): Promise<boolean> {
  const result = await db.deleteFrom('team_members').where('team_id', '=', teamId).where('agent_id', '=', agentId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The members of a team, as people. */
export function listTeamMembers(db: Kysely<DB>, teamId: string): Promise<AgentRow[]> {
  return db
    .selectFrom('team_members')
    .innerJoin('agents', 'agents.id', 'team_members.agent_id')
    .selectAll('agents')
    .where('team_members.team_id', '=', teamId)
    .orderBy('agents.name')
    .orderBy('agents.id')
    .execute();
}

/** Every member of every team of the account: team id → agent ids. */
export async function membersByTeam(db: Kysely<DB>, accountId: string): Promise<Map<string, string[]>> {
  const rows = await db.selectFrom('team_members').select(['team_id', 'agent_id']).where('account_id', '=', accountId).orderBy('created_at').execute();
  const members = new Map<string, string[]>();
  for (const row of rows) members.set(row.team_id, [...(members.get(row.team_id) ?? []), row.agent_id]);
  return members;
}
