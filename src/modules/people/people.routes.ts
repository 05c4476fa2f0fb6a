import { z } from 'zod';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { ADMINS_ONLY, CROSS_SITE_REFUSED } from '../auth/app-api.js';
import { NOT_SIGNED_IN } from '../auth/sessions.service.js';
import { invitationUrl } from './invitations.js';
import { addEntry } from '../directory/directory.service.js';
import { accountSettingsInput, idParams, nameInput, newPersonInput, personPatchInput, ROLES, teamMemberInput, teamMemberParams } from './people.schema.js';
import * as people from './people.service.js';

const person = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  has_password: z.boolean().describe('False until the person sets a password through an invitation, or an admin sets one.'),
  created_at: z.string(),
});
const settings = z.object({
  id: z.string(),
  name: z.string(),
  hide_unassigned: z.boolean().describe('Agents do not see unassigned conversations.'),
  messaging_enabled: z.boolean().describe('Off: every send of the account is refused.'),
  default_bot_id: z.string().nullable().describe("The flow bot that answers a new customer's first message when no other bot does (docs/bots.md)."),
  campaign_daily_limit: z.int().nullable().describe("Unique campaign recipients per 24 hours: the number's messaging-limit tier (250, 2000, 10000, 100000); null: unlimited."),
  stop_words: z.array(z.string()).describe('Inbound messages that are exactly one of these opt the customer out of campaigns.'),
});
const team = z.object({ id: z.string(), name: z.string(), created_at: z.string(), member_ids: z.array(z.string()) });
const members = z.object({ members: z.array(person) });

/** What every one of these routes can answer: they are for a signed-in admin. */
const readErrors = [
  { status: 401, message: NOT_SIGNED_IN },
  { status: 403, message: ADMINS_ONLY },
];
const writeErrors = [...readErrors, { status: 403, message: CROSS_SITE_REFUSED }];
const personNotFound = { status: 404, message: people.AGENT_NOT_FOUND };
const teamNotFound = { status: 404, message: people.TEAM_NOT_FOUND };
const emailTaken = { status: 409, message: people.EMAIL_TAKEN };

/**
 * The inbox's admin screens: people, teams and their members, the account's settings. Admins only,
 * and only their own account: an id of another account answers 404 like an unknown one. The same
 * service functions as the admin API and the CLI.
 */
export const peopleAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/people',
    access: 'admin',
    summary: "The account's people and agents",
    description: 'Agents without an email are assignable names who do not sign in.',
    output: z.object({ people: z.array(person) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ people: await people.listPeople(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/people',
    access: 'admin',
    summary: 'Add a person (or an assignable agent without an email)',
    description:
      'The role is `agent` unless told. With an email and no password, the reply has `invite_url`: a one-time link (valid `INVITATION_TTL`, 7 days) ' +
      'where the person sets a password. Emails are unique across the server, compared case-insensitively.',
    body: newPersonInput,
    output: z.object({ person, invite_url: z.string().optional() }),
    status: 201,
    errors: [{ status: 400, message: 'email: email is not valid' }, emailTaken, ...writeErrors],
    handler: async ({ body }, { deps, viewer, request }) => {
      const { agent, invitationToken } = await people.createPerson(deps, viewer.accountId, body);
      return { person: people.toPersonRecord(agent), ...(invitationToken && { invite_url: invitationUrl(deps.config, invitationToken, request) }) };
    },
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/admin/people/:id',
    access: 'admin',
    summary: "Change a person's name, email, role or password, or disable them",
    description:
      "Disabling, a new password, or a new or removed email (`null`) end the person's sessions and invitation links; removing the email removes the password. " +
      'An admin changing their own password or email stays signed in where they did it, and cannot disable themselves, remove their own email or give up their own admin role.',
    params: idParams,
    body: personPatchInput,
    output: z.object({ person }),
    errors: [{ status: 400, message: people.CANNOT_LOCK_OUT_SELF }, personNotFound, emailTaken, ...writeErrors],
    handler: async ({ params, body }, { deps, viewer }) => ({
      person: people.toPersonRecord(await people.updatePerson(deps, params.id, body, { scope: viewer.accountId, actor: viewer.agentId, keepSession: viewer.sessionId })),
    }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/people/:id/invite',
    access: 'admin',
    summary: 'A new invitation link for a person',
    description: "Earlier links and the person's sessions end: this is also how an admin resets someone's access.",
    params: idParams,
    output: z.object({ invite_url: z.string() }),
    errors: [{ status: 400, message: people.NO_EMAIL_TO_INVITE }, personNotFound, ...writeErrors],
    handler: async ({ params }, { deps, viewer, request }) => ({
      invite_url: invitationUrl(deps.config, await people.reinvite(deps, params.id, viewer.accountId), request),
    }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/teams',
    access: 'admin',
    summary: "The account's teams with their members",
    output: z.object({ teams: z.array(team) }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ teams: await people.listTeamsWithMembers(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/teams',
    access: 'admin',
    summary: 'Add a team',
    description: 'As the admin API and `openmumble teams add`. Names need not be unique. The team starts with no members.',
    body: nameInput,
    output: z.object({ team }),
    status: 201,
    errors: [{ status: 400, message: 'name: name is required' }, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => {
      const { id, name, created_at } = await addEntry(deps, 'teams', viewer.accountId, body);
      return { team: { id, name, created_at, member_ids: [] } };
    },
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/teams/:id/members',
    access: 'admin',
    summary: 'Add a person to a team',
    description: "Adding a member twice changes nothing. Answers with the team's members.",
    params: idParams,
    body: teamMemberInput,
    output: members,
    errors: [teamNotFound, personNotFound, ...writeErrors],
    handler: async ({ params, body }, { deps, viewer }) => {
      await people.addTeamMember(deps, params.id, body.agent_id, viewer.accountId);
      return { members: await people.listTeamMembers(deps, params.id, viewer.accountId) };
    },
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/admin/teams/:id/members/:agentId',
    access: 'admin',
    summary: 'Remove a person from a team',
    description: "Answers with the team's remaining members; 404 `Agent not found` when the person is not a member.",
    params: teamMemberParams,
    output: members,
    errors: [teamNotFound, personNotFound, ...writeErrors],
    handler: async ({ params }, { deps, viewer }) => {
      await people.removeTeamMember(deps, params.id, params.agentId, viewer.accountId);
      return { members: await people.listTeamMembers(deps, params.id, viewer.accountId) };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/settings',
    access: 'admin',
    summary: "The account's settings",
    output: z.object({ settings }),
    errors: readErrors,
    handler: async (_input, { deps, viewer }) => ({ settings: await people.getAccountSettings(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/admin/settings',
    access: 'admin',
    summary: 'Rename the account, or hide unassigned conversations from agents',
    body: accountSettingsInput,
    output: z.object({ settings }),
    errors: [{ status: 400, message: 'hide_unassigned: hide_unassigned must be true or false' }, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => ({ settings: await people.updateAccountSettings(deps, viewer.accountId, body) }),
  }),
];
