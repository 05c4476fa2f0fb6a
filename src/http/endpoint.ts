import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Account } from '../db/tables.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import { mergeParams, readBodylessMethodBody } from './body.js';

export interface EndpointContext {
  deps: Deps;
  account: Account;
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
  output: z.ZodType;
  example?: { request?: Record<string, unknown>; response?: Record<string, unknown> };
  errors: ContractError[];
  /** Part of the messaging bucket (5/s, 100/min, 2000/h per key). */
  messaging?: boolean;
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
  if (!result.success) throw new ApiError(400, result.error.issues[0]?.message ?? endpoint.invalidInput);
  return result.data;
}

export interface EndpointRoutesOptions {
  deps: Deps;
  /** Runs before parameters are read: authentication and rate limits. */
  onRequest: (request: FastifyRequest, reply: FastifyReply, endpoint: Endpoint) => Promise<void>;
}

export function registerEndpoints(app: FastifyInstance, endpoints: Endpoint[], options: EndpointRoutesOptions): void {
  const { deps } = options;
  for (const endpoint of endpoints) {
    for (const url of [endpoint.path, ...(endpoint.aliases ?? [])]) {
      app.route({
        method: methodsOf(endpoint),
        url,
        onRequest: (request, reply) => options.onRequest(request, reply, endpoint),
        handler: async (request, reply) => {
          const body = request.method === 'GET' ? await readBodylessMethodBody(request, deps.config.BODY_LIMIT) : request.body;
          const input = parseInput(endpoint, mergeParams(request.query, body));
          const context: EndpointContext = { deps, account: request.account!, apiKeyId: request.apiKeyId!, request, reply };
          return { success: true, ...(await endpoint.handler(input, context)) };
        },
      });
    }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    account?: Account;
    apiKeyId?: string;
  }
}
