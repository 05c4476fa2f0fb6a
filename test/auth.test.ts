import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slowdownMs } from '../src/modules/auth/sessions.service.js';
import { createPerson } from '../src/modules/people/people.service.js';
import { UNLIMITED, expectError } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { appCaller, sessionCookieOf, signedInPerson } from './inbox-helpers.js';

const HOUR = 3_600_000;

describeEachDatabase('sign-in and sessions', (kind) => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, TRUST_PROXY: 'true' });
  });
  afterAll(() => ctx?.close());

  const anonymous = () => appCaller(ctx);

  it('signs in with the right email and password: the user, and an httpOnly SameSite=Lax cookie', async () => {
    const person = await signedInPerson(ctx, { role: 'supervisor', name: 'Dana' });
    const response = await anonymous()('POST', '/app/api/session', { email: person.email.toUpperCase(), password: person.password });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      user: { id: person.agentId, name: 'Dana', email: person.email, role: 'supervisor', account: { id: ctx.accountId, name: 'Test account' }, language: null },
    });
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/^om_session=[\w-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).toMatch(/Max-Age=2592000/);
  });

  it('marks the cookie Secure when the request came over https through a trusted proxy', async () => {
    const person = await signedInPerson(ctx);
    const response = await anonymous()('POST', '/app/api/session', { email: person.email, password: person.password }, { 'x-forwarded-proto': 'https' });
    expect(response.statusCode).toBe(200);
    expect(String(response.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('refuses a wrong password and an unknown email with the same 401', async () => {
    const person = await signedInPerson(ctx);
    expectError(await anonymous()('POST', '/app/api/session', { email: person.email, password: 'not the password' }), 401, 'Invalid email or password');
    expectError(await anonymous()('POST', '/app/api/session', { email: 'nobody@example.com', password: person.password }), 401, 'Invalid email or password');
  });

  it('refuses a disabled person, and one who has not set a password yet', async () => {
    const person = await signedInPerson(ctx);
    await ctx.deps.database.db.updateTable('agents').set({ disabled_at: ctx.clock.now().toISOString() }).where('id', '=', person.agentId).execute();
    expectError(await anonymous()('POST', '/app/api/session', { email: person.email, password: person.password }), 401, 'Invalid email or password');
    // Their open session ends too.
    expectError(await person.call('GET', '/app/api/me'), 401, 'Not signed in');

    const invited = await createPerson(ctx.deps, ctx.accountId, { name: 'Invited', email: 'invited-no-password@example.com' });
    expect(invited.invitationToken).toBeTruthy();
    expectError(await anonymous()('POST', '/app/api/session', { email: 'invited-no-password@example.com', password: '' }), 401, 'Invalid email or password');
  });

  it('answers who is signed in, and 401 without a session', async () => {
    const person = await signedInPerson(ctx, { role: 'admin', name: 'Ada' });
    const me = await person.call('GET', '/app/api/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({ id: person.agentId, role: 'admin', name: 'Ada' });
    expectError(await anonymous()('GET', '/app/api/me'), 401, 'Not signed in');
    expectError(await appCaller(ctx, 'om_session=forged')('GET', '/app/api/me'), 401, 'Not signed in');
  });

  it("keeps the person's language on the person: every session, sign-in and invitation shows it", async () => {
    const person = await signedInPerson(ctx, { name: 'Lea' });
    expect((await person.call('GET', '/app/api/me')).json().user.language).toBeNull();
    const changed = await person.call('PATCH', '/app/api/me', { language: 'he' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().user).toMatchObject({ id: person.agentId, name: 'Lea', language: 'he' });
    expect((await person.call('GET', '/app/api/me')).json().user.language).toBe('he');
    // Another browser: a new session of the same person.
    const elsewhere = await anonymous()('POST', '/app/api/session', { email: person.email, password: person.password });
    expect(elsewhere.json().user.language).toBe('he');
    expect((await appCaller(ctx, sessionCookieOf(elsewhere))('GET', '/app/api/me')).json().user.language).toBe('he');
    const stored = await ctx.deps.database.db.selectFrom('agents').select('language').where('id', '=', person.agentId).executeTakeFirstOrThrow();
    expect(stored.language).toBe('he');
    // Back to the browser's choice; nobody else changes.
    const other = await signedInPerson(ctx);
    expect((await person.call('PATCH', '/app/api/me', { language: null })).json().user.language).toBeNull();
    expect((await other.call('GET', '/app/api/me')).json().user.language).toBeNull();
  });

  it('refuses an unknown language, other fields and a change without a session or the CSRF header', async () => {
    const person = await signedInPerson(ctx);
    expectError(await person.call('PATCH', '/app/api/me', { language: 'fr' }), 400, 'language: language must be en or he');
    expectError(await person.call('PATCH', '/app/api/me', { language: 'en', name: 'Someone else' }), 400, 'Unrecognized key: "name"');
    expectError(await anonymous()('PATCH', '/app/api/me', { language: 'en' }), 401, 'Not signed in');
    expectError(await person.call('PATCH', '/app/api/me', { language: 'en' }, { 'x-openmumble-csrf': '' }), 403, 'Cross-site request refused');
    expect((await person.call('GET', '/app/api/me')).json().user.language).toBeNull();
  });

  it('signs out: the session ends and the cookie is cleared', async () => {
    const person = await signedInPerson(ctx);
    const response = await person.call('DELETE', '/app/api/session');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ signed_out: true });
    expect(String(response.headers['set-cookie'])).toMatch(/^om_session=; .*Max-Age=0/);
    expectError(await person.call('GET', '/app/api/me'), 401, 'Not signed in');
  });

  it('refuses state-changing requests without the CSRF header or from another origin', async () => {
    const person = await signedInPerson(ctx);
    const noHeader = await ctx.app.inject({ method: 'DELETE', url: '/app/api/session', headers: { cookie: person.cookie } });
    expectError(noHeader, 403, 'Cross-site request refused');
    const foreign = await person.call('DELETE', '/app/api/session', undefined, { origin: 'https://evil.example' });
    expectError(foreign, 403, 'Cross-site request refused');
    const signIn = await ctx.app.inject({ method: 'POST', url: '/app/api/session', payload: { email: person.email, password: person.password } });
    expectError(signIn, 403, 'Cross-site request refused');
    // The session survived all three; a same-origin request with the header goes through.
    expect((await person.call('GET', '/app/api/me')).statusCode).toBe(200);
    const own = await person.call('DELETE', '/app/api/session', undefined, { origin: 'http://localhost:80', host: 'localhost:80' });
    expect(own.statusCode).toBe(200);
  });

  it('ends a session idle for longer than the idle timeout, and any session after its absolute lifetime', async () => {
    const idle = await signedInPerson(ctx);
    ctx.clock.advance(11 * HOUR);
    expect((await idle.call('GET', '/app/api/me')).statusCode).toBe(200);
    ctx.clock.advance(11 * HOUR);
    // 22 hours since sign-in, but only 11 since it was last used: alive.
    expect((await idle.call('GET', '/app/api/me')).statusCode).toBe(200);
    ctx.clock.advance(12 * HOUR + 1000);
    expectError(await idle.call('GET', '/app/api/me'), 401, 'Not signed in');

    const busy = await signedInPerson(ctx);
    // Used every 11 hours: never idle long enough, yet over after 30 days (720 hours).
    for (let step = 1; step <= 66; step++) {
      ctx.clock.advance(11 * HOUR);
      expect((await busy.call('GET', '/app/api/me')).statusCode, `after ${step * 11} hours`).toBe(step * 11 < 720 ? 200 : 401);
    }
  });

  it("lists the person's sessions and ends another one of them", async () => {
    const person = await signedInPerson(ctx);
    const second = sessionCookieOf(await anonymous()('POST', '/app/api/session', { email: person.email, password: person.password }, { 'user-agent': 'Phone' }));
    const listed = await person.call('GET', '/app/api/sessions');
    expect(listed.statusCode).toBe(200);
    const sessions = listed.json().sessions as Array<{ id: string; current: boolean; user_agent: string | null }>;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    const phone = sessions.find((session) => session.user_agent === 'Phone')!;
    expect(phone.current).toBe(false);
    expect((await person.call('DELETE', `/app/api/sessions/${phone.id}`)).statusCode).toBe(200);
    expectError(await appCaller(ctx, second)('GET', '/app/api/me'), 401, 'Not signed in');
    expectError(await person.call('DELETE', `/app/api/sessions/${phone.id}`), 404, 'Session not found');
    // Another person's session cannot be ended from here.
    const other = await signedInPerson(ctx);
    const otherId = (await other.call('GET', '/app/api/sessions')).json().sessions[0].id;
    expectError(await person.call('DELETE', `/app/api/sessions/${otherId}`), 404, 'Session not found');
    expect((await other.call('GET', '/app/api/me')).statusCode).toBe(200);
  });

  it('accepts an invitation once: shows who it is for, sets the password, signs in', async () => {
    const { agent, invitationToken } = await createPerson(ctx.deps, ctx.accountId, { name: 'Noa', email: 'Noa.Invited@Example.com', role: 'agent' });
    const token = invitationToken!;
    const shown = await anonymous()('GET', `/app/api/invitations/${token}`);
    expect(shown.json()).toEqual({ invitation: { name: 'Noa', email: 'Noa.Invited@Example.com', account: { name: 'Test account' } } });
    expectError(await anonymous()('POST', `/app/api/invitations/${token}`, { password: 'short' }), 400, 'password: password must be at least 10 characters');
    const accepted = await anonymous()('POST', `/app/api/invitations/${token}`, { password: 'a long enough password' });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().user).toMatchObject({ id: agent.id, email: 'Noa.Invited@Example.com' });
    expect((await appCaller(ctx, sessionCookieOf(accepted))('GET', '/app/api/me')).statusCode).toBe(200);
    expectError(await anonymous()('POST', `/app/api/invitations/${token}`, { password: 'another long password' }), 404, 'This invitation link is invalid or has expired');
    expectError(await anonymous()('GET', `/app/api/invitations/${token}`), 404, 'This invitation link is invalid or has expired');
    const signIn = await anonymous()('POST', '/app/api/session', { email: 'noa.invited@example.com', password: 'a long enough password' });
    expect(signIn.statusCode).toBe(200);
  });

  it('lets an invitation expire after 7 days', async () => {
    const { invitationToken } = await createPerson(ctx.deps, ctx.accountId, { name: 'Late', email: 'late@example.com' });
    ctx.clock.advance(7 * 24 * HOUR + 1000);
    expectError(await anonymous()('POST', `/app/api/invitations/${invitationToken}`, { password: 'a long enough password' }), 404, 'This invitation link is invalid or has expired');
  });

  it('refuses malformed bodies with a 400 naming the problem', async () => {
    const call = anonymous();
    expectError(await call('POST', '/app/api/session', '{"email":', { 'content-type': 'application/json' }), 400, 'Invalid JSON body');
    expectError(await call('POST', '/app/api/session', { email: 'a@example.com', password: 'x'.repeat(20), remember: true }), 400, 'Unrecognized key: "remember"');
    expectError(await call('POST', '/app/api/session', { email: 42, password: 'x' }), 400, 'email: email is required');
    expectError(await call('POST', '/app/api/session', { email: 'a@example.com' }), 400, 'password: password is required');
    expectError(await call('POST', '/app/api/session', { email: 'a@example.com', password: 'x'.repeat(2000) }), 400, 'password: password is too long');
  });
});

describeEachDatabase('sign-in limits', (kind) => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext(kind, { SIGN_IN_LIMIT_PER_EMAIL: '3' });
  });
  afterAll(() => ctx?.close());

  it('limits attempts per email, whether or not the password is right', async () => {
    const person = await signedInPerson(ctx);
    for (let i = 0; i < 2; i++) {
      expect((await appCaller(ctx)('POST', '/app/api/session', { email: person.email, password: 'wrong password' })).statusCode).toBe(401);
    }
    const refused = await appCaller(ctx)('POST', '/app/api/session', { email: person.email, password: person.password });
    expectError(refused, 429, 'Too many requests');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another email is not affected.
    const other = await signedInPerson(ctx);
    expect((await other.call('GET', '/app/api/me')).statusCode).toBe(200);
  });
});

describe('sign-in slow-down', () => {
  it('holds nothing back for the first failures, then doubles up to 5 seconds', () => {
    expect([0, 1, 2, 3].map(slowdownMs)).toEqual([0, 0, 0, 0]);
    expect([4, 5, 6, 7].map(slowdownMs)).toEqual([250, 500, 1000, 2000]);
    expect(slowdownMs(50)).toBe(5000);
  });
});

