import { z } from 'zod';
import { defineAppRoute, type AppContext } from '../../http/app-route.js';
import { acceptInvitation, describeInvitation, INVITATION_INVALID } from '../people/invitations.js';
import { enforce } from '../../http/rate-limit.js';
import { normalizeEmail, password } from '../people/people.schema.js';
import { CROSS_SITE_REFUSED } from './app-api.js';
import {
  endSession,
  INVALID_CREDENTIALS,
  listSessions,
  NOT_SIGNED_IN,
  openSession,
  SESSION_NOT_FOUND,
  LANGUAGES,
  setLanguage,
  setSessionCookie,
  signIn,
  signOut,
  toUserRecord,
} from './sessions.service.js';

const userRecord = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.enum(['admin', 'supervisor', 'agent']),
  account: z.object({ id: z.string(), name: z.string() }),
  language: z.enum(LANGUAGES).nullable().describe("The inbox language the person chose; null: the browser's choice."),
});
const userReply = z.object({ user: userRecord });

const signedInErrors = [{ status: 401, message: NOT_SIGNED_IN }];
const writeErrors = [{ status: 403, message: CROSS_SITE_REFUSED }];

const clientOf = ({ request }: AppContext) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

const tokenParams = z.object({ token: z.string().min(1).max(200) });

/** Sign-in, sign-out, who am I, my sessions, and accepting an invitation. */
export const authAppRoutes = [
  defineAppRoute({
    method: 'POST',
    path: '/app/api/session',
    access: 'public',
    summary: 'Sign in',
    description:
      'Checks the email and password and sets the session cookie (`om_session`: httpOnly, SameSite=Lax, Secure over https). ' +
      'Attempts are limited per email and per client address, and slowed down after failures. Every refusal is the same 401.',
    body: z.strictObject({ email: z.string({ error: 'email is required' }).max(254, 'email is too long'), password: z.string({ error: 'password is required' }).max(1024, 'password is too long') }),
    output: userReply,
    errors: [{ status: 401, message: INVALID_CREDENTIALS }, { status: 429, message: 'Too many requests' }, ...writeErrors],
    handler: async ({ body }, context) => {
      const { deps, request, reply } = context;
      await enforce(deps.rateLimiter, deps.metrics, reply, 'sign_in_ip', request.ip);
      await enforce(deps.rateLimiter, deps.metrics, reply, 'sign_in_email', normalizeEmail(body.email));
      const { token, viewer } = await signIn(deps, body.email, body.password, clientOf(context));
      setSessionCookie(deps, request, reply, token);
      return { user: toUserRecord(viewer) };
    },
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/session',
    access: 'person',
    summary: 'Sign out',
    description: 'Ends this session and clears the cookie.',
    output: z.object({ signed_out: z.literal(true) }),
    errors: [...signedInErrors, ...writeErrors],
    handler: async (_input, { deps, viewer, request, reply }) => {
      await signOut(deps, viewer);
      setSessionCookie(deps, request, reply, null);
      return { signed_out: true };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/me',
    access: 'person',
    summary: 'Who is signed in',
    output: userReply,
    errors: signedInErrors,
    handler: async (_input, { viewer }) => ({ user: toUserRecord(viewer) }),
  }),
  defineAppRoute({
    method: 'PATCH',
    path: '/app/api/me',
    access: 'person',
    summary: 'Change my preferences',
    description: "The signed-in person's inbox language (`en`, `he`, or null for the browser's choice): kept on the person, so every browser they sign in to follows it.",
    body: z.strictObject({ language: z.enum(LANGUAGES, { error: 'language must be en or he' }).nullable() }),
    output: userReply,
    errors: [{ status: 400, message: 'language: language must be en or he' }, ...signedInErrors, ...writeErrors],
    handler: async ({ body }, { deps, viewer }) => ({ user: toUserRecord(await setLanguage(deps, viewer, body.language)) }),
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/sessions',
    access: 'person',
    summary: "The signed-in person's sessions",
    description: 'Every browser where this person is signed in; `current` marks this one.',
    output: z.object({
      sessions: z.array(
        z.object({
          id: z.string(),
          created_at: z.string(),
          last_seen_at: z.string(),
          expires_at: z.string(),
          ip: z.string().nullable(),
          user_agent: z.string().nullable(),
          current: z.boolean(),
        }),
      ),
    }),
    errors: signedInErrors,
    handler: async (_input, { deps, viewer }) => ({ sessions: await listSessions(deps, viewer) }),
  }),
  defineAppRoute({
    method: 'DELETE',
    path: '/app/api/sessions/:id',
    access: 'person',
    summary: 'End one of my sessions',
    params: z.object({ id: z.string().min(1).max(64) }),
    output: z.object({ ended: z.literal(true) }),
    errors: [...signedInErrors, ...writeErrors, { status: 404, message: SESSION_NOT_FOUND }],
    handler: async ({ params }, { deps, viewer }) => {
      await endSession(deps, viewer, params.id);
      return { ended: true };
    },
  }),
  defineAppRoute({
    method: 'GET',
    path: '/app/api/invitations/:token',
    access: 'public',
    summary: 'Who an invitation is for',
    description: 'For the page where an invited person sets their password.',
    params: tokenParams,
    output: z.object({ invitation: z.object({ name: z.string(), email: z.string(), account: z.object({ name: z.string() }) }) }),
    errors: [{ status: 404, message: INVITATION_INVALID }],
    handler: async ({ params }, { deps }) => ({ invitation: await describeInvitation(deps, params.token) }),
  }),
  defineAppRoute({
    method: 'POST',
    path: '/app/api/invitations/:token',
    access: 'public',
    summary: 'Accept an invitation',
    description: 'Sets the password (at least 10 characters) and signs in. The link works once.',
    params: tokenParams,
    body: z.strictObject({ password }),
    output: userReply,
    errors: [{ status: 400, message: 'password: password must be at least 10 characters' }, { status: 404, message: INVITATION_INVALID }, ...writeErrors],
    handler: async ({ params, body }, context) => {
      const { deps, request, reply } = context;
      const person = await acceptInvitation(deps, params.token, body.password);
      const { token, viewer } = await openSession(deps, person, clientOf(context));
      setSessionCookie(deps, request, reply, token);
      return { user: toUserRecord(viewer) };
    },
  }),
];
