import { z } from 'zod';
import type { CustomerRow } from '../../db/tables.js';
import { badRequest } from '../../errors.js';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import * as accounts from '../accounts/accounts.service.js';
import { ADMINS_ONLY } from '../auth/app-api.js';
import { renderCustomerText } from '../customers/customer-text.js';
import { CUSTOMER_NOT_FOUND } from '../customers/customers.schema.js';
import { requireCustomer } from '../customers/customers.service.js';
import { READ_ERRORS, WRITE_ERRORS } from '../inbox/inbox.schema.js';
import { LABEL_NOT_FOUND } from '../labels/labels.service.js';
import { idParams } from '../people/people.schema.js';
import { countVariables, renderTemplate } from '../templates/template-text.js';
import { TEMPLATE_NOT_APPROVED, TEMPLATE_NOT_FOUND, VARIABLES_MISMATCH } from '../templates/templates.schema.js';
import { requireTemplate } from '../templates/templates.service.js';
import {
  AUDIENCE_REQUIRED,
  CAMPAIGN_FINISHED,
  CAMPAIGN_NOT_FOUND,
  CAMPAIGN_NOT_PAUSED,
  CAMPAIGN_NOT_RUNNING,
  NAME_REQUIRED,
  NO_RECIPIENTS,
  SCHEDULE_INVALID,
  audienceInput,
  campaignRecord,
  createCampaignInput,
  recipientRecord,
  recipientsInput,
  type Audience,
} from './campaigns.schema.js';
import * as campaigns from './campaigns.service.js';

const adminsOnly = { status: 403, message: ADMINS_ONLY };
const readErrors = [...READ_ERRORS, adminsOnly];
const writeErrors = [...WRITE_ERRORS, adminsOnly];
const campaignNotFound = { status: 404, message: CAMPAIGN_NOT_FOUND };
const templateNotFound = { status: 404, message: TEMPLATE_NOT_FOUND };
const templateNotApproved = { status: 400, message: TEMPLATE_NOT_APPROVED };
const labelNotFound = { status: 404, message: LABEL_NOT_FOUND };
const campaignReply = z.object({ campaign: campaignRecord });

const previewInput = z.strictObject({
  template_id: createCampaignInput.shape.template_id,
  variables: createCampaignInput.shape.variables,
  button_variables: createCampaignInput.shape.button_variables,
  customer_phone: z.string().max(32).optional().describe('The sample recipient; without it, the first customer the audience selects.'),
  audience: audienceInput.optional(),
});

const previewReply = z.object({
  text: z.string().describe("The template's body with each `{{n}}` replaced by the sample recipient's value; a variable not given stays `{{n}}`."),
  variables: z.array(z.string()).describe("The sample recipient's values, in order."),
  button_variables: z.array(z.string()),
  expected_variables: z.int().describe('How many `{{n}}` the template has.'),
  empty: z.array(z.int()).describe('The (1-based) variables whose value comes out empty: a recipient like this one would be skipped (`variable_without_value`).'),
  customer: z.object({ phone: z.string(), name: z.string().nullable() }).nullable().describe('The sample recipient; null when the audience selects nobody (then every reference renders its fallback).'),
});

/** No customer: every reference renders its fallback. */
const NOBODY: Pick<CustomerRow, 'name' | 'phone' | 'email' | 'custom_fields'> = { name: null, phone: '', email: null, custom_fields: '{}' };

/** A state change of a campaign (the same service functions as pause-, resume-, cancel-campaign). */
function campaignAction(action: string, summary: string, refusal: string, act: typeof campaigns.pauseCampaign) {
  return defineAppRoute({
    method: 'POST',
    path: `/app/api/admin/campaigns/:id/${action}`,
    access: 'admin',
    summary,
    params: idParams,
    output: campaignReply,
    errors: [{ status: 400, message: refusal }, campaignNotFound, ...writeErrors],
    handler: async ({ params }, { deps, viewer }) => ({ campaign: await act(deps, viewer.accountId, params.id) }),
  });
}

/**
 * The inbox's Campaigns screen (admins, their own account, docs/campaigns.md): the same service as
 * the Mumble API's campaign endpoints, plus a preview of the template for a sample recipient.
 */
