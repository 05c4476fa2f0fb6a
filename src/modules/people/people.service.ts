import { isUniqueViolation } from '../../db/errors.js';
import type { Account, AgentRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { updateAccount } from '../accounts/accounts.repository.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { listEntries } from '../directory/directory.service.js';
import { issueInvitation } from './invitations.js';
import { hashPassword } from './passwords.js';
import * as repository from './people.repository.js';
import { checkDefaultBot } from '../bots/bots.service.js';
import { stopWordsOf } from '../campaigns/opt-out.js';
import { normalizeEmail, PASSWORD_NEEDS_EMAIL_ISSUE, type AccountSettingsInput, type NewPersonInput, type PersonPatchInput, type Role } from './people.schema.js';

export const EMAIL_TAKEN = 'email is already used by another person';
export const AGENT_NOT_FOUND = 'Agent not found';
export const TEAM_NOT_FOUND = 'Team not found';
export const NO_EMAIL_TO_INVITE = 'This agent has no email to send an invitation to';
export const PASSWORD_NEEDS_EMAIL = `password: ${PASSWORD_NEEDS_EMAIL_ISSUE}`;
export const CANNOT_LOCK_OUT_SELF = 'You cannot disable yourself, remove your own email or give up your own admin role; another admin can';

/**
 * People: the agents of an account, who sign in once they have an email and a password. The admin
 * API, the CLI and the inbox's admin screens all call these functions. `scope` (an account id)
 * limits a lookup by id to that account: what another account holds answers 404 like nothing.
 */

/** A person as the admin API and the inbox's admin screens show one (never a password hash). */
export interface PersonRecord {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  disabled: boolean;
  /** False until the person sets a password (through an invitation) or an admin sets one. */
  has_password: boolean;
  created_at: string;
}

export function toPersonRecord(agent: AgentRow): PersonRecord {
  return {
    id: agent.id,
    name: agent.name,
    email: agent.email,
    role: agent.role as Role,
    disabled: agent.disabled_at !== null,
    has_password: agent.password_hash !== null,
    created_at: agent.created_at,
  };
}

export interface CreatedPerson {
  agent: AgentRow;
  /** The invitation's token, when an email was given without a password (shown once). */
  invitationToken?: string;
}

function refusingTakenEmail<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    throw isUniqueViolation(error) ? conflict(EMAIL_TAKEN) : error;
  });
}

/**
 * An agent of the account: with an email, a person who signs in (with the password given, or after
 * following the invitation returned); without one, an assignable name as before.
 */
export async function createPerson(deps: Deps, accountId: string, input: NewPersonInput): Promise<CreatedPerson> {
  await requireAccount(deps, accountId);
  const passwordHash = input.password !== undefined && input.email !== undefined ? await hashPassword(input.password) : null;
  const agent: AgentRow = {
    id: newId(),
    account_id: accountId,
    name: input.name,
    email: input.email ?? null,
    email_normalized: input.email === undefined ? null : normalizeEmail(input.email),
    role: input.role ?? 'agent',
    password_hash: passwordHash,
    disabled_at: null,
    failed_sign_ins: 0,
    last_failed_sign_in_at: null,
    created_at: toStoredTime(deps.clock.now()),
    language: null,
  };
  return refusingTakenEmail(() =>
    deps.database.db.transaction().execute(async (trx) => {
      await repository.insertAgent(trx, agent);
      const invitationToken = agent.email_normalized !== null && passwordHash === null ? await issueInvitation(deps, trx, agent.id) : undefined;
      return { agent, ...(invitationToken && { invitationToken }) };
    }),
  );
}

export async function requirePerson(deps: Deps, id: string, scope?: string): Promise<AgentRow> {
  const agent = await repository.findAgent(deps.database.db, id);
  if (!agent || (scope !== undefined && agent.account_id !== scope)) throw notFound(AGENT_NOT_FOUND);
  return agent;
}

export async function listPeople(deps: Deps, accountId: string): Promise<PersonRecord[]> {
  await requireAccount(deps, accountId);
  return (await repository.listAgents(deps.database.db, accountId)).map(toPersonRecord);
}

export interface UpdateOptions {
  /** Only a person of this account (the inbox's admin screens); others answer 404. */
  scope?: string;
  /** Who asks, when a signed-in admin does: they cannot lock themselves out. */
  actor?: string;
  /** The asker's session: they stay signed in where they changed their own password or email. */
  keepSession?: string;
}

/** What an admin may not do to themselves in the inbox: nobody would be left to undo it there. */
function locksOutSelf(patch: PersonPatchInput): boolean {
  return patch.disabled === true || patch.email === null || (patch.role !== undefined && patch.role !== 'admin');
}

/**
 * Changes a person. Removing the email removes the password too (the person can no longer sign in,
 * and an email added later starts with an invitation). Whatever takes access away (disabling, a new
 * password, a new or no email) ends the person's sessions and invitation links.
 */
