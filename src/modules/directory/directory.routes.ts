import { z } from 'zod';
import { defineEndpoint } from '../../http/endpoint.js';
import { idParam, phoneParam } from '../../http/fields.js';
import { CUSTOMER_NOT_FOUND, PHONE_REQUIRED, messageReply } from '../customers/customers.schema.js';
import { assignBot } from '../customers/customers.service.js';
import { AI_BOT, listEntries } from './directory.service.js';

const namedRecord = z.object({ name: z.string(), id: z.string() });
const noInput = z.object({});

export const directoryEndpoints = [
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-agents',
    tag: 'Agents & Teams',
    summary: 'List all agents (sub-users) in your account',
    input: noInput,
    invalidInput: 'Invalid input',
    output: z.object({ success: z.literal(true), agents: z.array(namedRecord) }),
    example: { response: { success: true, agents: [{ name: 'Agent Name', id: 'uuid' }] } },
    errors: [],
    handler: async (_input, { deps, account }) => ({
      agents: (await listEntries(deps, 'agents', account.id)).map(({ name, id }) => ({ name, id })),
    }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-teams',
    aliases: ['/mumbleapi/get-all-teams'],
    tag: 'Agents & Teams',
    summary: 'List all teams in your account',
    input: noInput,
    invalidInput: 'Invalid input',
    output: z.object({ success: z.literal(true), teams: z.array(namedRecord) }),
    example: { response: { success: true, teams: [{ name: 'Team Name', id: 'uuid' }] } },
    errors: [],
    handler: async (_input, { deps, account }) => ({
      teams: (await listEntries(deps, 'teams', account.id)).map(({ name, id }) => ({ name, id })),
    }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-bots',
    tag: 'Bots',
    summary: 'List all chatbots in your account',
    description: 'The account\'s flow bots, then the built-in AI bot (id "AI").',
    input: noInput,
    invalidInput: 'Invalid input',
    output: z.object({ success: z.literal(true), bots: z.array(z.object({ id: z.string(), name: z.string(), type: z.enum(['flow', 'ai']) })) }),
    example: { response: { success: true, bots: [{ id: 'uuid', name: 'Welcome flow', type: 'flow' }, AI_BOT] } },
    errors: [],
    handler: async (_input, { deps, account }) => ({
      bots: [...(await listEntries(deps, 'bots', account.id)).map(({ id, name }) => ({ id, name, type: 'flow' })), AI_BOT],
    }),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/assign-bot',
    tag: 'Bots',
    summary: 'Assign a chatbot to a customer',
    description: 'bot_token is a flow bot id, "AI" for the AI bot, or "turn_off" to disable bots for the customer.',
    input: z.object({ customer_phone: phoneParam(PHONE_REQUIRED), bot_token: idParam('Bot token is required.') }),
    invalidInput: 'Bot token is required.',
    output: messageReply,
    example: { request: { customer_phone: '972501234567', bot_token: 'AI' }, response: { success: true, message: 'Bot assigned successfully' } },
    errors: [
      { status: 400, message: PHONE_REQUIRED },
      { status: 400, message: 'Bot token is required.' },
      { status: 404, message: CUSTOMER_NOT_FOUND },
      { status: 404, message: 'Bot not found.' },
    ],
    handler: async (input, { deps, account }) => {
      await assignBot(deps, account.id, input.customer_phone, input.bot_token);
      return { message: 'Bot assigned successfully' };
    },
  }),
];
