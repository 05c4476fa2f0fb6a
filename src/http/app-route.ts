import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { ContractError } from './endpoint.js';
import { registerWithUploads, type FileUploads } from './uploads.js';
import type { Viewer } from './viewer.js';

/**
 * A route of the inbox API under /app/api: REST-shaped (path parameters, GET/POST/PATCH/DELETE), JSON
 * in and out, errors in the same envelope as the Mumble API (`{"error": true, "message": "…"}`). Its
 * Zod schemas validate the request, type the handler and document it in the OpenAPI document.
 */
export type AppAccess =
  /** No session needed (sign-in, accepting an invitation). */
  | 'public'
  /** Any signed-in person. */
  | 'person'
  /** A signed-in admin of the account. */
  | 'admin';

export type AppMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';


export interface AppContext {
  deps: Deps;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface SignedInContext extends AppContext {
  viewer: Viewer;
}

type AnyObject = z.ZodType<Record<string, unknown>>;

export interface AppRoute<
  Params extends AnyObject = AnyObject,
  Query extends AnyObject = AnyObject,
  Body extends z.ZodType = z.ZodType,
  Access extends AppAccess = AppAccess,
> {
  method: AppMethod;
  /** Fastify's syntax: `/app/api/conversations/:customerId`. */
  path: string;
  access: Access;
  summary: string;
  description?: string;
  params?: Params;
  query?: Query;
  body?: Body;
  /** The success reply's schema (documentation, and the handler's type). */
  output: z.ZodType;
  /** The success reply's media type: application/json unless told (the live events' stream is text/event-stream). */
  produces?: string;
  /** 200 unless told (201 for a creation). */
  status?: number;
  errors: ContractError[];
  /** Also takes multipart/form-data with a file (a reply with media): the file's field becomes a body field. */
  uploads?: FileUploads;
  handler(
    input: { params: z.output<Params>; query: z.output<Query>; body: z.output<Body> },
    context: Access extends 'public' ? AppContext : SignedInContext,
  ): Promise<unknown>;
}

export function defineAppRoute<Params extends AnyObject, Query extends AnyObject, Body extends z.ZodType, Access extends AppAccess>(
  route: AppRoute<Params, Query, Body, Access>,
): AppRoute {
  return route as unknown as AppRoute;
}

/** A refused field's message, naming the field: `email: Invalid email address`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid input';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

export function parseWith<T extends z.ZodType>(schema: T | undefined, value: unknown, part: string): z.output<T> {
  if (!schema) return {} as z.output<T>;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new ApiError(400, part === 'body' ? describeIssue(result.error) : `${part} ${describeIssue(result.error)}`);
  return result.data;
}

export interface AppRoutesOptions {
  deps: Deps;
  /** Resolves the signed-in person (or throws 401); checks CSRF on state-changing methods. */
  authenticate(request: FastifyRequest, reply: FastifyReply, route: AppRoute): Promise<Viewer | undefined>;
}

export function registerAppRoutes(app: FastifyInstance, routes: AppRoute[], options: AppRoutesOptions): void {
  registerWithUploads(app, routes, options.deps, (scope, route) => routeApp(scope, route, options));
}

function routeApp(app: FastifyInstance, route: AppRoute, options: AppRoutesOptions): void {
  const viewers = new WeakMap<FastifyRequest, Viewer>();
  app.route({
    method: route.method,
    url: route.path,
    // Before the body is read: a request refused here never has a file of its stored.
    onRequest: async (request, reply) => {
      const viewer = await options.authenticate(request, reply, route);
      if (viewer) viewers.set(request, viewer);
    },
    handler: async (request, reply) => {
      const viewer = viewers.get(request);
      const input = {
        params: parseWith(route.params, request.params, 'path'),
        query: parseWith(route.query, request.query, 'query'),
        body: parseWith(route.body, request.body, 'body'),
      };
      const context = { deps: options.deps, request, reply, ...(viewer && { viewer }) } as SignedInContext;
      const result = await route.handler(input, context);
      if (reply.sent) return reply;
      return reply.status(route.status ?? 200).send(result);
    },
  });
}