export async function updatePerson(deps: Deps, id: string, patch: PersonPatchInput, options: UpdateOptions = {}): Promise<AgentRow> {
  const agent = await requirePerson(deps, id, options.scope);
  if (options.actor === id && locksOutSelf(patch)) throw badRequest(CANNOT_LOCK_OUT_SELF);
  const changes: Partial<AgentRow> = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.role !== undefined) changes.role = patch.role;
  if (patch.email !== undefined) {
    changes.email = patch.email;
    changes.email_normalized = patch.email === null ? null : normalizeEmail(patch.email);
    if (patch.email === null) changes.password_hash = null;
  }
  if (patch.password !== undefined) {
    const emailAfter = changes.email_normalized !== undefined ? changes.email_normalized : agent.email_normalized;
    if (emailAfter === null) throw badRequest(PASSWORD_NEEDS_EMAIL);
    changes.password_hash = await hashPassword(patch.password);
    changes.failed_sign_ins = 0;
  }
  if (patch.disabled !== undefined) changes.disabled_at = patch.disabled ? (agent.disabled_at ?? toStoredTime(deps.clock.now())) : null;
  const emailChanged = changes.email_normalized !== undefined && changes.email_normalized !== agent.email_normalized;
  const endsAccess = patch.disabled === true || patch.password !== undefined || emailChanged;
  return refusingTakenEmail(() =>
    deps.database.db.transaction().execute(async (trx) => {
      if (Object.keys(changes).length > 0) await repository.updateAgent(trx, id, changes);
      if (endsAccess) {
        // Only the asker's own session can match keepSession: they stay signed in where they made the change.
        await repository.endSessionsOf(trx, id, options.keepSession);
        await repository.endInvitationsOf(trx, id);
      }
      return { ...agent, ...changes };
    }),
  );
}

/** A new invitation link for the person: earlier links and the person's sessions end. */
export async function reinvite(deps: Deps, id: string, scope?: string): Promise<string> {
  const agent = await requirePerson(deps, id, scope);
  if (agent.email_normalized === null) throw badRequest(NO_EMAIL_TO_INVITE);
  return deps.database.db.transaction().execute((trx) => issueInvitation(deps, trx, agent.id));
}

async function requireTeam(deps: Deps, id: string, scope?: string) {
  const team = await repository.findTeam(deps.database.db, id);
  if (!team || (scope !== undefined && team.account_id !== scope)) throw notFound(TEAM_NOT_FOUND);
  return team;
}

/** The person joins the team (both of one account); joining twice changes nothing. */
export async function addTeamMember(deps: Deps, teamId: string, agentId: string, scope?: string): Promise<void> {
  const team = await requireTeam(deps, teamId, scope);
  await requirePerson(deps, agentId, team.account_id);
  await repository.addTeamMember(deps.database.db, { team_id: team.id, agent_id: agentId, account_id: team.account_id, created_at: toStoredTime(deps.clock.now()) });
}

export async function removeTeamMember(deps: Deps, teamId: string, agentId: string, scope?: string): Promise<void> {
  const team = await requireTeam(deps, teamId, scope);
  if (!(await repository.removeTeamMember(deps.database.db, team.id, agentId))) throw notFound(AGENT_NOT_FOUND);
}

export async function listTeamMembers(deps: Deps, teamId: string, scope?: string): Promise<PersonRecord[]> {
  const team = await requireTeam(deps, teamId, scope);
  return (await repository.listTeamMembers(deps.database.db, team.id)).map(toPersonRecord);
}

export interface TeamWithMembers {
  id: string;
  name: string;
  created_at: string;
  member_ids: string[];
}

/** The account's teams, each with its members' ids. */
export async function listTeamsWithMembers(deps: Deps, accountId: string): Promise<TeamWithMembers[]> {
  const [teams, members] = await Promise.all([listEntries(deps, 'teams', accountId), repository.membersByTeam(deps.database.db, accountId)]);
  return teams.map((team) => ({ id: team.id, name: team.name, created_at: team.created_at, member_ids: members.get(team.id) ?? [] }));
}

export interface AccountSettings {
  id: string;
  name: string;
  hide_unassigned: boolean;
  /** Off: every send is refused (`User not authorized to send text messages.`). */
  messaging_enabled: boolean;
  /** The flow bot that answers a new customer's first message when no other bot does (docs/bots.md). */
  default_bot_id: string | null;
  /** Unique campaign recipients per 24 hours (Meta's messaging-limit tier); null: unlimited (docs/campaigns.md). */
  campaign_daily_limit: number | null;
  /** The words that opt a customer out of campaigns. */
  stop_words: string[];
}

export function toAccountSettings(account: Account): AccountSettings {
  return {
    id: account.id,
    name: account.name,
    hide_unassigned: account.hide_unassigned === 1,
    messaging_enabled: account.messaging_enabled === 1,
    default_bot_id: account.default_bot_id,
    campaign_daily_limit: account.campaign_daily_limit === null ? null : Number(account.campaign_daily_limit),
    stop_words: stopWordsOf(account),
  };
}

export async function getAccountSettings(deps: Deps, accountId: string): Promise<AccountSettings> {
  return toAccountSettings(await requireAccount(deps, accountId));
}

export async function updateAccountSettings(deps: Deps, accountId: string, patch: AccountSettingsInput): Promise<AccountSettings> {
  const account = await requireAccount(deps, accountId);
  if (patch.default_bot_id !== undefined) await checkDefaultBot(deps, accountId, patch.default_bot_id);
  const changes = {
    ...(patch.default_bot_id !== undefined && { default_bot_id: patch.default_bot_id }),
    ...(patch.campaign_daily_limit !== undefined && { campaign_daily_limit: patch.campaign_daily_limit }),
    ...(patch.stop_words !== undefined && { stop_words: patch.stop_words === null ? null : JSON.stringify(patch.stop_words) }),
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.hide_unassigned !== undefined && { hide_unassigned: patch.hide_unassigned ? 1 : 0 }),
    ...(patch.messaging_enabled !== undefined && { messaging_enabled: patch.messaging_enabled ? 1 : 0 }),
  };
  if (Object.keys(changes).length > 0) {
    await updateAccount(deps.database.db, accountId, changes);
    await deps.keyCache.changed();
  }
  return toAccountSettings({ ...account, ...changes });
}
