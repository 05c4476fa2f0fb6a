import { z } from 'zod';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { ADMINS_ONLY } from '../auth/app-api.js';
import * as canned from './canned-responses.service.js';
import {
  CONVERSATION_NOT_FOUND,
  READ_ERRORS,
  WRITE_ERRORS,
  cannedResponseInput,
  cannedResponseParams,
  cannedResponsePatch,
  cannedResponseRecord,
  renderQuery,
} from './inbox.schema.js';

const adminErrors = [...WRITE_ERRORS, { status: 403, message: ADMINS_ONLY }];
const notFound = { status: 404, message: canned.CANNED_RESPONSE_NOT_FOUND };
const shortcutTaken = { status: 409, message: canned.SHORTCUT_TAKEN };
const invalidText = { status: 400, message: 'text: unknown variable {{customer.age}}: use customer.name, customer.phone, customer.email or fields.<custom field>' };
const one = z.object({ canned_response: cannedResponseRecord });

const VARIABLES =
  'Variables: `{{customer.name}}`, `{{customer.phone}}`, `{{customer.email}}`, `{{fields.<custom field>}}`. Shortcuts are unique per account and lower-cased.';

/** Canned responses: every person reads them and fills them for a customer; admins manage them. */
export const cannedResponseRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/canned-responses',
    access: 'person',
    summary: "The account's canned responses",
    description: `By shortcut. ${VARIABLES}`,
    output: z.object({ canned_responses: z.array(cannedResponseRecord) }),
    errors: READ_ERRORS,
    handler: async (_input, { deps, viewer }) => ({ canned_responses: await canned.listCannedResponses(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/canned-responses',
    access: 'admin',
    summary: 'Add a canned response',
    description: VARIABLES,
    body: cannedResponseInput,
    output: one,
    status: 201,
    errors: [invalidText, shortcutTaken, ...adminErrors],
    handler: async ({ body }, { deps, viewer }) => ({ canned_response: await canned.createCannedResponse(deps, viewer.accountId, body) }),
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/canned-responses/:id',
    access: 'admin',
    summary: 'Change a canned response',
    params: cannedResponseParams,
    body: cannedResponsePatch,
    output: one,
    errors: [invalidText, notFound, shortcutTaken, ...adminErrors],
    handler: async ({ params, body }, { deps, viewer }) => ({ canned_response: await canned.updateCannedResponse(deps, viewer.accountId, params.id, body) }),
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/canned-responses/:id',
    access: 'admin',
    summary: 'Remove a canned response',
    params: cannedResponseParams,
    output: z.object({ deleted: z.literal(true) }),
    errors: [notFound, ...adminErrors],
    handler: async ({ params }, { deps, viewer }) => {
      await canned.deleteCannedResponse(deps, viewer.accountId, params.id);
      return { deleted: true };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/canned-responses/:id/render',
    access: 'person',
    summary: 'A canned response filled from a customer',
    description:
      'Each variable becomes the customer\'s value; one without a value becomes empty and is named in `missing`. A client may apply the same rule ' +
      'itself (docs/inbox.md). The customer must be one the person may see.',
    params: cannedResponseParams,
    query: renderQuery,
    output: z.object({ text: z.string(), missing: z.array(z.string()) }),
    errors: [notFound, { status: 404, message: CONVERSATION_NOT_FOUND }, ...READ_ERRORS],
    handler: async ({ params, query }, { deps, viewer }) => canned.renderCannedResponse(deps, viewer, params.id, query.customer_id),
  }),
];
