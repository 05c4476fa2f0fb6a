import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { AgentRow, DB } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { randomToken } from '../../ids.js';
import { hashPassword } from './passwords.js';
import { endInvitationsOf, endSessionsOf } from './people.repository.js';

export const INVITATION_INVALID = 'This invitation link is invalid or has expired';

/** Tokens (of invitations and sessions) are stored as their SHA-256: a leaked table opens nothing. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Where browsers reach this server: PUBLIC_URL; else the address the asking request came to (the
 * admin API, the inbox); else, for a CLI command, which has no request, HOST and PORT.
 */
function publicBaseUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>, request?: { protocol: string; host: string }): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL;
  if (request) return `${request.protocol}://${request.host}`;
  // A server listening on every interface is reached on this machine as localhost.
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

/** Where a person accepts an invitation: `<base>/app/invite/<token>` (base as publicBaseUrl says). */
export function invitationUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>, token: string, request?: { protocol: string; host: string }): string {
  return `${publicBaseUrl(config, request)}/app/invite/${token}`;
}

/**
 * A new one-time link for the person, in `trx`: their earlier links stop working and their sessions
 * end (a new invitation is how an admin resets a person's access). Returns the token, shown once.
 */
export async function issueInvitation(deps: Pick<Deps, 'clock' | 'config'>, trx: Kysely<DB>, agentId: string): Promise<string> {
  const token = randomToken(32);
  const now = deps.clock.now();
  await endInvitationsOf(trx, agentId);
  await endSessionsOf(trx, agentId);
  await trx
    .insertInto('invitations')
    .values({
      id: tokenDigest(token),
      agent_id: agentId,
      created_at: toStoredTime(now),
      expires_at: toStoredTime(new Date(now.getTime() + deps.config.INVITATION_TTL)),
    })
    .execute();
  return token;
}

/** The person an unexpired invitation is for, or undefined. */
export async function findInvitedPerson(deps: Pick<Deps, 'clock' | 'database'>, token: string): Promise<AgentRow | undefined> {
  if (token.length === 0 || token.length > 200) return undefined;
  return deps.database.db
    .selectFrom('invitations')
    .innerJoin('agents', 'agents.id', 'invitations.agent_id')
    .selectAll('agents')
    .where('invitations.id', '=', tokenDigest(token))
    .where('invitations.expires_at', '>', toStoredTime(deps.clock.now()))
    .where('agents.email_normalized', 'is not', null)
    .where('agents.disabled_at', 'is', null)
    .executeTakeFirst();
}

/** What the set-your-password page shows: who the link is for, and where. */
export async function describeInvitation(deps: Pick<Deps, 'clock' | 'database'>, token: string) {
  const person = await findInvitedPerson(deps, token);
  if (!person) throw new ApiError(404, INVITATION_INVALID);
  const account = await deps.database.db.selectFrom('accounts').select('name').where('id', '=', person.account_id).executeTakeFirstOrThrow();
  return { name: person.name, email: person.email ?? '', account: { name: account.name } };
}

/** Sets the invited person's password; the link is used up. */
export async function acceptInvitation(deps: Pick<Deps, 'clock' | 'database'>, token: string, password: string): Promise<AgentRow> {
  const person = await findInvitedPerson(deps, token);
  if (!person) throw new ApiError(404, INVITATION_INVALID);
  const passwordHash = await hashPassword(password);
  return deps.database.db.transaction().execute(async (trx) => {
    // Used once: whoever deletes the row sets the password; a second use finds nothing.
    const used = await trx.deleteFrom('invitations').where('id', '=', tokenDigest(token)).executeTakeFirst();
    if (Number(used.numDeletedRows) === 0) throw new ApiError(404, INVITATION_INVALID);
    await trx.updateTable('agents').set({ password_hash: passwordHash, failed_sign_ins: 0, last_failed_sign_in_at: null }).where('id', '=', person.id).execute();
    return { ...person, password_hash: passwordHash };
  });
}
