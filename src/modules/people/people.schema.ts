import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js';

/**
 * The one validator of people's fields: the admin API, the CLI and the inbox's admin screens all
 * parse with these, so a value one accepts the others accept too.
 */
export const ROLES = ['admin', 'supervisor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const personName = z.string({ error: 'name is required' }).trim().min(1, 'name is required').max(255, 'name is too long');
export const personEmail = z
  .string({ error: 'email must be a string' })
  .trim()
  .max(254, 'email is too long')
  .pipe(z.email('email is not valid'));
export const personRole = z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` });
export const password = z
  .string({ error: 'password must be a string' })
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`);

/** lower(trim(email)): how emails are compared (unique across the server, case-insensitive). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const PASSWORD_NEEDS_EMAIL_ISSUE = 'a password needs an email to sign in with';

export const newPersonInput = z
  .strictObject({
    name: personName,
    email: personEmail.optional(),
    role: personRole.optional(),
    password: password.optional(),
  })
  .refine((input) => input.password === undefined || input.email !== undefined, { message: PASSWORD_NEEDS_EMAIL_ISSUE, path: ['password'] });
export type NewPersonInput = z.output<typeof newPersonInput>;

export const personPatchInput = z.strictObject({
  name: personName.optional(),
  email: personEmail.nullable().optional(),
  role: personRole.optional(),
  password: password.optional(),
  disabled: z.boolean({ error: 'disabled must be true or false' }).optional(),
});
export type PersonPatchInput = z.output<typeof personPatchInput>;

/** An account's (a team's, a bot's) name, for the admin API and the CLI alike: a person's name's rule. */
export const accountName = personName;
/** `{name}`: a new account, API key, team or bot. */
export const nameInput = z.object({ name: accountName });

export const accountSettingsInput = z.strictObject({
  name: accountName.optional(),
  hide_unassigned: z.boolean({ error: 'hide_unassigned must be true or false' }).optional(),
  messaging_enabled: z.boolean({ error: 'messaging_enabled must be true or false' }).optional(),
  default_bot_id: z.string({ error: 'default_bot_id is a bot id or null' }).min(1).max(255).nullable().optional(),
  campaign_daily_limit: z.int({ error: 'campaign_daily_limit is a whole number or null' }).min(1).max(10_000_000).nullable().optional(),
  stop_words: z.array(z.string().trim().min(1).max(64)).min(1).max(50).nullable().optional(),
});
export type AccountSettingsInput = z.output<typeof accountSettingsInput>;

export const teamMemberInput = z.strictObject({ agent_id: z.string({ error: 'agent_id is required' }).min(1, 'agent_id is required').max(255) });

/** Path parameters of the admin API and the inbox's admin screens: `/agents/:id`, `/teams/:id/members/:agentId`. */
const recordId = z.string().min(1).max(255);
export const idParams = z.object({ id: recordId });
export const teamMemberParams = z.object({ id: recordId, agentId: recordId });
