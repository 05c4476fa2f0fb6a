import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { UNEXPECTED_ERROR } from '../../errors.js';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { pageParam } from '../../http/fields.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import * as accounts from '../accounts/accounts.service.js';
import { ADMINS_ONLY, CROSS_SITE_REFUSED } from '../auth/app-api.js';
import { NOT_SIGNED_IN } from '../auth/sessions.service.js';
import { BODY_REQUIRED, INVALID_TEMPLATE, TEMPLATE_NAME_REQUIRED, TEMPLATE_NAME_TAKEN, TEMPLATE_STATUSES, createTemplateInput, templateRecord } from '../templates/templates.schema.js';
import * as templates from '../templates/templates.service.js';
import { addWebhookInput, deliveryRecord, INVALID_URL, newWebhookRecord, TOO_MANY_WEBHOOKS, URL_REQUIRED, WEBHOOK_NOT_FOUND, webhookRecord } from '../webhooks/webhooks.schema.js';
import * as webhooks from '../webhooks/webhooks.service.js';
import { showChannel } from '../whatsapp/whatsapp.service.js';
import { idParams, nameInput } from './people.schema.js';

const readErrors = [
  { status: 401, message: NOT_SIGNED_IN },
  { status: 403, message: ADMINS_ONLY },
];
const writeErrors = [...readErrors, { status: 403, message: CROSS_SITE_REFUSED }];

const apiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it by'),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

/** The account's keys as the screen lists them (never the key or its hash). */
const keysOf = async (deps: Deps, accountId: string) => (await accounts.listApiKeys(deps, accountId)).map(({ account_id: _account, ...key }) => key);

const channel = z.union([
  z.object({ type: z.literal('sandbox') }),
  z.object({
    type: z.literal('cloud_api'),
    phone_number_id: z.string(),
    waba_id: z.string(),
    display_phone_number: z.string(),
    status: z.enum(['connected', 'disconnected']),
    status_reason: z.string().nullable(),
    status_changed_at: z.string(),
    connected_at: z.string(),
    updated_at: z.string(),
  }),
]);

/**
 * The inbox's admin screens for the account's integration: API keys, outbound webhooks and their
 * deliveries, the WhatsApp connection (read-only) and message templates. Admins only, their own
 * account; the same services as the admin API, the Mumble API and the CLI.
 */
