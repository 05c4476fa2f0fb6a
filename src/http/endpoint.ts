import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RequestAccount } from '../db/tables.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import { mergeParams, readBodylessMethodBody } from './body.js';
import { registerWithUploads, type FileUploads } from './uploads.js';

export interface EndpointContext {
  deps: Deps;
  account: RequestAccount;
  apiKeyId: string;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface ContractError {
  status: number;
  message: string;
}

/**
 * One Mumble API endpoint: its input schema validates the merged parameters, documents them in the
 * OpenAPI document and types the handler. The handler returns the reply without `success: true`.
 */
export interface Endpoint<Input extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Other paths that answer the same way (get-all-labels for get-labels). */
  aliases?: string[];
  tag: string;
  summary: string;
  description?: string;
  input: Input;
  /** The message for input the schema refuses without a message of its own (wrong types). */
  invalidInput: string;
  /**
   * The contract's message for missing parameters (send-text-message: `Missing required parameters.`).
   * A reply with it also names them: `"missing": ["text"]`, every parameter refused with that message
   * (absent, empty, or of no usable type), in the order the input lists them.
   */
  missingParameters?: string;
  output: z.ZodType;
  example?: { request?: Record<string, unknown>; response?: Record<string, unknown> };
  errors: ContractError[];
  /** Part of the messaging bucket (5/s, 100/min, 2000/h per key). */
  messaging?: boolean;
  /** Also takes multipart/form-data with files (send-media-message). */
  uploads?: FileUploads;
  handler(input: z.output<Input>, context: EndpointContext): Promise<Record<string, unknown>>;
}

export function defineEndpoint<Input extends z.ZodType>(endpoint: Endpoint<Input>): Endpoint<Input> {
  return endpoint;
}

/** Read-only endpoints also answer POST: some clients cannot send a GET with a body. */
export function methodsOf(endpoint: Endpoint): Array<'GET' | 'POST' | 'DELETE'> {
  return endpoint.method === 'GET' ? ['GET', 'POST'] : [endpoint.method];
}

/** Validates parameters; the first refused field decides the contract message. */
export function parseInput<Input extends z.ZodType>(endpoint: Endpoint<Input>, params: unknown): z.output<Input> {
  const result = endpoint.input.safeParse(params, { error: () => endpoint.invalidInput });
  if (!result.success) {
    const message = result.error.issues[0]?.message ?? endpoint.invalidInput;
    if (message !== endpoint.missingParameters) throw new ApiError(400, message);
    const missing = result.error.issues.filter((issue) => issue.message === message && issue.path.length > 0).map((issue) => String(issue.path[0]));
    throw new ApiError(400, message, { missing: [...new Set(missing)] });
  }
  if (typeof params === 'object' && params !== null && Object.hasOwn(params, '__proto__')) keepProtoParameter(endpoint, params, result.data);
  return result.data;
}

/**
 * Zod's object parser drops an own `__proto__` key without a word (writing it to a plain object would
 * set the object's prototype). An input that keeps every other key (a catchall: customers' custom
 * fields) gets it back as an own data property, so the handler judges that name like any other, and
 * no prototype is ever set.
 */
function keepProtoParameter(endpoint: Endpoint, params: object, data: unknown): void {
  const { input } = endpoint;
  const catchall = input instanceof z.ZodObject ? input.def.catchall : undefined;
  if (!catchall || catchall instanceof z.ZodNever || typeof data !== 'object' || data === null) return;
  const value = z.safeParse(catchall, Object.getOwnPropertyDescriptor(params, '__proto__')!.value, { error: () => endpoint.invalidInput });
  if (!value.success) throw new ApiError(400, value.error.issues[0]?.message ?? endpoint.invalidInput);
  Object.defineProperty(data, '__proto__', { value: value.data, enumerable: true, writable: true, configurable: true });
}

/** One authenticated, validated call, as a wrapper around the handler sees it. */
export interface HandlerCall {
  request: FastifyRequest;
  reply: FastifyReply;
  endpoint: Endpoint;
  /** The merged, unvalidated parameters (query and body). */
  params: Record<string, unknown>;
  apiKeyId: string;
}

export interface EndpointRoutesOptions {
  deps: Deps;
  /** Runs before parameters are read: authentication and rate limits. */
  onRequest: (request: FastifyRequest, reply: FastifyReply, endpoint: Endpoint) => Promise<void>;
  /** Runs around each handler once its input is valid (idempotency keys); `run` calls the handler. */
  aroundHandler?: (call: HandlerCall, run: () => Promise<Record<string, unknown>>) => Promise<unknown>;
}

export function registerEndpoints(app: FastifyInstance, endpoints: Endpoint[], options: EndpointRoutesOptions): void {
  registerWithUploads(app, endpoints, options.deps, (scope, endpoint) => routeEndpoint(scope, endpoint, options));
}

function routeEndpoint(app: FastifyInstance, endpoint: Endpoint, options: EndpointRoutesOptions): void {
  const { deps } = options;
  for (const url of [endpoint.path, ...(endpoint.aliases ?? [])]) {
    app.route({
      method: methodsOf(endpoint),
      url,
      onRequest: (request, reply) => options.onRequest(request, reply, endpoint),
      handler: async (request, reply) => {
        const body = request.method === 'GET' ? await readBodylessMethodBody(request, deps.config.BODY_LIMIT) : request.body;
        const params = mergeParams(request.query, body);
        const input = parseInput(endpoint, params);
        const context: EndpointContext = { deps, account: request.account!, apiKeyId: request.apiKeyId!, request, reply };
        const run = async () => ({ success: true, ...(await endpoint.handler(input, context)) });
        if (!options.aroundHandler) return run();
        return options.aroundHandler({ request, reply, endpoint, params, apiKeyId: request.apiKeyId! }, run);
      },
    });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    account?: RequestAccount;
    apiKeyId?: string;
  }
}
