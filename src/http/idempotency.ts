import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, IdempotencyKeyRow } from '../db/tables.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { HandlerCall } from './endpoint.js';

/**
 * `Idempotency-Key` for every POST under /mumbleapi/ (docs/idempotency.md). A key is scoped to the
 * API key and kept 24 hours in the database, so it holds across instances:
 * - first use: the key is reserved (in progress), the request runs, and a 2xx reply is stored;
 * - same key, same parameters, finished: the stored reply is replayed with `Idempotent-Replayed: true`;
 * - same key while the first request still runs: 409 `Request in progress`;
 * - same key, other parameters (or another endpoint): 422.
 * Errors are not stored: input validation fails before a key is reserved, and any error reply
 * (4xx refusals, 5xx failures) releases the key, so a corrected or later retry runs for real.
 */

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const INVALID_IDEMPOTENCY_KEY = 'Idempotency-Key must be between 1 and 255 characters';
export const REQUEST_IN_PROGRESS = 'Request in progress';
export const KEY_REUSED = 'Idempotency key reused with different parameters';
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a reservation holds without an answer. A request whose process died mid-way keeps the key
 * busy (409) this long, then a retry may run it again.
 */
export const IN_PROGRESS_LEASE_MS = 5 * 60 * 1000;

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same parameters; files and streams become a marker. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return `[${value.constructor?.name ?? 'object'}]`;
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function requestFingerprint(method: string, path: string, params: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify([method, path, canonical(params)])).digest('hex');
}

type Reservation = { kind: 'run'; token: string } | { kind: 'replay'; row: IdempotencyKeyRow };

/** Takes the key for this request, or says what to answer instead. */
async function reserve(db: Kysely<DB>, apiKeyId: string, key: string, fingerprint: string, now: Date): Promise<Reservation> {
  const token = randomUUID();
  const fresh = {
    fingerprint,
    status: 'in_progress',
    token,
    locked_until: new Date(now.getTime() + IN_PROGRESS_LEASE_MS).toISOString(),
    response_status: null,
    response_body: null,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
  };
  for (let round = 0; round < 5; round += 1) {
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ api_key_id: apiKeyId, key, ...fresh })
      .onConflict((oc) => oc.columns(['api_key_id', 'key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return { kind: 'run', token };

    const existing = await db.selectFrom('idempotency_keys').selectAll().where('api_key_id', '=', apiKeyId).where('key', '=', key).executeTakeFirst();
    if (!existing) continue; // released meanwhile: try again
    const expired = existing.expires_at <= now.toISOString();
    const abandoned = existing.status === 'in_progress' && existing.locked_until <= now.toISOString() && existing.fingerprint === fingerprint;
    if (expired || abandoned) {
      // Compare-and-set on the token: of two retries taking over, one wins.
      const taken = await db
        .updateTable('idempotency_keys')
        .set(fresh)
        .where('api_key_id', '=', apiKeyId)
        .where('key', '=', key)
        .where('token', '=', existing.token)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) > 0) return { kind: 'run', token };
      continue;
    }
    if (existing.fingerprint !== fingerprint) throw new ApiError(422, KEY_REUSED);
    if (existing.status === 'completed') return { kind: 'replay', row: existing };
    throw new ApiError(409, REQUEST_IN_PROGRESS);
  }
  throw new ApiError(409, REQUEST_IN_PROGRESS);
}

async function release(db: Kysely<DB>, apiKeyId: string, key: string, token: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('api_key_id', '=', apiKeyId).where('key', '=', key).where('token', '=', token).execute();
}

async function complete(db: Kysely<DB>, apiKeyId: string, key: string, token: string, status: number, body: string): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status: 'completed', response_status: status, response_body: body })
    .where('api_key_id', '=', apiKeyId)
    .where('key', '=', key)
    .where('token', '=', token)
    .execute();
}

/** Forgets keys older than 24 hours (run now and then; an expired key is ignored even before). */
export async function purgeExpiredIdempotencyKeys(db: Kysely<DB>, now: Date): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The wrapper registerEndpoints puts around every endpoint handler (after authentication and validation). */
export function idempotency(deps: Pick<Deps, 'database' | 'clock' | 'logger'>) {
  return async function withIdempotency(call: HandlerCall, run: () => Promise<Record<string, unknown>>): Promise<unknown> {
    const { request, reply, endpoint, params, apiKeyId } = call;
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || header === undefined) return run();
    if (typeof header !== 'string' || header.length < 1 || header.length > 255) throw new ApiError(400, INVALID_IDEMPOTENCY_KEY);

    const { db } = deps.database;
    const fingerprint = requestFingerprint(request.method, endpoint.path, params);
    const reservation = await reserve(db, apiKeyId, header, fingerprint, deps.clock.now());
    if (reservation.kind === 'replay') {
      return reply
        .code(reservation.row.response_status ?? 200)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(reservation.row.response_body);
    }

    let result: Record<string, unknown>;
    try {
      result = await run();
    } catch (error) {
      await release(db, apiKeyId, header, reservation.token).catch((releaseError: unknown) => {
        request.log.error({ err: releaseError }, 'could not release an idempotency key');
      });
      throw error;
    }
    const status = reply.statusCode;
    try {
      if (status >= 200 && status < 300) await complete(db, apiKeyId, header, reservation.token, status, JSON.stringify(result));
      else await release(db, apiKeyId, header, reservation.token);
    } catch (error) {
      // The request did its work; its retry will wait for the reservation to lapse.
      request.log.error({ err: error }, 'could not store an idempotent reply');
    }
    return result;
  };
}
