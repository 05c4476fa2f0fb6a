import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { registerAppRoutes, type AppRoute } from '../../http/app-route.js';
import type { Viewer } from '../../http/viewer.js';
import { NOT_SIGNED_IN, sessionTokenOf, viewerOfSession } from './sessions.service.js';

/** The header every state-changing /app/api request carries: a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-openmumble-csrf';
export const CROSS_SITE_REFUSED = 'Cross-site request refused';
export const ADMINS_ONLY = 'Only admins may do this';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origins this server is reached at: the request's own (behind TRUST_PROXY, as the proxy says), and PUBLIC_URL. */
function isOwnOrigin(deps: Deps, request: FastifyRequest, origin: string): boolean {
  if (deps.config.PUBLIC_URL && origin === new URL(deps.config.PUBLIC_URL).origin) return true;
  return origin === `${request.protocol}://${request.host}`;
}

/**
 * CSRF defence for cookie-authenticated writes: the custom header (which a cross-site page can only
 * send after a CORS preflight we never grant) and, when the browser says where the request comes
 * from, a same-origin Origin.
 */
export function checkSameOrigin(deps: Deps, request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (request.headers[CSRF_HEADER] !== '1') throw new ApiError(403, CROSS_SITE_REFUSED);
  const { origin } = request.headers;
  if (origin !== undefined && !isOwnOrigin(deps, request, origin)) throw new ApiError(403, CROSS_SITE_REFUSED);
}

/** The signed-in person of a request, or 401. */
export async function requireViewer(deps: Deps, request: FastifyRequest): Promise<Viewer> {
  const token = sessionTokenOf(request);
  const viewer = token === undefined ? undefined : await viewerOfSession(deps, token);
  if (!viewer) throw new ApiError(401, NOT_SIGNED_IN);
  return viewer;
}

/** CSRF, then the session, then the route's role. */
export function authenticateAppRequest(deps: Deps) {
  return async (request: FastifyRequest, _reply: FastifyReply, route: Pick<AppRoute, 'access'>): Promise<Viewer | undefined> => {
    checkSameOrigin(deps, request);
    if (route.access === 'public') return undefined;
    const viewer = await requireViewer(deps, request);
    if (route.access === 'admin' && viewer.role !== 'admin') throw new ApiError(403, ADMINS_ONLY);
    return viewer;
  };
}

export function registerAppApi(app: FastifyInstance, deps: Deps, routes: AppRoute[]): void {
  registerAppRoutes(app, routes, { deps, authenticate: authenticateAppRequest(deps) });
}
