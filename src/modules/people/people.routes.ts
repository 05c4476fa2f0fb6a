import { z } from 'zod';
import { defineAppRoute, type AppRoute } from '../../http/app-route.js';
import { invitationUrl, publicBaseUrl } from './invitations.js';
import { accountSettingsInput, newPersonInput, personPatchInput, ROLES, teamMemberInput } from './people.schema.js';
import * as people from './people.service.js';

/**
 * The inbox's admin screens: people, teams and their members, the account's settings. Admins only,
 * and only their own account: an id of another account answers 404 like an unknown one.
 */
const person = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  has_password: z.boolean(),
  created_at: z.string(),
});
const settings = z.object({ id: z.string(), name: z.string(), hide_unassigned: z.boolean() });
const idParams = z.object({ id: z.string().min(1).max(255) });
const memberParams = z.object({ id: z.string().min(1).max(255), agentId: z.string().min(1).max(255) });
const team = z.object({ id: z.string(), name: z.string(), created_at: z.string(), member_ids: z.array(z.string()) });
const members = z.object({ members: z.array(person) });

const notFound = (message: string) => ({ status: 404, message });
const EMAIL_TAKEN_ERROR = { status: 409, message: people.EMAIL_TAKEN };


export const peopleAppRoutes: AppRoute[] = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/people',
    access: 'admin',
    summary: "The account's people and agents",
    output: z.object({ people: z.array(person) }),
    errors: [],
    handler: async (_input, { deps, viewer }) => ({ people: await people.listPeople(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/people',
    access: 'admin',
    summary: 'Add a person (or an assignable agent without an email)',
    description: 'With an email and no password, the reply has `invite_url`: a one-time link (7 days) where the person sets a password.',
    body: newPersonInput,
    output: z.object({ person, invite_url: z.string().optional() }),
    status: 201,
    errors: [EMAIL_TAKEN_ERROR],
    handler: async ({ body }, { deps, viewer, request }) => {
      const { agent, invitationToken } = await people.createPerson(deps, viewer.accountId, body);
      return { person: people.toPersonRecord(agent), ...(invitationToken && { invite_url: invitationUrl(publicBaseUrl(deps.config, request), invitationToken) }) };
    },
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/admin/people/:id',
    access: 'admin',
    summary: "Change a person's name, email, role or password, or disable them",
    description: 'Disabling, a new password or a new email end the person\'s sessions (an admin changing their own password stays signed in here).',
    params: idParams,
    body: personPatchInput,
    output: z.object({ person }),
    errors: [notFound(people.AGENT_NOT_FOUND), EMAIL_TAKEN_ERROR],
    handler: async ({ params, body }, { deps, viewer }) => ({
      person: people.toPersonRecord(await people.updatePerson(deps, params.id, body, { scope: viewer.accountId, keepSession: viewer.sessionId })),
    }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/people/:id/invite',
    access: 'admin',
    summary: 'A new invitation link for a person',
    description: "Earlier links and the person's sessions end.",
    params: idParams,
    output: z.object({ invite_url: z.string() }),
    errors: [notFound(people.AGENT_NOT_FOUND), { status: 400, message: people.NO_EMAIL_TO_INVITE }],
    handler: async ({ params }, { deps, viewer, request }) => ({
      invite_url: invitationUrl(publicBaseUrl(deps.config, request), await people.reinvite(deps, params.id, viewer.accountId)),
    }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/admin/teams',
    access: 'admin',
    summary: "The account's teams with their members",
    output: z.object({ teams: z.array(team) }),
    errors: [],
    handler: async (_input, { deps, viewer }) => ({ teams: await people.listTeamsWithMembers(deps, viewer.accountId) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/admin/teams/:id/members',
    access: 'admin',
    summary: 'Add a person to a team',
    params: idParams,
    body: teamMemberInput,
    output: members,
    errors: [notFound(people.TEAM_NOT_FOUND), notFound(people.AGENT_NOT_FOUND)],
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
    params: memberParams,
    output: members,
    errors: [notFound(people.TEAM_NOT_FOUND), notFound(people.AGENT_NOT_FOUND)],
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
    errors: [],
    handler: async (_input, { deps, viewer }) => ({ settings: await people.updateAccountSettings(deps, viewer.accountId, {}) }),
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/admin/settings',
    access: 'admin',
    summary: "Change the account's name, or hide unassigned conversations from agents",
    body: accountSettingsInput,
    output: z.object({ settings }),
    errors: [],
    handler: async ({ body }, { deps, viewer }) => ({ settings: await people.updateAccountSettings(deps, viewer.accountId, body) }),
  }),
];
