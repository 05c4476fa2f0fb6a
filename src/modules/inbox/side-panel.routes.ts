import { z } from 'zod';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { MAX_CUSTOM_FIELD_NAMES } from '../customers/customers.schema.js';
import { LABEL_EXISTS, createLabel, listLabels } from '../labels/labels.service.js';
import { editCustomerAsPerson, INVALID_CUSTOMER_INPUT } from './customer-edit.service.js';
import { CONVERSATION_NOT_FOUND, WRITE_ERRORS, conversationDetail, conversationParams, customerEditInput, labelInput } from './inbox.schema.js';

/** The side panel's edits: the customer's fields and custom fields, and a new label. */
export const sidePanelAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/conversations/:customerId/customer',
    access: 'person',
    summary: "Edit the customer's name, email and custom fields",
    description:
      "The Mumble API's edit-customer, for a conversation the person may see (else 404 `Conversation not found`): custom fields are applied " +
      `whole or not at all, a null removes one, and the account has at most ${MAX_CUSTOM_FIELD_NAMES} custom field names. ` +
      'A custom field cannot take the name of a standard or attribution field. Answers with the conversation as changed.',
    params: conversationParams,
    body: customerEditInput,
    output: z.object({ conversation: conversationDetail }),
    errors: [
      { status: 400, message: `Cannot add more than ${MAX_CUSTOM_FIELD_NAMES} custom fields per account` },
      { status: 400, message: INVALID_CUSTOMER_INPUT },
      { status: 400, message: 'email: Invalid email address' },
      { status: 400, message: 'Nothing to change: send name, email or custom_fields' },
      { status: 404, message: CONVERSATION_NOT_FOUND },
      ...WRITE_ERRORS,
    ],
    handler: async ({ params, body }, { deps, viewer }) => ({ conversation: await editCustomerAsPerson(deps, viewer, params.customerId, body) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/labels',
    access: 'person',
    summary: 'Create a label',
    description: "As the Mumble API's add-new-label: names are unique in the account. Answers with the account's labels.",
    body: labelInput,
    output: z.object({ labels: z.array(z.object({ id: z.string(), name: z.string() })) }),
    status: 201,
    errors: [{ status: 400, message: 'label: label is required' }, { status: 409, message: LABEL_EXISTS }, ...WRITE_ERRORS],
    handler: async ({ body }, { deps, viewer }) => {
      await createLabel(deps, viewer.accountId, body.label.trim());
      return { labels: (await listLabels(deps, viewer.accountId)).map(({ id, name }) => ({ id, name })) };
    },
  }),
];