export const adminScreenAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/api-keys',
    access: 'admin',
    summary: "The account's API keys",
    description: 'Revoked keys stay listed with `revoked_at`. A key itself is shown only when it is created.',
    output: z.object({ api_keys: z.array(apiKey) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ api_keys: await keysOf(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/api-keys',
    access: 'admin',
    summary: 'Create an API key for the Mumble API',
    description: 'The reply holds the key: the only time it is shown (only its hash is stored).',
    body: nameInput,
    output: z.object({ api_key: z.object({ id: z.string(), name: z.string(), key: z.string(), prefix: z.string(), created_at: z.string() }) }),
    status: 201,
    errors: [{ status: 400, message: 'name: name is required' }, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => ({ api_key: await accounts.createApiKey(deps, viewer.accountId, body.name) }),
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/admin/api-keys/:id',
    access: 'admin',
    summary: 'Revoke an API key',
    description: 'Requests with it are refused from the next one on. Revoking twice changes nothing.',
    params: idParams,
    output: z.object({ api_keys: z.array(apiKey) }),
    errors: [{ status: 404, message: accounts.API_KEY_NOT_FOUND }, ...writeErrors],
    handler: async ({ params }, { deps, viewer }) => {
      await accounts.revokeApiKey(deps, params.id, viewer.accountId);
      return { api_keys: await keysOf(deps, viewer.accountId) };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/webhooks',
    access: 'admin',
    summary: "The account's outbound webhooks",
    description: 'As get-webhooks: each with its events and status (disabled after 5 days of failed deliveries).',
    output: z.object({ webhooks: z.array(webhookRecord) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ webhooks: await webhooks.listWebhooks(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/webhooks',
    access: 'admin',
    summary: 'Add an outbound webhook',
    description: 'As add-webhook: a public http(s) URL, the events to send (all when absent). The reply holds the signing secret, shown only once.',
    body: addWebhookInput,
    output: z.object({ webhook: newWebhookRecord }),
    status: 201,
    errors: [
      { status: 400, message: `url: ${URL_REQUIRED}` },
      { status: 400, message: INVALID_URL },
      { status: 400, message: 'Unknown event type: <name>' },
      { status: 400, message: TOO_MANY_WEBHOOKS },
      ...writeErrors,
    ],
    handler: async ({ body }, { deps, viewer }) => ({ webhook: await webhooks.addWebhook(deps, viewer.accountId, body) }),
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/admin/webhooks/:id',
    access: 'admin',
    summary: 'Remove an outbound webhook',
    description: 'With its delivery history and its waiting deliveries. Answers with the remaining webhooks.',
    params: idParams,
    output: z.object({ webhooks: z.array(webhookRecord) }),
    errors: [{ status: 404, message: WEBHOOK_NOT_FOUND }, ...writeErrors],
    handler: async ({ params }, { deps, viewer }) => {
      await webhooks.deleteWebhook(deps, viewer.accountId, params.id);
      return { webhooks: await webhooks.listWebhooks(deps, viewer.accountId) };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/webhooks/:id/deliveries',
    access: 'admin',
    summary: "A webhook's deliveries, newest first",
    description: 'As get-webhook-deliveries: each event sent with its attempts (status, answer, duration, error), 100 a page.',
    params: idParams,
    query: z.object({ page: pageParam() }),
    output: z.object({ deliveries: z.array(deliveryRecord), total: z.int(), pages: z.int(), current_page: z.int() }),
    errors: [{ status: 404, message: WEBHOOK_NOT_FOUND }, ...readErrors],
    handler: async ({ params, query }, { deps, viewer }) => webhooks.listDeliveries(deps, viewer.accountId, params.id, query.page),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/whatsapp',
    access: 'admin',
    summary: "The account's WhatsApp connection",
    description:
      '`sandbox` until a WhatsApp number is connected (with the admin API or `openmumble whatsapp connect`); then the number and whether Meta ' +
      'still accepts its token (`disconnected` with the reason when it refused it). Never the token.',
    output: z.object({ channel }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ channel: await showChannel(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/templates',
    access: 'admin',
    summary: "The account's message templates, with their review status",
    description: `As get-templates: every template, oldest first; \`status\` is one of ${TEMPLATE_STATUSES.join(', ')}.`,
    output: z.object({ templates: z.array(templateRecord) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ templates: await templates.listTemplates(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/templates',
    access: 'admin',
    summary: 'Create a message template',
    description: "As create-template, with WhatsApp's rules: stored as PENDING and submitted for review through the account's channel.",
    body: createTemplateInput,
    output: z.object({ template: z.object({ id: z.string(), status: z.enum(TEMPLATE_STATUSES) }) }),
    status: 201,
    errors: [
      { status: 400, message: `name: ${TEMPLATE_NAME_REQUIRED}` },
      { status: 400, message: `body: ${BODY_REQUIRED}` },
      { status: 400, message: INVALID_TEMPLATE },
      { status: 400, message: MEDIA_LINK_INVALID },
      { status: 409, message: TEMPLATE_NAME_TAKEN },
      { status: 500, message: UNEXPECTED_ERROR },
      ...writeErrors,
    ],
    handler: async ({ body }, { deps, viewer }) => ({
      template: (await templates.createTemplate(deps, await accounts.requireAccount(deps, viewer.accountId), body)) as { id: string; status: (typeof TEMPLATE_STATUSES)[number] },
    }),
  }),
];
