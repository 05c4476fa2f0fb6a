import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

export const INVALID_JSON = 'Invalid JSON body';

/**
 * Parses a JSON request body. Empty means "no parameters" (many clients send
 * `Content-Type: application/json` with no body on GET and DELETE); anything but an object is refused.
 */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, INVALID_JSON);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, INVALID_JSON);
  return value as Record<string, unknown>;
}

function parseFormBody(text: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = Object.hasOwn(params, key) ? params[key] : undefined;
    // Defined, not assigned: `params['__proto__'] = …` would set the prototype instead of a parameter.
    Object.defineProperty(params, key, {
      value: previous === undefined ? value : ([] as unknown[]).concat(previous, value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return params;
}

/** Replaces Fastify's body parsers with ours: JSON (also sent as text/plain by some clients) and forms. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const asString = { parseAs: 'string' as const };
  const json = (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, parseJsonBody(body.toString()));
    } catch (error) {
      done(error as Error);
    }
  };
  app.addContentTypeParser(['application/json', 'text/plain'], asString, json);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, asString, json);
  app.addContentTypeParser('application/x-www-form-urlencoded', asString, (_request, body, done) => {
    done(null, parseFormBody(body.toString()));
  });
}

/**
 * GET requests carry a JSON body in the reference's examples, but Fastify does not read bodies for
 * GET, so this reads it from the socket, bounded by the same limit as every other body.
 */
export async function readBodylessMethodBody(request: FastifyRequest, limit: number): Promise<Record<string, unknown>> {
  const { headers, raw } = request;
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return {};
  if (Number(headers['content-length']) > limit) throw new ApiError(413, 'Request body is too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, 'Request body is too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = headers['content-type'] ?? '';
  return type.startsWith('application/x-www-form-urlencoded') ? parseFormBody(text) : parseJsonBody(text);
}

/** The contract's parameter rule: query string and body together, the body winning on a shared name. */
export function mergeParams(query: unknown, body: unknown): Record<string, unknown> {
  const fromQuery = query && typeof query === 'object' ? (query as Record<string, unknown>) : {};
  const fromBody = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...fromQuery, ...fromBody };
}
