import { z } from 'zod';
import { UNEXPECTED_ERROR } from '../../errors.js';
import { defineEndpoint } from '../../http/endpoint.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import {
  BODY_REQUIRED,
  INVALID_TEMPLATE,
  TEMPLATE_NAME_REQUIRED,
  TEMPLATE_NAME_TAKEN,
  TEMPLATE_STATUSES,
  createTemplateInput,
  templateRecord,
} from './templates.schema.js';
import * as templates from './templates.service.js';

export const templateEndpoints = [
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-templates',
    tag: 'Templates',
    summary: 'List all WhatsApp message templates in your account',
    description: `Oldest first. \`status\` is one of ${TEMPLATE_STATUSES.join(', ')}; only APPROVED templates can be sent. \`variables\` is how many body variables a send must fill.`,
    input: z.object({}),
    invalidInput: 'Invalid input',
    output: z.object({ success: z.literal(true), templates: z.array(templateRecord) }),
    example: { response: { success: true, templates: [] } },
    errors: [],
    handler: async (_input, { deps, account }) => ({ templates: await templates.listTemplates(deps, account.id) }),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/create-template',
    tag: 'Templates',
    summary: 'Create a new WhatsApp message template',
    description:
      'Stored as PENDING and submitted for review; it can be sent once APPROVED. Follows WhatsApp\'s rules: body variables `{{1}}…{{n}}` ' +
      'without gaps and one `body_examples` entry each; media headers (IMAGE, VIDEO, DOCUMENT, AUDIO) with a `media_url` sample and no ' +
      'header variables; buttons URL (the url may end in `{{1}}`, then with an `example`), QUICK_REPLY and PHONE_NUMBER. Name and language ' +
      'are unique together.',
    input: createTemplateInput,
    invalidInput: INVALID_TEMPLATE,
    output: z.object({
      success: z.literal(true),
      error: z.literal(false),
      message: z.literal('Template created successfully'),
      data: z.object({ id: z.string(), status: z.enum(TEMPLATE_STATUSES) }),
    }),
    example: {
      request: {
        name: 'order_confirmation',
        language: 'en_US',
        category: 'MARKETING',
        header: { format: 'IMAGE' },
        body: 'Hi {{1}}! Your order {{2}} has been confirmed. Total: {{3}}.',
        body_examples: ['John Doe', '#12345', '$99.99'],
        footer: 'Thank you for shopping!',
        buttons: [{ type: 'URL', text: 'Track Order', url: 'https://example.com/track/{{1}}', example: 'order-12345' }],
        media_url: 'https://example.com/banner.jpg',
      },
      response: { success: true, error: false, message: 'Template created successfully', data: { id: 'uuid', status: 'PENDING' } },
    },
    errors: [
      { status: 400, message: TEMPLATE_NAME_REQUIRED },
      { status: 400, message: BODY_REQUIRED },
      { status: 400, message: INVALID_TEMPLATE },
      { status: 400, message: MEDIA_LINK_INVALID },
      { status: 409, message: TEMPLATE_NAME_TAKEN },
      { status: 500, message: UNEXPECTED_ERROR },
    ],
    handler: async (input, { deps, account }) => ({
      error: false,
      message: 'Template created successfully',
      data: await templates.createTemplate(deps, account, input),
    }),
  }),
];
