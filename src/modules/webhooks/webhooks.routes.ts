import { z } from 'zod';
import { defineEndpoint } from '../../http/endpoint.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';
import {
  DELIVERY_NOT_FOUND,
  INVALID_EVENTS,
  INVALID_URL,
  TOO_MANY_WEBHOOKS,
  URL_REQUIRED,
  WEBHOOK_NOT_FOUND,
  addWebhookInput,
  deliveriesInput,
  deliveryRecord,
  newWebhookRecord,
  redeliverInput,
  webhookIdInput,
  webhookRecord,
} from './webhooks.schema.js';
import * as webhooks from './webhooks.service.js';

const TAG = 'Webhooks';
const webhookNotFound = { status: 404, message: WEBHOOK_NOT_FOUND };
const webhookIdRequired = { status: 400, message: 'Webhook ID is required.' };

export const webhookEndpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/add-webhook',
    tag: TAG,
    summary: 'Subscribe a URL to events (signed with Standard Webhooks)',
    description:
      `Events: ${WEBHOOK_EVENT_TYPES.join(', ')} (absent or empty: all). The URL must be http(s) on a public address. ` +
      'The signing secret is returned only here. At most 10 webhooks per account. See docs/webhooks.md.',
    input: addWebhookInput,
    invalidInput: INVALID_URL,
    output: z.object({ success: z.literal(true), webhook: newWebhookRecord }),
    example: {
      request: { url: 'https://example.com/hooks/mumble', events: ['message.received', 'message.status'] },
      response: {
        success: true,
        webhook: {
          id: '5b0a3c2e-8f61-4d7e-9a4b-2c1d0e9f8a7b',
          url: 'https://example.com/hooks/mumble',
          events: ['message.received', 'message.status'],
          secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8m3N0y2pX3E=',
        },
      },
    },
    errors: [
      { status: 400, message: URL_REQUIRED },
      { status: 400, message: INVALID_URL },
      { status: 400, message: 'Unknown event type: <name>' },
      { status: 400, message: INVALID_EVENTS },
      { status: 400, message: TOO_MANY_WEBHOOKS },
    ],
    handler: async (input, { deps, account }) => ({ webhook: await webhooks.addWebhook(deps, account.id, input) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-webhooks',
    tag: TAG,
    summary: "The account's webhooks, with their status (never their secrets)",
    input: z.object({}),
    invalidInput: 'Invalid input',
    output: z.object({ success: z.literal(true), webhooks: z.array(webhookRecord) }),
    errors: [],
    handler: async (_input, { deps, account }) => ({ webhooks: await webhooks.listWebhooks(deps, account.id) }),
  }),
  defineEndpoint({
    method: 'DELETE',
    path: '/mumbleapi/delete-webhook',
    tag: TAG,
    summary: 'Remove a webhook, its delivery history and its pending deliveries',
    input: webhookIdInput,
    invalidInput: 'Webhook ID is required.',
    output: z.object({ success: z.literal(true), message: z.string() }),
    example: { request: { webhook_id: '5b0a3c2e-8f61-4d7e-9a4b-2c1d0e9f8a7b' }, response: { success: true, message: 'Webhook deleted successfully' } },
    errors: [webhookIdRequired, webhookNotFound],
    handler: async (input, { deps, account }) => {
      await webhooks.deleteWebhook(deps, account.id, input.webhook_id);
      return { message: 'Webhook deleted successfully' };
    },
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-webhook-deliveries',
    tag: TAG,
    summary: "A webhook's deliveries, newest first (100 per page), each with every attempt",
    input: deliveriesInput,
    invalidInput: 'Invalid page',
    output: z.object({
      success: z.literal(true),
      deliveries: z.array(deliveryRecord),
      total: z.number().int(),
      pages: z.number().int(),
      current_page: z.number().int(),
    }),
    example: { request: { webhook_id: '5b0a3c2e-8f61-4d7e-9a4b-2c1d0e9f8a7b', page: 1 } },
    errors: [webhookIdRequired, { status: 400, message: 'Invalid page' }, webhookNotFound],
    handler: async (input, { deps, account }) => webhooks.listDeliveries(deps, account.id, input.webhook_id, input.page),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/redeliver-webhook',
    tag: TAG,
    summary: 'Send a delivered or failed event to its webhook again',
    description:
      'Creates a new delivery of the same event (same `webhook-id`), queued behind the pending deliveries of the same customer. ' +
      'Allowed on a disabled webhook: a successful redelivery enables it again.',
    input: redeliverInput,
    invalidInput: 'Delivery ID is required.',
    output: z.object({ success: z.literal(true), message: z.string(), delivery_id: z.string() }),
    example: {
      request: { delivery_id: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b' },
      response: { success: true, message: 'Redelivery scheduled', delivery_id: '9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d' },
    },
    errors: [{ status: 400, message: 'Delivery ID is required.' }, { status: 404, message: DELIVERY_NOT_FOUND }],
    handler: async (input, { deps, account }) => ({
      message: 'Redelivery scheduled',
      delivery_id: await webhooks.redeliver(deps, account.id, input.delivery_id),
    }),
  }),
];
