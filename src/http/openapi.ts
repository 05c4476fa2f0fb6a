import { z } from 'zod';
import type { AppRoute } from './app-route.js';
import type { Endpoint } from './endpoint.js';
import { methodsOf } from './endpoint.js';

/** Errors every Mumble endpoint can answer, besides its own. */
const COMMON_ERRORS = [
  { status: 400, message: 'Invalid JSON body' },
  { status: 401, message: 'Unauthorized' },
  { status: 413, message: 'Request body is too large' },
  { status: 429, message: 'Too many requests' },
  { status: 500, message: 'An unexpected error occurred' },
];

const errorEnvelope = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { const: true }, message: { type: 'string' } },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** The envelope of an endpoint whose missing-parameters reply names them (Endpoint.missingParameters). */
function envelopeWithMissing(message: string) {
  return {
    ...errorEnvelope,
    properties: {
      ...errorEnvelope.properties,
      missing: { type: 'array', items: { type: 'string' }, description: `With \`${message}\` only: the parameters that were missing (absent, empty, or of no usable type).` },
    },
  };
}

function envelopeResponses(errors: Array<{ status: number; message: string }>, missingParameters?: { message: string; example: string[] }) {
  const byStatus = new Map<number, string[]>();
  for (const { status, message } of errors) byStatus.set(status, [...(byStatus.get(status) ?? []), message]);
  const names = (message: string) => (message === missingParameters?.message ? { missing: missingParameters.example } : {});
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, messages]) => [
      String(status),
      {
        description: messages.map((message) => `\`${message}\``).join(' · '),
        content: {
          'application/json': {
            schema: missingParameters && messages.includes(missingParameters.message) ? envelopeWithMissing(missingParameters.message) : errorEnvelope,
            examples: Object.fromEntries(messages.map((message, i) => [`e${i + 1}`, { value: { error: true, message, ...names(message) } }])),
          },
        },
      },
    ]),
  );
}

/** A missing-parameters example names the input's last required parameter. */
function missingExample(endpoint: Endpoint): string[] {
  const required = (jsonSchema(endpoint.input, 'input').required ?? []) as string[];
  return required.slice(-1);
}

function errorResponses(endpoint: Endpoint) {
  const missing = endpoint.missingParameters ? { message: endpoint.missingParameters, example: missingExample(endpoint) } : undefined;
  return envelopeResponses([...endpoint.errors, ...COMMON_ERRORS], missing);
}

/** Every POST accepts an idempotency key (src/http/idempotency.ts, docs/idempotency.md). */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', minLength: 1, maxLength: 255 },
  description:
    'Makes a retry safe: the same key with the same parameters within 24 hours replays the first successful reply ' +
    '(header `Idempotent-Replayed: true`) without doing anything again. 409 `Request in progress` while the first runs; ' +
    '422 `Idempotency key reused with different parameters`.',
};

function operation(endpoint: Endpoint, method: string) {
  const input = jsonSchema(endpoint.input, 'input');
  const example = endpoint.example?.request;
  const parameters =
    method === 'GET'
      ? Object.entries((input.properties ?? {}) as Record<string, object>).map(([name, schema]) => ({
          name,
          in: 'query',
          required: ((input.required ?? []) as string[]).includes(name),
          schema,
        }))
      : method === 'POST'
        ? [IDEMPOTENCY_KEY_PARAMETER]
        : undefined;
  return {
    tags: [endpoint.tag],
    summary: endpoint.summary,
    operationId: `${endpoint.path.split('/').pop()}${method === endpoint.method ? '' : `_${method.toLowerCase()}`}`,
    description: [
      endpoint.description,
      method === 'GET' ? 'Parameters may also be sent as a JSON body (the body wins over the query string).' : undefined,
      endpoint.messaging ? 'Messaging rate limit: 5/s, 100/min and 2000/h per API key.' : undefined,
    ]
      .filter(Boolean)
      .join('\n\n'),
    security: [{ MumbleApiKey: [] }],
    ...(parameters && { parameters }),
    ...(method !== 'GET' && {
      requestBody: {
        required: false,
        content: {
          'application/json': { schema: input, ...(example && { example }) },
          ...(endpoint.uploads && { 'multipart/form-data': { schema: input } }),
        },
      },
    }),
    responses: {
      '200': {
        description: 'Success',
        content: {
          'application/json': {
            schema: jsonSchema(endpoint.output, 'output'),
            ...(endpoint.example?.response && { example: endpoint.example.response }),
          },
        },
      },
      ...errorResponses(endpoint),
    },
  };
}

