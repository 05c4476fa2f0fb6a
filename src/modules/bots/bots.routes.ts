import { z } from 'zod';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { ADMINS_ONLY, CROSS_SITE_REFUSED } from '../auth/app-api.js';
import { NOT_SIGNED_IN } from '../auth/sessions.service.js';
import { NOT_FOUND_MESSAGE } from '../directory/directory.service.js';
import { idParams } from '../people/people.schema.js';
import { mediaSendErrors, mediaUploads } from '../messages/messages.routes.js';
import { botPatchInput, flowJson, flowMediaInput, newBotInput } from './bots.schema.js';
import * as bots from './bots.service.js';

const bot = z.object({
  id: z.string(),
  name: z.string(),
  type: z.literal('flow'),
  version: z.int().describe('The current version of its flow; 0 while it has none. A session finishes on the version it started with.'),
  created_at: z.string(),
  flow: z.record(z.string(), z.unknown()).nullable().optional(),
});

const readErrors = [
  { status: 401, message: NOT_SIGNED_IN },
  { status: 403, message: ADMINS_ONLY },
];
const writeErrors = [...readErrors, { status: 403, message: CROSS_SITE_REFUSED }];
const invalidFlow = { status: 400, message: 'Invalid flow: node "menu": buttons: a buttons node has 1 to 3 buttons' };
const botNotFound = { status: 404, message: NOT_FOUND_MESSAGE.bots };

/**
 * The inbox's flow editor (admins, their own account): the same service as the admin API and the
 * CLI. Saving checks the flow; `validate` checks one without saving, for inline errors while editing.
 */
export const botAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/bots',
    access: 'admin',
    summary: "The account's flow bots",
    output: z.object({ bots: z.array(bot) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ bots: await bots.listBots(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/bots',
    access: 'admin',
    summary: 'Add a flow bot',
    description: 'Without a flow the bot answers nothing until it gets one.',
    body: newBotInput,
    output: z.object({ bot }),
    status: 201,
    errors: [invalidFlow, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => ({ bot: await bots.createBot(deps, viewer.accountId, body) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/bots/validate',
    access: 'admin',
    summary: 'Check a flow without saving it',
    description: 'What saving it would refuse, with the node and the problem; `bot_id` lets a flow go to itself.',
    body: z.strictObject({ flow: flowJson, bot_id: z.string().min(1).max(255).optional() }),
    output: z.object({ valid: z.literal(true), nodes: z.int(), edges: z.int() }),
    errors: [invalidFlow, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => {
      const flow = await bots.checkFlow(deps, viewer.accountId, body.flow, body.bot_id);
      return { valid: true as const, nodes: flow.nodes.length, edges: flow.edges.length };
    },
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/bots/media',
    access: 'admin',
    summary: "Upload a file for flows' media nodes",
    description: 'multipart/form-data with `file` (checked as send-media-message checks files). A media node sends it with `"media_key"`; each send uses its own copy.',
    body: flowMediaInput,
    uploads: mediaUploads,
    output: z.object({ media_key: z.string(), kind: z.string(), mime_type: z.string(), filename: z.string() }),
    status: 201,
    errors: [...mediaSendErrors.filter((error) => error.status === 400 || error.status === 413), ...writeErrors],
    handler: async ({ body }, { deps }) => bots.storeFlowMedia(deps, body.file),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/bots/:id',
    access: 'admin',
    summary: 'A flow bot with its current flow',
    params: idParams,
    output: z.object({ bot }),
    errors: [botNotFound, ...readErrors],
    handler: async ({ params }, { deps, viewer }) => ({ bot: await bots.getBot(deps, params.id, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'PUT',
    path: '/app/api/admin/bots/:id',
    access: 'admin',
    summary: "Rename a flow bot, or save a new version of its flow",
    params: idParams,
    body: botPatchInput,
    output: z.object({ bot }),
    errors: [invalidFlow, botNotFound, ...writeErrors],
    handler: async ({ params, body }, { deps, viewer }) => ({ bot: await bots.updateBot(deps, params.id, body, viewer.accountId) }),
  }),
];
