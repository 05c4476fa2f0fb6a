import { z } from 'zod';
import { defineEndpoint } from '../../http/endpoint.js';
import { phoneParam, requiredText } from '../../http/fields.js';
import { CUSTOMER_NOT_FOUND, PHONE_REQUIRED, messageReply } from '../customers/customers.schema.js';
import * as labels from './labels.service.js';

const TAG = 'Labels';
const LABEL_REQUIRED = 'Label name is required.';
const labelName = requiredText(LABEL_REQUIRED, 255);
const labelInput = z.object({ label_name: labelName });
const membershipInput = z.object({ customer_phone: phoneParam(PHONE_REQUIRED), label_name: labelName });
const membershipErrors = [
  { status: 400, message: PHONE_REQUIRED },
  { status: 400, message: LABEL_REQUIRED },
  { status: 404, message: CUSTOMER_NOT_FOUND },
  { status: 404, message: labels.LABEL_NOT_FOUND },
];
const membershipExample = { customer_phone: '972501234567', label_name: 'VIP customers' };

const labelList = defineEndpoint({
  method: 'GET',
  path: '/mumbleapi/get-labels',
  aliases: ['/mumbleapi/get-all-labels'],
  tag: TAG,
  summary: 'List all labels in your account',
  description: '`labels` holds the names, as existing clients read them; `label_details` adds ids and customer counts.',
  input: z.object({}),
  invalidInput: 'Invalid input',
  output: z.object({
    success: z.literal(true),
    labels: z.array(z.string()),
    label_details: z.array(z.object({ id: z.string(), name: z.string(), customers_count: z.number().int() })),
  }),
  example: { response: { success: true, labels: ['VIP customers'], label_details: [{ id: 'uuid', name: 'VIP customers', customers_count: 3 }] } },
  errors: [],
  handler: async (_input, { deps, account }) => {
    const details = await labels.listLabels(deps, account.id);
    return { labels: details.map((label) => label.name), label_details: details };
  },
});

export const labelEndpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/add-customer-to-label',
    tag: TAG,
    summary: 'Tag a customer with a label',
    description: 'Idempotent: tagging a customer who already carries the label succeeds and changes nothing.',
    input: membershipInput,
    invalidInput: LABEL_REQUIRED,
    output: messageReply,
    example: { request: membershipExample, response: { success: true, message: 'added successfully' } },
    errors: membershipErrors,
    handler: async (input, { deps, account }) => {
      await labels.addCustomerToLabel(deps, account.id, input.customer_phone, input.label_name);
      return { message: 'added successfully' };
    },
  }),
  defineEndpoint({
    method: 'DELETE',
    path: '/mumbleapi/remove-customer-from-label',
    tag: TAG,
    summary: 'Remove a label from a customer',
    input: membershipInput,
    invalidInput: LABEL_REQUIRED,
    output: messageReply,
    example: { request: membershipExample, response: { success: true, message: 'removed successfully' } },
    errors: [...membershipErrors, { status: 400, message: 'Customer is not in the label' }],
    handler: async (input, { deps, account }) => {
      await labels.removeCustomerFromLabel(deps, account.id, input.customer_phone, input.label_name);
      return { message: 'removed successfully' };
    },
  }),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/add-new-label',
    tag: TAG,
    summary: 'Create a new label (list) in your account',
    description: 'Names are trimmed; they are unique per account, case-sensitively.',
    input: labelInput,
    invalidInput: LABEL_REQUIRED,
    output: messageReply,
    example: { request: { label_name: 'VIP customers' }, response: { success: true, message: "Label 'VIP customers' created successfully" } },
    errors: [{ status: 400, message: LABEL_REQUIRED }, { status: 409, message: 'Label already exists' }],
    handler: async (input, { deps, account }) => {
      await labels.createLabel(deps, account.id, input.label_name);
      return { message: `Label '${input.label_name}' created successfully` };
    },
  }),
  defineEndpoint({
    method: 'DELETE',
    path: '/mumbleapi/delete-label',
    tag: TAG,
    summary: 'Delete a label',
    description: 'The label is removed from every customer that carried it.',
    input: labelInput,
    invalidInput: LABEL_REQUIRED,
    output: messageReply,
    example: { request: { label_name: 'VIP customers' }, response: { success: true, message: "Label 'VIP customers' deleted successfully" } },
    errors: [{ status: 400, message: LABEL_REQUIRED }, { status: 404, message: labels.LABEL_NOT_FOUND }],
    handler: async (input, { deps, account }) => {
      await labels.deleteLabel(deps, account.id, input.label_name);
      return { message: `Label '${input.label_name}' deleted successfully` };
    },
  }),
  labelList,
];
