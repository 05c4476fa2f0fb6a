import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { parseWith } from '../../http/app-route.js';
import { bearerMatches } from '../../http/bearer.js';
import * as accounts from '../accounts/accounts.service.js';
import { aiSettingsInput } from '../ai/ai.schema.js';
import * as ai from '../ai/ai.service.js';
import { botPatchInput, newBotInput } from '../bots/bots.schema.js';
import * as bots from '../bots/bots.service.js';
import type { DirectoryEntry } from '../directory/directory.repository.js';
import * as directory from '../directory/directory.service.js';
import { invitationUrl } from '../people/invitations.js';
import { accountSettingsInput, idParams, nameInput, newPersonInput, personPatchInput, teamMemberInput, teamMemberParams } from '../people/people.schema.js';
import * as people from '../people/people.service.js';
import { registerWhatsAppAdminRoutes } from '../whatsapp/whatsapp.admin-routes.js';

/** The admin API's inputs: a refused field names itself (`email: email is not valid`), as in the inbox API. */
const parse = <T extends z.ZodType>(schema: T, value: unknown): z.output<T> => parseWith(schema, value, 'body');

const presentTeam = (entry: DirectoryEntry) => ({ id: entry.id, name: entry.name, created_at: entry.created_at });

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
        if (!bearerMatches(request.headers.authorization, token)) throw new ApiError(401, 'Unauthorized');
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
      admin.post('/api-keys/:id/rotate', async (request, reply) => {
        const { id } = parse(idParams, request.params);
        return reply.status(201).send({ success: true, api_key: await accounts.rotateApiKey(deps, id) });
      });
      admin.delete('/accounts/:id', async (request) => {
        const { id } = parse(idParams, request.params);
        const { mediaFiles } = await accounts.deleteAccount(deps, id);
        return { success: true, message: 'Account deleted', media_files_removed: mediaFiles };
      });
      admin.delete('/api-keys/:id', async (request) => {
        const { id } = parse(idParams, request.params);
        await accounts.revokeApiKey(deps, id);
        return { success: true, message: 'API key revoked' };
      });

      admin.patch('/accounts/:id', async (request) => {
        const { id } = parse(idParams, request.params);
        return { success: true, account: await people.updateAccountSettings(deps, id, parse(accountSettingsInput, request.body)) };
      });

      registerPeopleRoutes(admin, deps);
      admin.post('/accounts/:id/teams', async (request, reply) => {
        const { id } = parse(idParams, request.params);
        const entry = await directory.addEntry(deps, 'teams', id, parse(nameInput, request.body));
        return reply.status(201).send({ success: true, team: presentTeam(entry) });
      });
      admin.get('/accounts/:id/teams', async (request) => {
        const { id } = parse(idParams, request.params);
        await accounts.requireAccount(deps, id);
        return { success: true, teams: (await directory.listEntries(deps, 'teams', id)).map(presentTeam) };
      });
      registerBotRoutes(admin, deps);
      registerAiRoutes(admin, deps);
      for (const table of ['agents', 'teams', 'bots'] as const) {
        admin.delete(`/${table}/:id`, async (request) => {
          const { id } = parse(idParams, request.params);
          await directory.removeEntry(deps, table, id);
          return { success: true, message: `${table.slice(0, -1)} removed` };
        });
      }

      registerWhatsAppAdminRoutes(admin, deps);
    },
    { prefix: '/admin/v1' },
  );
}

/** Flow bots (docs/bots.md): a flow is checked when saved, and each save is a new version. */
function registerBotRoutes(admin: FastifyInstance, deps: Deps): void {
  admin.post('/accounts/:id/bots', async (request, reply) => {
    const { id } = parse(idParams, request.params);
    return reply.status(201).send({ success: true, bot: await bots.createBot(deps, id, parse(newBotInput, request.body)) });
  });
  admin.get('/accounts/:id/bots', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, bots: await bots.listBots(deps, id) };
  });
  admin.get('/bots/:id', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, bot: await bots.getBot(deps, id) };
  });
  admin.put('/bots/:id', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, bot: await bots.updateBot(deps, id, parse(botPatchInput, request.body)) };
  });
}

/** The AI bot of an account (docs/ai.md): its key is sealed and never shown. */
function registerAiRoutes(admin: FastifyInstance, deps: Deps): void {
  admin.put('/accounts/:id/ai', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, ai: await ai.putAiSettings(deps, id, parse(aiSettingsInput, request.body)) };
  });
  admin.get('/accounts/:id/ai', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, ai: await ai.getAiSettings(deps, id) };
  });
  admin.delete('/accounts/:id/ai', async (request) => {
    const { id } = parse(idParams, request.params);
    await ai.clearAiSettings(deps, id);
    return { success: true, message: 'AI settings removed' };
  });
}

/** People: agents who may sign in to the inbox, and the teams they belong to (docs/inbox.md). */
function registerPeopleRoutes(admin: FastifyInstance, deps: Deps): void {
  admin.post('/accounts/:id/agents', async (request, reply) => {
    const { id } = parse(idParams, request.params);
    const { agent, invitationToken } = await people.createPerson(deps, id, parse(newPersonInput, request.body));
    return reply.status(201).send({
      success: true,
      agent: people.toPersonRecord(agent),
      ...(invitationToken && { invite_url: invitationUrl(deps.config, invitationToken, request) }),
    });
  });
  admin.get('/accounts/:id/agents', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, agents: await people.listPeople(deps, id) };
  });
  admin.patch('/agents/:id', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, agent: people.toPersonRecord(await people.updatePerson(deps, id, parse(personPatchInput, request.body))) };
  });
  admin.post('/agents/:id/invite', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, invite_url: invitationUrl(deps.config, await people.reinvite(deps, id), request) };
  });
  admin.get('/teams/:id/members', async (request) => {
    const { id } = parse(idParams, request.params);
    return { success: true, members: await people.listTeamMembers(deps, id) };
  });
  admin.post('/teams/:id/members', async (request) => {
    const { id } = parse(idParams, request.params);
    await people.addTeamMember(deps, id, parse(teamMemberInput, request.body).agent_id);
    return { success: true, members: await people.listTeamMembers(deps, id) };
  });
  admin.delete('/teams/:id/members/:agentId', async (request) => {
    const { id, agentId } = parse(teamMemberParams, request.params);
    await people.removeTeamMember(deps, id, agentId);
    return { success: true, members: await people.listTeamMembers(deps, id) };
  });
}
