import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { sandboxEndpoints } from './modules/sandbox/sandbox.routes.js';
import type { Deps } from './deps.js';
import { ApiError, UNEXPECTED_ERROR } from './errors.js';
import { registerBodyParsers } from './http/body.js';
import { registerEndpoints, type Endpoint } from './http/endpoint.js';
import { idempotency } from './http/idempotency.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { enforce, setRateLimitHeaders, tightest } from './http/rate-limit.js';
import { authenticateApiKey } from './modules/accounts/accounts.service.js';
import { registerAdminRoutes } from './modules/admin/admin.routes.js';
import { customerEndpoints } from './modules/customers/customers.routes.js';
import { directoryEndpoints } from './modules/directory/directory.routes.js';
import { labelEndpoints } from './modules/labels/labels.routes.js';
import { messagingEndpoints } from './modules/messages/messages.routes.js';
import { templateEndpoints } from './modules/templates/templates.routes.js';
import { webhookEndpoints } from './modules/webhooks/webhooks.routes.js';
import { registerWhatsAppWebhookRoutes } from './modules/whatsapp/whatsapp.webhook-routes.js';
import { VERSION } from './version.js';
import { bearerMatches } from './http/bearer.js';
import type { AppRoute } from './http/app-route.js';
import { registerAppApi } from './modules/auth/app-api.js';
import { authAppRoutes } from './modules/auth/auth.routes.js';
import { inboxAppRoutes } from './modules/inbox/inbox.routes.js';
import { peopleAppRoutes } from './modules/people/people.routes.js';
import { aiAppRoutes } from './modules/ai/ai.routes.js';
import { botAppRoutes } from './modules/bots/bots.routes.js';
import { campaignAppRoutes } from './modules/campaigns/campaigns.app-routes.js';
import { campaignEndpoints } from './modules/campaigns/campaigns.routes.js';
import { liveAppRoutes } from './modules/live/live.routes.js';
import { sidePanelAppRoutes } from './modules/inbox/side-panel.routes.js';
import { adminScreenAppRoutes } from './modules/people/admin-screens.routes.js';
import { registerWebApp } from './modules/web-app/web-app.routes.js';

/** Every Mumble API endpoint, in the reference's order. */
export const mumbleEndpoints: Endpoint[] = [
  ...customerEndpoints,
  ...labelEndpoints,
  ...messagingEndpoints,
  ...directoryEndpoints,
  ...templateEndpoints,
  ...webhookEndpoints,
  ...campaignEndpoints,
  ...sandboxEndpoints,
] as Endpoint[];

/** The inbox API under /app/api (cookie sessions), for the web inbox and any other client. */
export const appRoutes: AppRoute[] = [...authAppRoutes, ...inboxAppRoutes, ...sidePanelAppRoutes, ...peopleAppRoutes, ...adminScreenAppRoutes, ...botAppRoutes, ...campaignAppRoutes, ...aiAppRoutes, ...liveAppRoutes];

export function openApiDocument() {
  return buildOpenApiDocument(mumbleEndpoints, appRoutes, VERSION);
}

/** Fastify's own 4xx errors, in the contract's envelope with messages of ours. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'Unsupported Content-Type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Invalid Content-Length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'Invalid JSON body'],
  FST_ERR_BAD_URL: [400, 'Malformed URL'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'URL is too long'],
};

function envelopeFor(error: FastifyError | ApiError): [number, string] | undefined {
  if (error instanceof ApiError) return [error.statusCode, error.message];
  const known = FRAMEWORK_ERRORS[error.code];
  if (known) return known;
  const status = error.statusCode ?? 500;
  return status >= 400 && status < 500 ? [status, error.message] : undefined;
}

async function authenticate(deps: Deps, key: unknown) {
  if (typeof key !== 'string' || key === '') throw new ApiError(401, 'Unauthorized');
  const auth = await authenticateApiKey(deps, key);
  if (!auth) throw new ApiError(401, 'Unauthorized');
  return auth;
}

/**
 * No reply leaves before every write committed so far is durable: with group commit a commit is on
 * disk only once a shared fsync has run, and this reply may report it, or something that depends on
 * it. If the sync failed, the write may be lost: the reply becomes a 500 (and /healthz says 503).
 */
async function untilDurable(deps: Deps, request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  try {
    await deps.database.durable();
    return payload;
  } catch (error) {
    // A server error acknowledges nothing (and /healthz's 503 says what an orchestrator must know).
    if (reply.statusCode >= 500) return payload;
    request.log.error({ err: error }, 'reply withheld: the database could not make its writes durable');
    reply.status(500).type('application/json; charset=utf-8');
    return JSON.stringify({ error: true, message: UNEXPECTED_ERROR });
  }
}

/**
 * The access log: one line per request when it completes (method, URL, client address, status and
 * time; never a body or a key), instead of Fastify's two (one when it arrives, one when it ends).
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const { rateLimiter, metrics } = deps;
  // Checks made before Redis answers would fall back; wait for it (or for the first failure).
  await rateLimiter.ready();
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.BODY_LIMIT,
    logController: new AccessLog(),
    // Fastify accepts a hop count too; its type declarations omit it.
    trustProxy: deps.config.TRUST_PROXY as boolean | string[],
    // A URL the router cannot read (broken percent-encoding) answers in the envelope too.
    frameworkErrors: (error, _request, reply) => {
      const [status, message] = FRAMEWORK_ERRORS[(error as FastifyError).code] ?? [400, 'Malformed URL'];
      void (reply as FastifyReply).status(status).send({ error: true, message });
    },
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const envelope = envelopeFor(error);
    if (envelope) return reply.status(envelope[0]).send({ error: true, message: envelope[1], ...(error instanceof ApiError && error.details) });
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send({ error: true, message: UNEXPECTED_ERROR });
  });
  app.addHook('onSend', (request, reply, payload) => untilDurable(deps, request, reply, payload));
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: true, message: 'Route not found' }));
  registerBodyParsers(app);

  app.get('/healthz', async (_request, reply) => {
    try {
      await deps.database.ping();
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  const document = openApiDocument();
  app.get('/openapi.json', async () => document);
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/metrics', async (request, reply) => {
    if (deps.config.METRICS_TOKEN && !bearerMatches(request.headers.authorization, deps.config.METRICS_TOKEN)) throw new ApiError(401, 'Unauthorized');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, never its URL: labels must not carry ids or phone numbers.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  registerAdminRoutes(app, deps);
  registerAppApi(app, deps, appRoutes);
  // The web inbox at /app (its page for every /app/* path but /app/api/*), and `/` sending browsers there.
  registerWebApp(app);
  // Open live-event streams would hold the server open: they end first (browsers reconnect elsewhere).
  app.addHook('preClose', async () => deps.live.endStreams());
  // Meta's webhooks: not under /mumbleapi, no API key; the raw body is signature-checked in its own scope.
  await registerWhatsAppWebhookRoutes(app, deps);
  registerEndpoints(app, mumbleEndpoints, {
    deps,
    aroundHandler: idempotency(deps),
    onRequest: async (request, reply, endpoint) => {
      const checks = [await enforce(rateLimiter, metrics, reply, 'ip', request.ip)];
      const { account, keyId } = await authenticate(deps, request.headers['mumble-api-key']);
      request.account = account;
      request.apiKeyId = keyId;
      checks.push(await enforce(rateLimiter, metrics, reply, 'key', keyId));
      if (endpoint.messaging) checks.push(await enforce(rateLimiter, metrics, reply, 'messaging', keyId));
      setRateLimitHeaders(reply, tightest(checks));
    },
  });
  return app;
}
