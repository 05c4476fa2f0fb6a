import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { connectChannel, disconnectChannel, showChannel } from './whatsapp.service.js';

function accountIdOf(params: unknown): string {
  const id = (params as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || id === '' || id.length > 255) throw new ApiError(400, 'Invalid account id');
  return id;
}

/**
 * `/admin/v1/accounts/:id/whatsapp`, registered inside the admin plugin (its token check applies):
 * PUT connects the account to a WhatsApp number, GET shows the channel and its status, DELETE
 * returns the account to the sandbox. The access token is never returned.
 */
export function registerWhatsAppAdminRoutes(admin: FastifyInstance, deps: Deps): void {
  admin.put('/accounts/:id/whatsapp', async (request) => ({
    success: true,
    channel: await connectChannel(deps, accountIdOf(request.params), request.body),
  }));
  admin.get('/accounts/:id/whatsapp', async (request) => ({ success: true, channel: await showChannel(deps, accountIdOf(request.params)) }));
  admin.delete('/accounts/:id/whatsapp', async (request) => ({ success: true, channel: await disconnectChannel(deps, accountIdOf(request.params)) }));
}
