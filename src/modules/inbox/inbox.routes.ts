import { z } from 'zod';
import { INVALID_CURSOR } from '../../http/cursor.js';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { AI_BOT, listEntries } from '../directory/directory.service.js';
import { LABEL_NOT_FOUND, listLabels } from '../labels/labels.service.js';
import { mediaSendErrors, mediaUploads, templateSendErrors } from '../messages/messages.routes.js';
import { CONVERSATION_CLOSED, MESSAGING_DISABLED, SEND_TEXT_FAILED } from '../messages/messages.schema.js';
import { templateRecord } from '../templates/templates.schema.js';
import { listTemplates } from '../templates/templates.service.js';
import { cannedResponseRoutes } from './canned-responses.routes.js';
import * as actions from './conversation-actions.service.js';
import * as conversations from './conversations.service.js';
import {
  CONVERSATION_NOT_FOUND,
  MEDIA_NOT_FOUND,
  READ_ERRORS,
  WRITE_ERRORS,
  conversationDetail,
  conversationFiltersQuery,
  conversationLabelParams,
  conversationListQuery,
  conversationParams,
  conversationPatchInput,
  conversationSummary,
  inboxMessageRecord,
  inboxNoteRecord,
  labelInput,
  mediaParams,
  mediaReplyInput,
  noteInput,
  tabCounts,
  templateReplyInput,
  textReplyInput,
  timelineQuery,
} from './inbox.schema.js';

const conversationNotFound = { status: 404, message: CONVERSATION_NOT_FOUND };
const invalidCursor = { status: 400, message: `query cursor: ${INVALID_CURSOR}` };

const VISIBILITY =
  'Only conversations the signed-in person may see (admins and supervisors: all of the account; agents: their own, their ' +
  "teams' and unassigned ones unless the account hides those); any other answers 404 `Conversation not found`.";

/** Errors of every reply: the Mumble API's sends answer the same way (a 401 of theirs is a 403 here: 401 means "sign in"). */
const replyErrors = [{ status: 403, message: MESSAGING_DISABLED }, conversationNotFound, ...WRITE_ERRORS];
const REPLY_NOTE =
  "Sent as the signed-in person (`sender: {type: 'agent'}`) through the Mumble API's send, with its rules and errors. " +
  "A reply that is sent (or queued behind a WhatsApp rate limit) pauses the conversation's running bot (`conversation.bot`).";

const message = z.object({ message: inboxMessageRecord });
const conversation = z.object({ conversation: conversationDetail });
const labels = z.object({ labels: z.array(z.string()) });

/** Types a browser shows in place; any other file downloads (so no uploaded page ever runs as ours). */
const SHOWN_INLINE = /^(image|audio|video)\/|^application\/pdf$/;