export const campaignAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/campaigns',
    access: 'admin',
    summary: "The account's campaigns, newest first",
    output: z.object({ campaigns: z.array(campaignRecord) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ campaigns: await campaigns.listCampaigns(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/campaigns',
    access: 'admin',
    summary: 'Broadcast an approved template to a segment',
    description: 'As create-campaign: the audience and each recipient\'s values are frozen when the campaign starts (now, or at `scheduled_at`).',
    body: createCampaignInput,
    output: campaignReply,
    status: 201,
    errors: [
      { status: 400, message: `name: ${NAME_REQUIRED}` },
      { status: 400, message: `audience: ${AUDIENCE_REQUIRED}` },
      templateNotApproved,
      { status: 400, message: VARIABLES_MISMATCH },
      { status: 400, message: MEDIA_LINK_INVALID },
      { status: 400, message: SCHEDULE_INVALID },
      { status: 400, message: NO_RECIPIENTS },
      templateNotFound,
      labelNotFound,
      ...writeErrors,
    ],
    handler: async ({ body }, { deps, viewer }) => ({ campaign: await campaigns.createCampaign(deps, await accounts.requireAccount(deps, viewer.accountId), body) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/campaigns/preview',
    access: 'admin',
    summary: 'The template as a sample recipient would get it',
    description:
      'Renders each variable (`{{customer.name|there}}`, `{{fields.city}}`) for the customer `customer_phone`, or else the first customer the `audience` selects, and the template body with those values. ' +
      'Lenient while the form is being filled: a variable not given yet stays `{{n}}`.',
    body: previewInput,
    output: previewReply,
    errors: [templateNotApproved, templateNotFound, { status: 404, message: CUSTOMER_NOT_FOUND }, labelNotFound, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => {
      const template = await requireTemplate(deps, viewer.accountId, body.template_id);
      if (template.status !== 'APPROVED') throw badRequest(TEMPLATE_NOT_APPROVED);
      const customer = body.customer_phone
        ? await requireCustomer(deps.database.db, viewer.accountId, body.customer_phone)
        : body.audience && (await campaigns.firstOfAudience(deps, viewer.accountId, body.audience));
      const rendered = (list: string[]) => list.map((value) => renderCustomerText(value, customer ?? NOBODY).text.trim());
      const variables = rendered(body.variables);
      return {
        text: renderTemplate(template.body, variables),
        variables,
        button_variables: rendered(body.button_variables),
        expected_variables: countVariables(template.body) ?? 0,
        empty: variables.flatMap((value, index) => (value === '' ? [index + 1] : [])),
        customer: customer ? { phone: customer.phone, name: customer.name } : null,
      };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/campaigns/:id',
    access: 'admin',
    summary: 'A campaign with its counts',
    description: '`counts`: queued, sending (handed to WhatsApp, no status yet), sent, delivered, read, replied (wrote back within 72 hours), failed, skipped.',
    params: idParams,
    output: campaignReply,
    errors: [campaignNotFound, ...readErrors],
    handler: async ({ params }, { deps, viewer }) => ({ campaign: await campaigns.getCampaign(deps, viewer.accountId, params.id) }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/campaigns/:id/recipients',
    access: 'admin',
    summary: "A page of a campaign's recipients (250 per page)",
    description: 'Optionally of one `status`. Each with its phone, status, message_wa_id, and the error code and title when failed, or the reason when skipped.',
    params: idParams,
    query: recipientsInput.omit({ campaign_id: true }),
    output: z.object({ recipients: z.array(recipientRecord), total: z.int(), pages: z.int(), current_page: z.int() }),
    errors: [{ status: 400, message: 'query status: Invalid status' }, campaignNotFound, ...readErrors],
    handler: async ({ params, query }, { deps, viewer }) => campaigns.getRecipients(deps, viewer.accountId, params.id, query.page, query.status),
  }),
  campaignAction('pause', 'Pause a running or scheduled campaign', CAMPAIGN_NOT_RUNNING, campaigns.pauseCampaign),
  campaignAction('resume', 'Resume a paused campaign', CAMPAIGN_NOT_PAUSED, campaigns.resumeCampaign),
  campaignAction('cancel', 'Cancel a campaign: recipients not sent yet are skipped', CAMPAIGN_FINISHED, campaigns.cancelCampaign),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/campaigns/:id/retry-failed',
    access: 'admin',
    summary: 'Send again to the recipients whose message failed for a reason a retry can cure',
    params: idParams,
    output: z.object({ campaign: campaignRecord, requeued: z.int() }),
    errors: [{ status: 400, message: CAMPAIGN_FINISHED }, campaignNotFound, ...writeErrors],
    handler: async ({ params }, { deps, viewer }) => {
      const { requeued, ...campaign } = await campaigns.retryFailed(deps, viewer.accountId, params.id);
      return { campaign, requeued };
    },
  }),
];
