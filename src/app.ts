import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Deps } from './deps.js';
import { ApiError, UNEXPECTED_ERROR } from './errors.js';
import { registerBodyParsers } from './http/body.js';
import { registerEndpoints, type Endpoint } from './http/endpoint.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { authenticateApiKey } from './modules/accounts/accounts.service.js';
import { registerAdminRoutes } from './modules/admin/admin.routes.js';
import { customerEndpoints } from './modules/customers/customers.routes.js';
import { directoryEndpoints } from './modules/directory/directory.routes.js';
import { labelEndpoints } from './modules/labels/labels.routes.js';
import { VERSION } from './version.js';

/** Every Mumble API endpoint, in the reference's order. */
export const mumbleEndpoints: Endpoint[] = [...customerEndpoints, ...labelEndpoints, ...directoryEndpoints] as Endpoint[];

export function openApiDocument() {
  return buildOpenApiDocument(mumbleEndpoints, VERSION);
}

/** Fastify's own 4xx errors, in the contract's envelope with messages of ours. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'Unsupported Content-Type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Invalid Content-Length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'Invalid JSON body'],
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

export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.BODY_LIMIT,
    // Fastify accepts a hop count too; its type declarations omit it.
    trustProxy: deps.config.TRUST_PROXY as boolean | string[],
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const envelope = envelopeFor(error);
    if (envelope) return reply.status(envelope[0]).send({ error: true, message: envelope[1] });
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send({ error: true, message: UNEXPECTED_ERROR });
  });
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

  registerAdminRoutes(app, deps);
  registerEndpoints(app, mumbleEndpoints, {
    deps,
    onRequest: async (request) => {
      const { account, keyId } = await authenticate(deps, request.headers['mumble-api-key']);
      request.account = account;
      request.apiKeyId = keyId;
    },
  });
  return app;
}