function contentDisposition(mimeType: string | null, filename: string | null): string {
  const disposition = mimeType && SHOWN_INLINE.test(mimeType) ? 'inline' : 'attachment';
  if (!filename) return disposition;
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** The inbox API: conversations, their timeline, replies, notes and actions, media, canned responses (docs/inbox.md). */
export const inboxAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/conversations',
    access: 'person',
    summary: 'The conversation list',
    description:
      `One row per customer with messages, newest activity first. \`tab\`: \`mine\` (assigned to me), \`unassigned\` (no agent), \`all\`. ${VISIBILITY} ` +
      'Filters combine (and). `q` searches names, phones and emails (any 3 or more characters on SQLite; words by prefix, and a phone by its ' +
      'start or end, on PostgreSQL) and message text (words by prefix). Pages follow `next_cursor` (null on the last page).',
    query: conversationListQuery,
    output: z.object({ conversations: z.array(conversationSummary), next_cursor: z.string().nullable() }),
    errors: [{ status: 400, message: 'query tab: tab must be one of mine, unassigned, all' }, invalidCursor, ...READ_ERRORS],
    handler: async ({ query }, { deps, viewer }) =>
      conversations.listConversations(deps, viewer, { tab: query.tab, filters: conversations.toConversationFilters(query), cursor: query.cursor, limit: query.limit }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/conversations/counts',
    access: 'person',
    summary: 'How many conversations each tab holds',
    description: 'With the same filters as the list (and the same visibility), for the tabs `mine`, `unassigned` and `all`.',
    query: conversationFiltersQuery,
    output: z.object({ counts: tabCounts }),
    errors: [{ status: 400, message: 'query status: status must be one of new, open, …' }, ...READ_ERRORS],
    handler: async ({ query }, { deps, viewer }) => ({ counts: await conversations.countConversations(deps, viewer, conversations.toConversationFilters(query)) }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/conversations/:customerId',
    access: 'person',
    summary: 'A conversation: the customer, assignment, labels, bot and 24-hour window',
    description: `${VISIBILITY} Its messages and notes are at \`/timeline\`.`,
    params: conversationParams,
    output: conversation,
    errors: [conversationNotFound, ...READ_ERRORS],
    handler: async ({ params }, { deps, viewer }) => ({ conversation: await conversations.getConversation(deps, viewer, params.customerId) }),
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/conversations/:customerId',
    access: 'person',
    summary: 'Change the status, or assign an agent or a team',
    description:
      `${VISIBILITY} Anyone who may see a conversation may change its status and assign it to any agent or team of the account, ` +
      "or unassign it (`null`); the reply shows it as changed, even when that hides it from the person. Assigning an agent pauses a running bot.",
    params: conversationParams,
    body: conversationPatchInput,
    output: conversation,
    errors: [
      { status: 400, message: 'Nothing to change: send status, agent_id or team_id' },
      { status: 404, message: 'Agent not found' },
      { status: 404, message: 'Team not found' },
      conversationNotFound,
      ...WRITE_ERRORS,
    ],
    handler: async ({ params, body }, { deps, viewer }) => ({ conversation: await actions.changeConversationAsPerson(deps, viewer, params.customerId, body) }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/conversations/:customerId/timeline',
    access: 'person',
    summary: "A conversation's messages and private notes, newest first",
    description:
      'Messages (with delivery status, error, sender and media) and notes, interleaved by time; pages go back in time by `next_cursor` ' +
      '(null at the beginning). A stored file\'s `media.url` is `/app/api/media/:id`.',
    params: conversationParams,
    query: timelineQuery,
    output: z.object({ items: z.array(z.discriminatedUnion('kind', [inboxMessageRecord, inboxNoteRecord])), next_cursor: z.string().nullable() }),
    errors: [invalidCursor, conversationNotFound, ...READ_ERRORS],
    handler: async ({ params, query }, { deps, viewer }) => conversations.getTimeline(deps, viewer, params.customerId, query.cursor, query.limit),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/replies/text',
    access: 'person',
    summary: 'Reply with text',
    description: `${REPLY_NOTE} Needs an open 24-hour window.`,
    params: conversationParams,
    body: textReplyInput,
    output: message,
    status: 201,
    errors: [{ status: 400, message: CONVERSATION_CLOSED }, { status: 400, message: 'text: text is required' }, { status: 500, message: SEND_TEXT_FAILED }, ...replyErrors],
    handler: async ({ params, body }, { deps, viewer }) => ({ message: await actions.replyWithText(deps, viewer, params.customerId, body.text) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/replies/media',
    access: 'person',
    summary: 'Reply with a file (image, video, audio, document)',
    description:
      `${REPLY_NOTE} Needs an open 24-hour window. Upload \`file\` as multipart/form-data (with \`caption\`), or give \`media_url\` in JSON. ` +
      'Files are checked as send-media-message checks them (extension, first bytes, size).',
    params: conversationParams,
    body: mediaReplyInput,
    uploads: mediaUploads,
    output: message,
    status: 201,
    errors: [...mediaSendErrors, ...replyErrors],
    handler: async ({ params, body }, { deps, viewer }) => ({ message: await actions.replyWithMedia(deps, viewer, params.customerId, body) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/replies/template',
    access: 'person',
    summary: 'Reply with an approved template',
    description: `${REPLY_NOTE} Needs no open window: this is how a closed conversation starts again. Approved templates: \`GET /app/api/templates\`.`,
    params: conversationParams,
    body: templateReplyInput,
    output: message,
    status: 201,
    errors: [...templateSendErrors, ...replyErrors],
    handler: async ({ params, body }, { deps, viewer }) => ({ message: await actions.replyWithTemplate(deps, viewer, params.customerId, body) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/notes',
    access: 'person',
    summary: 'Add a private note',
    description: 'Kept beside the messages in the timeline; never sent to WhatsApp and never returned by the Mumble API.',
    params: conversationParams,
    body: noteInput,
    output: z.object({ note: inboxNoteRecord }),
    status: 201,
    errors: [{ status: 400, message: 'text: text is required' }, conversationNotFound, ...WRITE_ERRORS],
    handler: async ({ params, body }, { deps, viewer }) => ({ note: await actions.addNote(deps, viewer, params.customerId, body.text) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/labels',
    access: 'person',
    summary: 'Add a label',
    description: "One of the account's labels, by name; adding it twice changes nothing. Answers with the conversation's labels.",
    params: conversationParams,
    body: labelInput,
    output: labels,
    errors: [{ status: 404, message: LABEL_NOT_FOUND }, conversationNotFound, ...WRITE_ERRORS],
    handler: async ({ params, body }, { deps, viewer }) => ({ labels: await actions.addLabel(deps, viewer, params.customerId, body.label) }),
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/conversations/:customerId/labels/:label',
    access: 'person',
    summary: 'Remove a label',
    description: "`:label` is the label's name, URL-encoded. Answers with the conversation's labels.",
    params: conversationLabelParams,
    output: labels,
    errors: [{ status: 400, message: 'Customer is not in the label' }, { status: 404, message: LABEL_NOT_FOUND }, conversationNotFound, ...WRITE_ERRORS],
    handler: async ({ params }, { deps, viewer }) => ({ labels: await actions.removeLabel(deps, viewer, params.customerId, params.label) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/read',
    access: 'person',
    summary: 'Mark the conversation read',
    description: "Moves the signed-in person's read mark to the latest message (never back); their sessions hear `conversation.read`.",
    params: conversationParams,
    output: z.object({ last_read_message_id: z.number().int().nullable(), unread: z.number().int() }),
    errors: [conversationNotFound, ...WRITE_ERRORS],
    handler: async ({ params }, { deps, viewer }) => actions.markRead(deps, viewer, params.customerId),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/bot/take-over',
    access: 'person',
    summary: 'Take the conversation over from its bot',
    description: 'The bot stays assigned but does not answer until handed back (`bot.active` false, `paused_by` the person). Twice changes nothing.',
    params: conversationParams,
    output: conversation,
    errors: [{ status: 400, message: actions.NO_BOT }, conversationNotFound, ...WRITE_ERRORS],
    handler: async ({ params }, { deps, viewer }) => ({ conversation: await actions.takeOverFromBot(deps, viewer, params.customerId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/conversations/:customerId/bot/hand-back',
    access: 'person',
    summary: 'Hand the conversation back to its bot',
    params: conversationParams,
    output: conversation,
    errors: [{ status: 400, message: actions.NO_BOT }, conversationNotFound, ...WRITE_ERRORS],
    handler: async ({ params }, { deps, viewer }) => ({ conversation: await actions.handBackToBot(deps, viewer, params.customerId) }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/media/:messageId',
    access: 'person',
    summary: "A message's stored file",
    description:
      'The file of an inbound message (downloaded when it arrived) or of an uploaded reply, for a conversation the person may see. ' +
      'Images, audio, video and PDF show inline; anything else downloads. A message sent with a link has no stored file: its `media.url` is the link.',
    params: mediaParams,
    output: z.string().meta({ format: 'binary' }),
    produces: 'application/octet-stream',
    errors: [{ status: 404, message: MEDIA_NOT_FOUND }, ...READ_ERRORS],
    handler: async ({ params }, { deps, viewer, reply }) => {
      const file = await conversations.openMedia(deps, viewer, params.messageId);
      return reply
        .header('content-type', file.mimeType ?? 'application/octet-stream')
        .header('content-disposition', contentDisposition(file.mimeType, file.filename))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, max-age=3600')
        .send(file.content);
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/directory',
    access: 'person',
    summary: "The account's agents, teams and labels",
    description: 'What the inbox offers to assign, filter by and label with.',
    output: z.object({
      agents: z.array(z.object({ id: z.string(), name: z.string() })),
      teams: z.array(z.object({ id: z.string(), name: z.string() })),
      labels: z.array(z.object({ id: z.string(), name: z.string() })),
      bots: z.array(z.object({ id: z.string(), name: z.string() })).describe('The flow bots, then the built-in AI bot (id "AI"): names for a conversation\'s `bot`.'),
    }),
    errors: READ_ERRORS,
    handler: async (_input, { deps, viewer }) => {
      const named = ({ id, name }: { id: string; name: string }) => ({ id, name });
      const [agents, teams, accountLabels, bots] = await Promise.all([
        listEntries(deps, 'agents', viewer.accountId),
        listEntries(deps, 'teams', viewer.accountId),
        listLabels(deps, viewer.accountId),
        listEntries(deps, 'bots', viewer.accountId),
      ]);
      return { agents: agents.map(named), teams: teams.map(named), labels: accountLabels.map(named), bots: [...bots.map(named), named(AI_BOT)] };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/templates',
    access: 'person',
    summary: "The account's approved templates",
    description: 'What a person may send with `replies/template`.',
    output: z.object({ templates: z.array(templateRecord) }),
    errors: READ_ERRORS,
    handler: async (_input, { deps, viewer }) => ({ templates: (await listTemplates(deps, viewer.accountId)).filter((template) => template.status === 'APPROVED') }),
  }),
  ...cannedResponseRoutes,
];
