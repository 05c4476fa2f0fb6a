import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import * as accounts from '../accounts/accounts.service.js';
import type { DirectoryEntry, DirectoryTable } from '../directory/directory.repository.js';
import * as directory from '../directory/directory.service.js';
import { registerWhatsAppAdminRoutes } from '../whatsapp/whatsapp.admin-routes.js';

const nameInput = z.object({ name: z.string({ error: 'name is required' }).trim().min(1, 'name is required').max(255, 'name is too long') });
const agentInput = nameInput.extend({ email: z.email('email is not valid').max(254).optional() });
const idParams = z.object({ id: z.string().min(1).max(255) });

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new ApiError(400, result.error.issues[0]?.message ?? 'Invalid input');
  return result.data;
}

/** Constant-time comparison of equal-length digests, so the token's length leaks nothing either. */
function tokenMatches(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const ENTRY_KEY: Record<DirectoryTable, 'agent' | 'team' | 'bot'> = { agents: 'agent', teams: 'team', bots: 'bot' };

function presentEntry(table: DirectoryTable, entry: DirectoryEntry) {
  return table === 'agents'
    ? { id: entry.id, name: entry.name, email: entry.email ?? null, created_at: entry.created_at }
    : table === 'bots'
      ? { id: entry.id, name: entry.name, type: 'flow', created_at: entry.created_at }
      : { id: entry.id, name: entry.name, created_at: entry.created_at };
}

/**
 * The operator's API under /admin/v1, on only when OPENMUMBLE_ADMIN_TOKEN is set; the CLI calls the
 * same services.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: Deps): void {
  const token = deps.config.OPENMUMBLE_ADMIN_TOKEN;
  if (!token) return;

  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request: FastifyRequest) => {
        // The scheme name is case-insensitive (RFC 9110 §11.1): `bearer <token>` is the same credential.
        const given = /^Bearer +(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
        if (!given || !tokenMatches(given, token)) throw new ApiError(401, 'Unauthorized');
      });

      admin.post('/accounts', async (request, reply) => {
        const { name } = parse(nameInput, request.body);
        const account = await accounts.createAccount(deps, name);
        return reply.status(201).send({ success: true, account: { id: account.id, name: account.name, created_at: account.created_at } });
      });
      admin.get('/accounts', async () => ({
        success: true,
        accounts: (await accounts.listAccounts(deps)).map(({ id, name, created_at }) => ({ id, name, created_at })),
      }));

      admin.post('/accounts/:id/api-keys', async (request, reply) => {
        const { id } = parse(idParams, request.params);
        const { name } = parse(nameInput, request.body);
        const key = await accounts.createApiKey(deps, id, name);
        return reply.status(201).send({ success: true, api_key: key });
      });
      admin.get('/accounts/:id/api-keys', async (request) => {
        const { id } = parse(idParams, request.params);
        return { success: true, api_keys: await accounts.listApiKeys(deps, id) };
      });
      admin.delete('/api-keys/:id', async (request) => {
        const { id } = parse(idParams, request.params);
        await accounts.revokeApiKey(deps, id);
        return { success: true, message: 'API key revoked' };
      });

      for (const table of ['agents', 'teams', 'bots'] as const) {
        const key = ENTRY_KEY[table];
        admin.post(`/accounts/:id/${table}`, async (request, reply) => {
          const { id } = parse(idParams, request.params);
          const input = parse(table === 'agents' ? agentInput : nameInput, request.body);
          const entry = await directory.addEntry(deps, table, id, input);
          return reply.status(201).send({ success: true, [key]: presentEntry(table, entry) });
        });
        admin.get(`/accounts/:id/${table}`, async (request) => {
          const { id } = parse(idParams, request.params);
          await accounts.requireAccount(deps, id);
          return { success: true, [table]: (await directory.listEntries(deps, table, id)).map((entry) => presentEntry(table, entry)) };
        });
        admin.delete(`/${table}/:id`, async (request) => {
          const { id } = parse(idParams, request.params);
          await directory.removeEntry(deps, table, id);
          return { success: true, message: `${key} removed` };
        });
      }

      registerWhatsAppAdminRoutes(admin, deps);
    },
    { prefix: '/admin/v1' },
  );
}
