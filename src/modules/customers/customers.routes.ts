import { z } from 'zod';
import { defineEndpoint } from '../../http/endpoint.js';
import {
  CUSTOMER_NOT_FOUND,
  PHONE_REQUIRED,
  assignAgentInput,
  assignTeamInput,
  conversationStatusInput,
  customerFieldsInput,
  customerRecord,
  messageReply,
  pageInput,
  phoneOnlyInput,
} from './customers.schema.js';
import * as customers from './customers.service.js';

const TAG = 'Customers';
const phoneRequired = { status: 400, message: PHONE_REQUIRED };
const customerNotFound = { status: 404, message: CUSTOMER_NOT_FOUND };

export const customerEndpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/add-new-customer',
    tag: TAG,
    summary: 'Create a new customer',
    description:
      'Creates a customer with optional marketing attribution fields. Any other key is a custom field (at most 15 names per account); ' +
      'custom fields that do not fit are skipped and listed in `custom_fields_skipped`, the customer is always created.',
    input: customerFieldsInput,
    invalidInput: 'Failed to add customer due to invalid input',
    output: messageReply.extend({ custom_fields_skipped: z.array(z.string()).optional() }),
    example: {
      request: { customer_phone: '972501234567', name: 'John Doe', email: 'john@example.com', source: 'web', bot_token: 'AI', utm_source: 'google', utm_campaign: 'summer_sale' },
      response: { success: true, message: 'added successfully' },
    },
    errors: [
      phoneRequired,
      { status: 400, message: 'Failed to add customer due to invalid input' },
      { status: 404, message: 'Bot not found.' },
      { status: 409, message: 'Customer already exists' },
    ],
    handler: async (input, { deps, account }) => {
      const { skipped } = await customers.addCustomer(deps, account.id, input);
      return { message: 'added successfully', ...(skipped.length > 0 && { custom_fields_skipped: skipped }) };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/edit-customer',
    tag: TAG,
    summary: 'Update an existing customer',
    description: 'Fields not sent are unchanged. Any key that is not a standard or attribution field is a custom field; null removes it.',
    input: customerFieldsInput,
    invalidInput: 'Failed to update customer due to invalid input',
    output: messageReply.extend({ custom_fields_processed: z.array(z.string()) }),
    example: {
      request: { customer_phone: '972501234567', name: 'Jane Doe', email: 'jane@example.com', company_size: '50-100', lead_score: '85' },
      response: { success: true, message: 'Customer updated successfully', custom_fields_processed: ['company_size', 'lead_score'] },
    },
    errors: [
      phoneRequired,
      { status: 400, message: 'Failed to update customer due to invalid input' },
      { status: 400, message: 'Cannot add more than 15 custom fields per account' },
      customerNotFound,
      { status: 404, message: 'Bot not found.' },
    ],
    handler: async (input, { deps, account }) => {
      const { processed } = await customers.editCustomer(deps, account.id, input);
      return { message: 'Customer updated successfully', custom_fields_processed: processed };
    },
  }),
  defineEndpoint({
    method: 'DELETE',
    path: '/mumbleapi/delete-customer',
    tag: TAG,
    summary: 'Permanently delete a customer',
    input: phoneOnlyInput,
    invalidInput: PHONE_REQUIRED,
    output: messageReply,
    example: { request: { customer_phone: '972501234567' }, response: { success: true, message: 'Customer deleted successfully' } },
    errors: [phoneRequired, customerNotFound],
    handler: async (input, { deps, account }) => {
      await customers.deleteCustomer(deps, account.id, input.customer_phone);
      return { message: 'Customer deleted successfully' };
    },
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-customer',
    tag: TAG,
    summary: 'Get a single customer record including custom fields',
    input: phoneOnlyInput,
    invalidInput: PHONE_REQUIRED,
    output: z.object({ success: z.literal(true), customer: customerRecord }),
    example: { request: { customer_phone: '972501234567' } },
    errors: [phoneRequired, customerNotFound],
    handler: async (input, { deps, account }) => ({ customer: await customers.getCustomer(deps, account.id, input.customer_phone) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-all-customers',
    tag: TAG,
    summary: 'Paginated list of all customers (250 per page)',
    description: 'Oldest first (ties by id). A page past the end returns an empty `customers` array.',
    input: pageInput,
    invalidInput: 'Invalid page',
    output: z.object({
      success: z.literal(true),
      customers: z.array(customerRecord),
      total: z.number().int(),
      pages: z.number().int(),
      current_page: z.number().int(),
      per_page: z.literal(250),
      total_pages: z.number().int(),
    }),
    example: { request: { page: 1 }, response: { success: true, customers: [], total: 250, pages: 1, current_page: 1, per_page: 250, total_pages: 1 } },
    errors: [{ status: 400, message: 'Invalid page' }],
    handler: async (input, { deps, account }) => customers.listCustomers(deps, account.id, input.page),
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/edit-customer-conv-status',
    tag: TAG,
    summary: "Update a customer's conversation status",
    input: conversationStatusInput,
    invalidInput: 'Invalid conversation status.',
    output: messageReply,
    example: {
      request: { customer_phone: '972501234567', status: 'in_progress' },
      response: { success: true, message: 'Customer conversation status updated successfully' },
    },
    errors: [phoneRequired, { status: 400, message: 'Invalid conversation status.' }, customerNotFound],
    handler: async (input, { deps, account }) => {
      await customers.setConversationStatus(deps, account.id, input.customer_phone, input.status);
      return { message: 'Customer conversation status updated successfully' };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/assign-customer-to-agent',
    tag: TAG,
    summary: "Route a customer's conversations to a specific agent",
    input: assignAgentInput,
    invalidInput: 'Agent ID is required.',
    output: messageReply,
    example: {
      request: { customer_phone: '972501234567', agent_id: 'agent-uuid' },
      response: { success: true, message: 'Customer assigned to agent successfully' },
    },
    errors: [phoneRequired, { status: 400, message: 'Agent ID is required.' }, customerNotFound, { status: 404, message: 'Agent not found' }],
    handler: async (input, { deps, account }) => {
      await customers.assignAgent(deps, account.id, input.customer_phone, input.agent_id);
      return { message: 'Customer assigned to agent successfully' };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/assign-customer-to-team',
    tag: TAG,
    summary: "Route a customer's conversations to a team",
    input: assignTeamInput,
    invalidInput: 'Team ID is required.',
    output: messageReply,
    example: {
      request: { customer_phone: '972501234567', team_id: 'team-uuid' },
      response: { success: true, message: 'Customer assigned to team successfully' },
    },
    errors: [phoneRequired, { status: 400, message: 'Team ID is required.' }, customerNotFound, { status: 404, message: 'Team not found' }],
    handler: async (input, { deps, account }) => {
      await customers.assignTeam(deps, account.id, input.customer_phone, input.team_id);
      return { message: 'Customer assigned to team successfully' };
    },
  }),
];
