import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Role } from '../src/modules/people/people.schema.js';
import { createPerson } from '../src/modules/people/people.service.js';
import type { TestContext } from './helpers.js';

/** People who sign in to the inbox, for the suites of /app/api. */

export const CSRF = { 'x-openmumble-csrf': '1' };

export type AppCall = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>) => Promise<LightMyRequestResponse>;

export interface SignedInPerson {
  agentId: string;
  email: string;
  password: string;
  /** `om_session=<token>` */
  cookie: string;
  /** app.inject with the session cookie and the CSRF header. */
  call: AppCall;
}

export interface PersonOptions {
  role?: Role;
  name?: string;
  /** The account (the context's own unless told). */
  accountId?: string;
  /** Teams the person joins. */
  teamIds?: string[];
}

let people = 0;

/** The `name=value` pair of a reply's Set-Cookie for the session. */
export function sessionCookieOf(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const line = (Array.isArray(header) ? header : [header ?? '']).find((value) => value.startsWith('om_session='));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(response.headers)}: ${response.body}`);
  return line.split(';')[0]!;
}

/** A caller for /app/api with this cookie (or none). */
export function appCaller(ctx: Pick<TestContext, 'app'>, cookie?: string): AppCall {
  return (method, url, payload, headers = {}) =>
    ctx.app.inject({
      method,
      url,
      headers: { ...CSRF, ...(cookie && { cookie }), ...headers },
      ...(payload !== undefined && { payload: payload as InjectOptions['payload'] }),
    });
}

/** Creates a person with a password (through the people service), joins their teams, and signs in. */
export async function signedInPerson(ctx: TestContext, options: PersonOptions = {}): Promise<SignedInPerson> {
  people += 1;
  const email = `person${people}.${process.pid}@example.com`;
  const password = `correct horse ${people}`;
  const accountId = options.accountId ?? ctx.accountId;
  const { agent } = await createPerson(ctx.deps, accountId, { name: options.name ?? `Person ${people}`, email, password, role: options.role ?? 'agent' });
  for (const teamId of options.teamIds ?? []) {
    await ctx.deps.database.db.insertInto('team_members').values({ team_id: teamId, agent_id: agent.id, account_id: accountId, created_at: new Date().toISOString() }).execute();
  }
  const response = await appCaller(ctx)('POST', '/app/api/session', { email, password });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  const cookie = sessionCookieOf(response);
  return { agentId: agent.id, email, password, cookie, call: appCaller(ctx, cookie) };
}
