import { z } from 'zod';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { ADMINS_ONLY, CROSS_SITE_REFUSED } from '../auth/app-api.js';
import { NOT_SIGNED_IN } from '../auth/sessions.service.js';
import { aiSettingsInput, aiSettingsRecord } from './ai.schema.js';
import * as ai from './ai.service.js';

const readErrors = [
  { status: 401, message: NOT_SIGNED_IN },
  { status: 403, message: ADMINS_ONLY },
];
const writeErrors = [...readErrors, { status: 403, message: CROSS_SITE_REFUSED }];
const notFound = { status: 404, message: 'AI settings not found' };

/** The inbox's AI settings screen (admins, their own account): the same service as the admin API and the CLI. */
export const aiAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/ai',
    access: 'admin',
    summary: "The account's AI bot settings (never the key)",
    output: z.object({ ai: aiSettingsRecord }),
    errors: [notFound, ...readErrors],
    handler: async (_input, { deps, viewer }) => ({ ai: await ai.getAiSettings(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'PUT',
    path: '/app/api/admin/ai',
    access: 'admin',
    summary: "Set the account's AI bot",
    description:
      'Any OpenAI-compatible endpoint (docs/ai.md). `api_key` absent keeps the stored key, `null` removes it; it is sealed with OPENMUMBLE_SECRET_KEY. ' +
      'A base URL on a private address needs AI_ALLOW_PRIVATE_BASE_URL=true on the server.',
    body: aiSettingsInput,
    output: z.object({ ai: aiSettingsRecord }),
    errors: [{ status: 400, message: 'base_url must be a public address (set AI_ALLOW_PRIVATE_BASE_URL=true for a model on your own network)' }, { status: 404, message: 'Team not found' }, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => ({ ai: await ai.putAiSettings(deps, viewer.accountId, body) }),
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/admin/ai',
    access: 'admin',
    summary: "Remove the account's AI bot settings (the server-wide defaults apply, if any)",
    output: z.object({ message: z.string() }),
    errors: [notFound, ...writeErrors],
    handler: async (_input, { deps, viewer }) => {
      await ai.clearAiSettings(deps, viewer.accountId);
      return { message: 'AI settings removed' };
    },
  }),
];
