import type { FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { AgentRow } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { Viewer } from '../../http/viewer.js';
import { randomToken } from '../../ids.js';
import { tokenDigest } from '../people/invitations.js';
import { verifyPassword } from '../people/passwords.js';
import { normalizeEmail, type Role } from '../people/people.schema.js';
import * as repository from './sessions.repository.js';

export const SESSION_COOKIE = 'om_session';
export const INVALID_CREDENTIALS = 'Invalid email or password';
export const NOT_SIGNED_IN = 'Not signed in';

/** Failures in a row before sign-in slows down, and the longest wait. */
const FREE_FAILURES = 3;
const MAX_SLOWDOWN_MS = 5_000;
/** A session's last_seen_at is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 60_000;

/** The signed-in person, as /app/api/me and sign-in answer. */
export interface UserRecord {
  id: string;
  name: string;
  email: string;
  role: Role;
  account: { id: string; name: string };
  /** The inbox language the person chose; null: the browser's choice. */
  language: Language | null;
}

export const LANGUAGES = ['en', 'he'] as const;
export type Language = (typeof LANGUAGES)[number];
const isLanguage = (value: string | null): value is Language => (LANGUAGES as readonly (string | null)[]).includes(value);

export function toUserRecord(viewer: Viewer): UserRecord {
  return { id: viewer.agentId, name: viewer.name, email: viewer.email, role: viewer.role, account: { id: viewer.accountId, name: viewer.accountName }, language: viewer.language };
}

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** How long to hold a sign-in back after `failures` wrong passwords in a row: doubling, capped. */
export function slowdownMs(failures: number): number {
  return failures <= FREE_FAILURES ? 0 : Math.min(MAX_SLOWDOWN_MS, 250 * 2 ** (failures - FREE_FAILURES - 1));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A person who may sign in: has an email and a password, and is not disabled. */
function canSignIn(agent: AgentRow | undefined): agent is AgentRow {
  return agent !== undefined && agent.email_normalized !== null && agent.password_hash !== null && agent.disabled_at === null;
}

/**
 * Checks the email and password and opens a session. Every refusal is the same 401, and an unknown
 * email costs the same password check as a known one, so the answer tells nothing about who exists.
 */
export async function signIn(deps: Deps, email: string, password: string, client: ClientInfo): Promise<{ token: string; viewer: Viewer }> {
  const { db } = deps.database;
  const agent = await repository.findPersonByEmail(db, normalizeEmail(email));
  if (agent) await sleep(slowdownMs(agent.failed_sign_ins));
  const matches = await verifyPassword(canSignIn(agent) ? agent.password_hash : null, password);
  if (!matches || !canSignIn(agent)) {
    if (agent) await repository.noteFailedSignIn(db, agent.id, toStoredTime(deps.clock.now()));
    throw new ApiError(401, INVALID_CREDENTIALS);
  }
  return openSession(deps, agent, client);
}

/** A new session for a person who has just proven who they are (a password, an accepted invitation). */
export async function openSession(deps: Deps, agent: AgentRow, client: ClientInfo): Promise<{ token: string; viewer: Viewer }> {
  const token = randomToken(32);
  const now = deps.clock.now();
  await deps.database.db.transaction().execute(async (trx) => {
    await repository.clearFailedSignIns(trx, agent.id);
    await repository.insertSession(trx, {
      id: tokenDigest(token),
      agent_id: agent.id,
      account_id: agent.account_id,
      created_at: toStoredTime(now),
      last_seen_at: toStoredTime(now),
      expires_at: toStoredTime(new Date(now.getTime() + deps.config.SESSION_MAX_AGE)),
      ip: client.ip,
      user_agent: client.userAgent?.slice(0, 512) ?? null,
    });
  });
  const viewer = await viewerOfSession(deps, token);
  if (!viewer) throw new ApiError(401, INVALID_CREDENTIALS);
  return { token, viewer };
}

/**
 * The person a session token belongs to, if the session is alive: within its absolute lifetime and
 * its idle timeout, and its person still has an email and a password and is not disabled. A request
 * counts as use of the session; `touch: false` only looks (an open live-events stream is no use).
 */
export async function viewerOfSession(deps: Deps, token: string, { touch = true }: { touch?: boolean } = {}): Promise<Viewer | undefined> {
  if (token.length === 0 || token.length > 200) return undefined;
  const { db } = deps.database;
  const now = deps.clock.now();
  const row = await repository.findLiveSession(db, tokenDigest(token), toStoredTime(now), toStoredTime(new Date(now.getTime() - deps.config.SESSION_IDLE_TIMEOUT)));
  if (!row) return undefined;
  if (touch && now.getTime() - Date.parse(row.last_seen_at) >= TOUCH_EVERY_MS) await repository.touchSession(db, row.session_id, toStoredTime(now));
  return {
    agentId: row.agent_id,
    accountId: row.account_id,
    accountName: row.account_name,
    name: row.name,
    email: row.email,
    role: row.role as Role,
    teamIds: await repository.teamIdsOf(db, row.agent_id),
    hideUnassigned: row.hide_unassigned === 1,
    sessionId: row.session_id,
    language: isLanguage(row.language) ? row.language : null,
  };
}

/** The session token the request's cookie carries, if any. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header ? parseCookies(header)[SESSION_COOKIE] : undefined;
}

/** The session cookie: not readable by scripts, sent on same-site navigation, Secure over https. */
export function setSessionCookie(deps: Deps, request: FastifyRequest, reply: FastifyReply, token: string | null): void {
  reply.header(
    'set-cookie',
    serializeCookie(SESSION_COOKIE, token ?? '', {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: request.protocol === 'https',
      maxAge: token === null ? 0 : Math.floor(deps.config.SESSION_MAX_AGE / 1000),
    }),
  );
}

/** Public ids of sessions: a prefix of their digest (the digest itself never leaves the server). */
export function publicSessionId(sessionId: string): string {
  return sessionId.slice(0, 16);
}

export async function signOut(deps: Deps, viewer: Viewer): Promise<void> {
  await repository.deleteSession(deps.database.db, viewer.agentId, viewer.sessionId);
}

export async function listSessions(deps: Deps, viewer: Viewer) {
  const rows = await repository.listSessionsOf(deps.database.db, viewer.agentId, toStoredTime(deps.clock.now()));
  return rows.map((row) => ({
    id: publicSessionId(row.id),
    created_at: row.created_at,
    last_seen_at: row.last_seen_at,
    expires_at: row.expires_at,
    ip: row.ip,
    user_agent: row.user_agent,
    current: row.id === viewer.sessionId,
  }));
}

/** The person chooses their inbox language (null: back to the browser's choice); every browser they sign in to follows. */
export async function setLanguage(deps: Deps, viewer: Viewer, language: Language | null): Promise<Viewer> {
  await repository.setLanguage(deps.database.db, viewer.agentId, language);
  return { ...viewer, language };
}

export const SESSION_NOT_FOUND = 'Session not found';

/** Ends one of the person's own sessions (another browser, a lost phone). */
export async function endSession(deps: Deps, viewer: Viewer, publicId: string): Promise<void> {
  const rows = await repository.listSessionsOf(deps.database.db, viewer.agentId, toStoredTime(deps.clock.now()));
  const session = rows.find((row) => publicSessionId(row.id) === publicId);
  if (!session) throw new ApiError(404, SESSION_NOT_FOUND);
  await repository.deleteSession(deps.database.db, viewer.agentId, session.id);
}