/** Errors every inbox route can answer, besides its own. */
const APP_COMMON_ERRORS = [
  { status: 400, message: 'Invalid JSON body' },
  { status: 413, message: 'Request body is too large' },
  { status: 500, message: 'An unexpected error occurred' },
];

/** `/app/api/conversations/:id` → `/app/api/conversations/{id}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

function appOperation(route: AppRoute) {
  const params = route.params ? jsonSchema(route.params, 'input') : undefined;
  const query = route.query ? jsonSchema(route.query, 'input') : undefined;
  const parameter = (where: 'path' | 'query', schema: Record<string, unknown>) =>
    Object.entries((schema.properties ?? {}) as Record<string, object>).map(([name, property]) => ({
      name,
      in: where,
      required: where === 'path' || ((schema.required ?? []) as string[]).includes(name),
      schema: property,
    }));
  const parameters = [...(params ? parameter('path', params) : []), ...(query ? parameter('query', query) : [])];
  const signedIn = route.access !== 'public';
  return {
    tags: ['Inbox'],
    summary: route.summary,
    operationId: `app_${route.method.toLowerCase()}_${route.path.replace(/^\/app\/api\//, '').replace(/[^A-Za-z0-9]+/g, '_')}`,
    description: [route.description, route.access === 'admin' ? 'Admins only.' : undefined].filter(Boolean).join('\n\n'),
    security: signedIn ? [{ Session: [] }] : [],
    ...(parameters.length > 0 && { parameters }),
    ...(route.body && {
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: jsonSchema(route.body, 'input') },
          ...(route.uploads && { 'multipart/form-data': { schema: jsonSchema(route.body, 'input') } }),
        },
      },
    }),
    responses: {
      [String(route.status ?? 200)]: { description: 'Success', content: { [route.produces ?? 'application/json']: { schema: jsonSchema(route.output, 'output') } } },
      ...envelopeResponses([...route.errors, ...APP_COMMON_ERRORS]),
    },
  };
}

/** The OpenAPI 3.1 document, generated from the same schemas that validate requests. */
export function buildOpenApiDocument(endpoints: Endpoint[], appRoutes: AppRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const endpoint of endpoints) {
    for (const url of [endpoint.path, ...(endpoint.aliases ?? [])]) {
      for (const method of methodsOf(endpoint)) {
        const op = operation(endpoint, method);
        paths[url] = {
          ...paths[url],
          [method.toLowerCase()]: url === endpoint.path ? op : { ...op, operationId: `${op.operationId}_alias_${url.split('/').pop()}` },
        };
      }
    }
  }
  for (const route of appRoutes) {
    const url = openApiPath(route.path);
    paths[url] = { ...paths[url], [route.method.toLowerCase()]: appOperation(route) };
  }
  return {
    openapi: '3.1.0',
    tags: [
      { name: 'Inbox', description: 'The inbox API under /app/api: people sign in with a session cookie (docs/inbox.md). Not part of the Mumble API.' },
    ],
    info: {
      title: 'openmumble: Mumble WhatsApp CRM API',
      version,
      description:
        'A self-hosted implementation of the Mumble WhatsApp CRM REST API. Every response is JSON; success carries ' +
        '`"success": true`, errors `{"error": true, "message": "…"}`. Parameters are read from the JSON body and the ' +
        'query string for every method.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        MumbleApiKey: { type: 'apiKey', in: 'header', name: 'Mumble-Api-Key' },
        Session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'om_session',
          description: 'The inbox API: the cookie set by POST /app/api/session. Every request that changes something also sends `X-OpenMumble-CSRF: 1`.',
        },
      },
    },
    paths,
  };
}
