import { z } from 'zod';
import { defineEndpoint } from '../../http/endpoint.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import { LABEL_NOT_FOUND } from '../labels/labels.service.js';
import { TEMPLATE_ID_REQUIRED } from '../messages/messages.schema.js';
import { TEMPLATE_NOT_APPROVED, TEMPLATE_NOT_FOUND, VARIABLES_MISMATCH } from '../templates/templates.schema.js';
import {
  AUDIENCE_REQUIRED,
  CAMPAIGN_FINISHED,
  CAMPAIGN_ID_REQUIRED,
  CAMPAIGN_NOT_FOUND,
  CAMPAIGN_NOT_PAUSED,
  CAMPAIGN_NOT_RUNNING,
  NAME_REQUIRED,
  NO_RECIPIENTS,
  SCHEDULE_INVALID,
  campaignIdInput,
  campaignRecord,
  createCampaignInput,
  recipientRecord,
  recipientsInput,
} from './campaigns.schema.js';
import * as campaigns from './campaigns.service.js';

const TAG = 'Campaigns';
const campaignReply = z.object({ success: z.literal(true), campaign: campaignRecord });
const notFound = { status: 404, message: CAMPAIGN_NOT_FOUND };
const idRequired = { status: 400, message: CAMPAIGN_ID_REQUIRED };
const example = { request: { campaign_id: 'campaign-uuid' } };

/** A state change of a campaign: pause, resume, cancel. */
function campaignAction(path: string, summary: string, refusal: string, act: typeof campaigns.pauseCampaign) {
  return defineEndpoint({
    method: 'POST',
    path: `/mumbleapi/${path}`,
    tag: TAG,
    summary,
    input: campaignIdInput,
    invalidInput: CAMPAIGN_ID_REQUIRED,
    output: campaignReply,
    example,
    errors: [idRequired, { status: 400, message: refusal }, notFound],
    handler: async (input, { deps, account }) => ({ campaign: await act(deps, account.id, input.campaign_id) }),
  });
}

/** Campaigns (docs/campaigns.md): not in the vendor's reference; Mumble-style like the rest. */
export const campaignEndpoints = [
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/create-campaign',
    tag: TAG,
    summary: 'Broadcast an approved template to a segment',
    description:
      'The audience selects customers by labels (`labels_any`, `labels_all`, `exclude_labels`), `phones` and `custom_field {name, equals}` (at least one selector). ' +
      'Each variable is a literal or a reference filled per recipient (`{{customer.name|there}}`, `{{fields.city}}`); the audience and each recipient\'s values are frozen when the campaign starts ' +
      '(now, or at `scheduled_at`). Customers labelled `opted_out` are skipped. Sent at `rate_per_second` (default 20, up to 1,000), each recipient at most once.',
    input: createCampaignInput,
    invalidInput: NAME_REQUIRED,
    output: campaignReply,
    example: {
      request: { name: 'December sale', template_id: 'template-uuid', audience: { labels_any: ['VIP customers'] }, variables: ['{{customer.name|there}}'] },
      response: { success: true, campaign: { id: 'uuid', name: 'December sale', status: 'scheduled', template_id: 'template-uuid', recipients: 120, rate_per_second: 20, scheduled_at: null, started_at: null, completed_at: null, created_at: '2026-12-05 10:00:00' } },
    },
    errors: [
      { status: 400, message: NAME_REQUIRED },
      { status: 400, message: TEMPLATE_ID_REQUIRED },
      { status: 400, message: AUDIENCE_REQUIRED },
      { status: 400, message: TEMPLATE_NOT_APPROVED },
      { status: 400, message: VARIABLES_MISMATCH },
      { status: 400, message: MEDIA_LINK_INVALID },
      { status: 400, message: SCHEDULE_INVALID },
      { status: 400, message: NO_RECIPIENTS },
      { status: 404, message: TEMPLATE_NOT_FOUND },
      { status: 404, message: LABEL_NOT_FOUND },
    ],
    handler: async (input, { deps, account }) => ({ campaign: await campaigns.createCampaign(deps, account, input) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-campaigns',
    tag: TAG,
    summary: "List the account's campaigns, newest first",
    input: z.object({}),
    invalidInput: 'Invalid input',
    output: z.object({ success: z.literal(true), campaigns: z.array(campaignRecord) }),
    example: {},
    errors: [],
    handler: async (_input, { deps, account }) => ({ campaigns: await campaigns.listCampaigns(deps, account.id) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-campaign',
    tag: TAG,
    summary: 'A campaign with its counts',
    description: '`counts`: queued, sending (handed to WhatsApp, no status yet), sent, delivered, read, replied (wrote back within 72 hours), failed, skipped.',
    input: campaignIdInput,
    invalidInput: CAMPAIGN_ID_REQUIRED,
    output: campaignReply,
    example,
    errors: [idRequired, notFound],
    handler: async (input, { deps, account }) => ({ campaign: await campaigns.getCampaign(deps, account.id, input.campaign_id) }),
  }),
  defineEndpoint({
    method: 'GET',
    path: '/mumbleapi/get-campaign-recipients',
    tag: TAG,
    summary: "A page of a campaign's recipients (250 per page)",
    description: 'Each with its phone, status, message_wa_id, and the error code and title when failed, or the reason when skipped (opted_out, variable_without_value, cancelled).',
    input: recipientsInput,
    invalidInput: CAMPAIGN_ID_REQUIRED,
    output: z.object({ success: z.literal(true), recipients: z.array(recipientRecord), total: z.int(), pages: z.int(), current_page: z.int() }),
    example,
    errors: [idRequired, notFound],
    handler: async (input, { deps, account }) => campaigns.getRecipients(deps, account.id, input.campaign_id, input.page, input.status),
  }),
  campaignAction('pause-campaign', 'Pause a running or scheduled campaign', CAMPAIGN_NOT_RUNNING, campaigns.pauseCampaign),
  campaignAction('resume-campaign', 'Resume a paused campaign', CAMPAIGN_NOT_PAUSED, campaigns.resumeCampaign),
  campaignAction('cancel-campaign', 'Cancel a campaign: recipients not sent yet are skipped', CAMPAIGN_FINISHED, campaigns.cancelCampaign),
  defineEndpoint({
    method: 'POST',
    path: '/mumbleapi/retry-failed-campaign',
    tag: TAG,
    summary: 'Send again to the recipients whose message failed for a reason a retry can cure',
    description: 'Retryable: 130429 (throughput), 131056 (pair rate), 131000, 131016, 1, 2. Not: 131049, 131026, invalid numbers, opted-out customers.',
    input: campaignIdInput,
    invalidInput: CAMPAIGN_ID_REQUIRED,
    output: z.object({ success: z.literal(true), campaign: campaignRecord, requeued: z.int() }),
    example,
    errors: [idRequired, { status: 400, message: CAMPAIGN_FINISHED }, notFound],
    handler: async (input, { deps, account }) => {
      const { requeued, ...campaign } = await campaigns.retryFailed(deps, account.id, input.campaign_id);
      return { campaign, requeued };
    },
  }),
];
