import { isUniqueViolation } from '../../db/errors.js';
import type { AgentRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { conflict } from '../../errors.js';
import { newId } from '../../ids.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { issueInvitation } from './invitations.js';
import { hashPassword } from './passwords.js';
import { normalizeEmail, type NewPersonInput, type Role } from './people.schema.js';

export const EMAIL_TAKEN = 'email is already used by another person';

/** A person as the admin API and the inbox show one. */
export interface PersonRecord {
  id: string;
  name: string;
  email: string | null;
  role: Role;
}

export function toPersonRecord(agent: Pick<AgentRow, 'id' | 'name' | 'email' | 'role'>): PersonRecord {
  return { id: agent.id, name: agent.name, email: agent.email, role: agent.role as Role };
}

export interface CreatedPerson {
  agent: AgentRow;
  /** The invitation's token, when an email was given without a password (shown once). */
  invitationToken?: string;
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
  };
  try {
    return await deps.database.db.transaction().execute(async (trx) => {
      await trx.insertInto('agents').values(agent).execute();
      const invitationToken = agent.email_normalized !== null && passwordHash === null ? await issueInvitation(deps, trx, agent.id) : undefined;
      return { agent, ...(invitationToken && { invitationToken }) };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(EMAIL_TAKEN);
    throw error;
  }
}
