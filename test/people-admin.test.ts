import { afterAll, beforeAll, expect, it } from 'vitest';
import { UNLIMITED, api, expectError } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { appCaller, sessionCookieOf, signedInPerson } from './inbox-helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** People through the admin API (/admin/v1) and the inbox's admin screens (/app/api/admin). */
describeEachDatabase('people: the admin API', (kind) => {
  let ctx: TestContext;
  const admin = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, host: 'crm.test' }, ...(payload !== undefined && { payload: payload as string }) });
  let accountId: string;
  let counter = 0;
  const email = () => `person-${++counter}@people.test`;

  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, OPENMUMBLE_ADMIN_TOKEN: ADMIN_TOKEN });
    accountId = ctx.accountId;
  });
  afterAll(() => ctx?.close());

  const create = async (body: Record<string, unknown>) => {
    const response = await admin('POST', `/accounts/${accountId}/agents`, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { agent: { id: string; email: string | null; role: string }; invite_url?: string };
  };
  const signIn = (address: string, password: string) => appCaller(ctx)('POST', '/app/api/session', { email: address, password });

  it('creates an agent without an email as an assignable name, as before (role agent, no invitation)', async () => {
    const created = await create({ name: 'Night shift' });
    expect(created).toEqual({
      success: true,
      agent: { id: expect.any(String), name: 'Night shift', email: null, role: 'agent', disabled: false, has_password: false, created_at: expect.any(String) },
    });
    const listed = (await ctx.call('GET', api('get-agents'))).json().agents;
    expect(listed).toContainEqual({ id: created.agent.id, name: 'Night shift' });
  });

  it('creates a person with an email and no password with a one-time invitation link', async () => {
    const address = email();
    const created = await create({ name: 'Dana', email: address, role: 'supervisor' });
    expect(created.agent).toMatchObject({ email: address, role: 'supervisor', has_password: false });
    expect(created.invite_url).toMatch(/^http:\/\/crm\.test\/app\/invite\/[\w-]{40,}$/);
    const token = created.invite_url!.split('/').pop()!;
    expect((await appCaller(ctx)('POST', `/app/api/invitations/${token}`, { password: 'chosen password 1' })).statusCode).toBe(200);
    expect((await signIn(address, 'chosen password 1')).statusCode).toBe(200);
  });

  it('creates a person with a password, who signs in at once', async () => {
    const address = email();
    const created = await create({ name: 'Eli', email: address, password: 'given password 1', role: 'admin' });
    expect(created.invite_url).toBeUndefined();
    expect(created.agent).toMatchObject({ role: 'admin', has_password: true });
    expect((await signIn(address.toUpperCase(), 'given password 1')).json().user.role).toBe('admin');
  });

  it('refuses an email another person has, in any case, across accounts', async () => {
    const address = email();
    await create({ name: 'First', email: address });
    const other = await ctx.otherAccount();
    const again = await admin('POST', `/accounts/${other.accountId}/agents`, { name: 'Second', email: address.toUpperCase() });
    expectError(again, 409, 'email is already used by another person');
    expect((await admin('GET', `/accounts/${other.accountId}/agents`)).json().agents).toEqual([]);
  });

  it.each([
    [{ name: 'X', email: 'not-an-email' }, 'email: email is not valid'],
    [{ name: 'X', email: 'x@people.test', role: 'owner' }, 'role: role must be one of admin, supervisor, agent'],
    [{ name: 'X', email: 'y@people.test', password: 'short' }, 'password: password must be at least 10 characters'],
    [{ name: 'X', password: 'long enough password' }, 'password: a password needs an email to sign in with'],
    [{ name: '' }, 'name: name is required'],
    [{ name: 'X', favourite_colour: 'blue' }, 'Unrecognized key: "favourite_colour"'],
    [{ name: 42 }, 'name: name is required'],
  ])('refuses %j with 400 %s and writes nothing', async (body, message) => {
    const before = (await admin('GET', `/accounts/${accountId}/agents`)).json().agents.length;
    expectError(await admin('POST', `/accounts/${accountId}/agents`, body), 400, message);
    expect((await admin('GET', `/accounts/${accountId}/agents`)).json().agents).toHaveLength(before);
  });

  it('changes name and role; disabling ends the sessions and refuses sign-in; enabling lets them back', async () => {
    const address = email();
    const person = await signedInPerson(ctx, { role: 'agent' });
    const patched = await admin('PATCH', `/agents/${person.agentId}`, { name: 'Renamed', role: 'supervisor', email: address });
    expect(patched.json().agent).toMatchObject({ name: 'Renamed', role: 'supervisor', email: address });
    // A new email ends the sessions of the old one.
    expectError(await person.call('GET', '/app/api/me'), 401, 'Not signed in');
    expect((await signIn(address, person.password)).statusCode).toBe(200);

    const cookie = sessionCookieOf(await signIn(address, person.password));
    expect((await admin('PATCH', `/agents/${person.agentId}`, { disabled: true })).json().agent.disabled).toBe(true);
    expectError(await appCaller(ctx, cookie)('GET', '/app/api/me'), 401, 'Not signed in');
    expectError(await signIn(address, person.password), 401, 'Invalid email or password');
    await admin('PATCH', `/agents/${person.agentId}`, { disabled: false });
    expect((await signIn(address, person.password)).statusCode).toBe(200);
  });

  it('sets a new password (ending sessions), and removing the email removes the password', async () => {
    const person = await signedInPerson(ctx);
    await admin('PATCH', `/agents/${person.agentId}`, { password: 'brand new password' });
    expectError(await person.call('GET', '/app/api/me'), 401, 'Not signed in');
    expectError(await signIn(person.email, person.password), 401, 'Invalid email or password');
    expect((await signIn(person.email, 'brand new password')).statusCode).toBe(200);
    const removed = await admin('PATCH', `/agents/${person.agentId}`, { email: null });
    expect(removed.json().agent).toMatchObject({ email: null, has_password: false });
    expectError(await signIn(person.email, 'brand new password'), 401, 'Invalid email or password');
  });

  it('re-invites: a new link, the old one and the sessions end; 400 without an email; 404 for an unknown agent', async () => {
    const created = await create({ name: 'Gal', email: email() });
    const oldToken = created.invite_url!.split('/').pop()!;
    const again = await admin('POST', `/agents/${created.agent.id}/invite`);
    expect(again.json().invite_url).toMatch(/\/app\/invite\//);
    expectError(await appCaller(ctx)('GET', `/app/api/invitations/${oldToken}`), 404, 'This invitation link is invalid or has expired');
    const newToken = again.json().invite_url.split('/').pop();
    expect((await appCaller(ctx)('GET', `/app/api/invitations/${newToken}`)).statusCode).toBe(200);

    const person = await signedInPerson(ctx);
    await admin('POST', `/agents/${person.agentId}/invite`);
    expectError(await person.call('GET', '/app/api/me'), 401, 'Not signed in');

    const nameOnly = await create({ name: 'No email' });
    expectError(await admin('POST', `/agents/${nameOnly.agent.id}/invite`), 400, 'This agent has no email to send an invitation to');
    expectError(await admin('POST', '/agents/no-such-agent/invite'), 404, 'Agent not found');
    expectError(await admin('PATCH', '/agents/no-such-agent', { name: 'x' }), 404, 'Agent not found');
    expectError(await admin('PATCH', `/agents/${person.agentId}`, { role: 'boss' }), 400, 'role: role must be one of admin, supervisor, agent');
  });

  it.each([
    [{ nickname: 'Dee' }, 'Unrecognized key: "nickname"'],
    [{ disabled: 'yes' }, 'disabled: disabled must be true or false'],
    [{ email: 42 }, 'email: email must be a string'],
    [{ email: 'nope' }, 'email: email is not valid'],
    [{ name: '   ' }, 'name: name is required'],
    [{ password: 'short' }, 'password: password must be at least 10 characters'],
    [{ name: 'Half done', email: null, password: 'long enough password' }, 'password: a password needs an email to sign in with'],
  ])('refuses the change %j with 400 %s and changes nothing', async (body, message) => {
    const person = await signedInPerson(ctx);
    const before = (await admin('GET', `/accounts/${accountId}/agents`)).json().agents.find((agent: { id: string }) => agent.id === person.agentId);
    expectError(await admin('PATCH', `/agents/${person.agentId}`, body), 400, message);
    expect((await admin('GET', `/accounts/${accountId}/agents`)).json().agents).toContainEqual(before);
    expect((await person.call('GET', '/app/api/me')).statusCode).toBe(200);
  });

  it('refuses a taken email with 409 and keeps the rest of the change unwritten', async () => {
    const taken = email();
    await create({ name: 'Owner', email: taken });
    const person = await signedInPerson(ctx, { name: 'Before' });
    expectError(await admin('PATCH', `/agents/${person.agentId}`, { name: 'After', email: taken.toUpperCase() }), 409, 'email is already used by another person');
    const listed = (await admin('GET', `/accounts/${accountId}/agents`)).json().agents;
    expect(listed).toContainEqual(expect.objectContaining({ id: person.agentId, name: 'Before', email: person.email }));
    expect((await person.call('GET', '/app/api/me')).statusCode).toBe(200);
  });

  it('removing an agent ends their sessions and team memberships; get-agents no longer lists them', async () => {
    const team = (await admin('POST', `/accounts/${accountId}/teams`, { name: 'Leavers' })).json().team;
    const person = await signedInPerson(ctx, { teamIds: [team.id] });
    expect((await admin('GET', `/teams/${team.id}/members`)).json().members).toHaveLength(1);
    expect((await admin('DELETE', `/agents/${person.agentId}`)).json()).toEqual({ success: true, message: 'agent removed' });
    expectError(await person.call('GET', '/app/api/me'), 401, 'Not signed in');
    expect((await admin('GET', `/teams/${team.id}/members`)).json().members).toEqual([]);
    expect((await ctx.call('GET', api('get-agents'))).json().agents).not.toContainEqual(expect.objectContaining({ id: person.agentId }));
  });

  it('adds, lists and removes team members of the same account only', async () => {
    const team = (await admin('POST', `/accounts/${accountId}/teams`, { name: 'Support' })).json().team;
    const person = await create({ name: 'Member', email: email() });
    const added = await admin('POST', `/teams/${team.id}/members`, { agent_id: person.agent.id });
    expect(added.json().members.map((member: { id: string }) => member.id)).toEqual([person.agent.id]);
    // Twice is once.
    expect((await admin('POST', `/teams/${team.id}/members`, { agent_id: person.agent.id })).json().members).toHaveLength(1);
    expect((await admin('GET', `/teams/${team.id}/members`)).json().members).toHaveLength(1);

    const other = await ctx.otherAccount();
    const stranger = (await admin('POST', `/accounts/${other.accountId}/agents`, { name: 'Stranger' })).json().agent;
    expectError(await admin('POST', `/teams/${team.id}/members`, { agent_id: stranger.id }), 404, 'Agent not found');
    expectError(await admin('POST', '/teams/no-such-team/members', { agent_id: person.agent.id }), 404, 'Team not found');
    expectError(await admin('POST', `/teams/${team.id}/members`, {}), 400, 'agent_id: agent_id is required');

    expect((await admin('DELETE', `/teams/${team.id}/members/${person.agent.id}`)).json().members).toEqual([]);
    expectError(await admin('DELETE', `/teams/${team.id}/members/${person.agent.id}`), 404, 'Agent not found');
  });

  it("sets the account's hide_unassigned and name", async () => {
    const other = await ctx.otherAccount();
    const patched = await admin('PATCH', `/accounts/${other.accountId}`, { hide_unassigned: true, name: 'Renamed Inc' });
    expect(patched.json().account).toEqual({ id: other.accountId, name: 'Renamed Inc', hide_unassigned: true, messaging_enabled: true, default_bot_id: null, campaign_daily_limit: null, stop_words: ['STOP', 'UNSUBSCRIBE', 'הסר', 'הסרה'] });
    expectError(await admin('PATCH', `/accounts/${other.accountId}`, { hide_unassigned: 'yes' }), 400, 'hide_unassigned: hide_unassigned must be true or false');
    expectError(await admin('PATCH', '/accounts/no-such-account', { name: 'x' }), 404, 'Account not found');
    expectError(await admin('PATCH', `/accounts/${other.accountId}`, { hide_unassigned: false, plan: 'gold' }), 400, 'Unrecognized key: "plan"');
    expectError(await admin('PATCH', `/accounts/${other.accountId}`, { name: '' }), 400, 'name: name is required');
    expect((await admin('PATCH', `/accounts/${other.accountId}`, {})).json().account).toEqual({ id: other.accountId, name: 'Renamed Inc', hide_unassigned: true, messaging_enabled: true, default_bot_id: null, campaign_daily_limit: null, stop_words: ['STOP', 'UNSUBSCRIBE', 'הסר', 'הסרה'] });
    // Messaging off: every send of the account is refused, as the contract says.
    expect((await admin('PATCH', `/accounts/${ctx.accountId}`, { messaging_enabled: false })).json().account.messaging_enabled).toBe(false);
    await ctx.call('POST', api('add-new-customer'), { customer_phone: '972501239999' });
    expectError(await ctx.call('POST', api('send-text-message'), { customer_phone: '972501239999', text: 'hi' }), 401, 'User not authorized to send text messages.');
    await admin('PATCH', `/accounts/${ctx.accountId}`, { messaging_enabled: true });
  });
});

describeEachDatabase('people: the inbox admin screens', (kind) => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, PUBLIC_URL: 'https://crm.example.com/' });
  });
  afterAll(() => ctx?.close());

  it('are for admins only', async () => {
    for (const role of ['agent', 'supervisor'] as const) {
      const person = await signedInPerson(ctx, { role });
      expectError(await person.call('GET', '/app/api/admin/people'), 403, 'Only admins may do this');
      expectError(await person.call('POST', '/app/api/admin/people', { name: 'X' }), 403, 'Only admins may do this');
      expectError(await person.call('PATCH', '/app/api/admin/settings', { hide_unassigned: true }), 403, 'Only admins may do this');
    }
    expectError(await appCaller(ctx)('GET', '/app/api/admin/people'), 401, 'Not signed in');
  });

  it("let an admin manage their account's people, teams and settings, and nothing of another account", async () => {
    const adminPerson = await signedInPerson(ctx, { role: 'admin' });
    const created = await adminPerson.call('POST', '/app/api/admin/people', { name: 'Hila', email: 'hila@screens.test', role: 'agent' });
    expect(created.statusCode, created.body).toBe(201);
    // PUBLIC_URL (its trailing slash dropped), not the address the request came to.
    expect(created.json().invite_url).toMatch(/^https:\/\/crm\.example\.com\/app\/invite\/[\w-]{40,}$/);
    const hila = created.json().person;
    expect((await adminPerson.call('GET', '/app/api/admin/people')).json().people).toContainEqual(hila);

    const team = (await ctx.deps.database.db.insertInto('teams').values({ id: 'team-screens', account_id: ctx.accountId, name: 'Billing', created_at: '2026-06-01T00:00:00.000Z' }).returning('id').executeTakeFirstOrThrow());
    const joined = await adminPerson.call('POST', `/app/api/admin/teams/${team.id}/members`, { agent_id: hila.id });
    expect(joined.json().members.map((member: { id: string }) => member.id)).toEqual([hila.id]);
    expect((await adminPerson.call('GET', '/app/api/admin/teams')).json().teams).toContainEqual(expect.objectContaining({ id: team.id, member_ids: [hila.id] }));
    expect((await adminPerson.call('PATCH', `/app/api/admin/people/${hila.id}`, { role: 'supervisor' })).json().person.role).toBe('supervisor');
    expect((await adminPerson.call('POST', `/app/api/admin/people/${hila.id}/invite`)).json().invite_url).toMatch(/\/app\/invite\//);
    expect((await adminPerson.call('DELETE', `/app/api/admin/teams/${team.id}/members/${hila.id}`)).json().members).toEqual([]);

    expect((await adminPerson.call('PATCH', '/app/api/admin/settings', { hide_unassigned: true })).json().settings.hide_unassigned).toBe(true);
    expect((await adminPerson.call('GET', '/app/api/admin/settings')).json().settings).toEqual({ id: ctx.accountId, name: 'Test account', hide_unassigned: true, messaging_enabled: true, default_bot_id: null, campaign_daily_limit: null, stop_words: ['STOP', 'UNSUBSCRIBE', 'הסר', 'הסרה'] });
    await adminPerson.call('PATCH', '/app/api/admin/settings', { hide_unassigned: false });

    const other = await ctx.otherAccount();
    const stranger = await signedInPerson(ctx, { accountId: other.accountId, role: 'agent' });
    expectError(await adminPerson.call('PATCH', `/app/api/admin/people/${stranger.agentId}`, { name: 'Mine now' }), 404, 'Agent not found');
    expectError(await adminPerson.call('POST', `/app/api/admin/people/${stranger.agentId}/invite`), 404, 'Agent not found');
    expectError(await adminPerson.call('POST', `/app/api/admin/teams/${team.id}/members`, { agent_id: stranger.agentId }), 404, 'Agent not found');
    expect((await stranger.call('GET', '/app/api/me')).statusCode).toBe(200);
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const adminPerson = await signedInPerson(ctx, { role: 'admin' });
    const count = async () => (await adminPerson.call('GET', '/app/api/admin/people')).json().people.length;
    const before = await count();
    expectError(await adminPerson.call('POST', '/app/api/admin/people', { name: 'X', email: 'x@screens.test', team: 'a' }), 400, 'Unrecognized key: "team"');
    expectError(await adminPerson.call('POST', '/app/api/admin/people', { name: 'X', email: 'not-an-email' }), 400, 'email: email is not valid');
    expectError(await adminPerson.call('POST', '/app/api/admin/people', { name: 'X', role: ['admin'] }), 400, 'role: role must be one of admin, supervisor, agent');
    expect(await count()).toBe(before);
    expectError(await adminPerson.call('PATCH', '/app/api/admin/settings', { hide_unassigned: 'yes' }), 400, 'hide_unassigned: hide_unassigned must be true or false');
    expectError(await adminPerson.call('POST', '/app/api/admin/teams/any/members', { agent_id: 7 }), 400, 'agent_id: agent_id is required');
    expect((await adminPerson.call('GET', '/app/api/admin/settings')).json().settings.hide_unassigned).toBe(false);
  });

  it('do not let an admin lock themselves out; another admin can', async () => {
    const adminPerson = await signedInPerson(ctx, { role: 'admin' });
    const lockOut = 'You cannot disable yourself, remove your own email or give up your own admin role; another admin can';
    for (const patch of [{ disabled: true }, { role: 'supervisor' }, { email: null }, { name: 'Renamed', disabled: true }]) {
      expectError(await adminPerson.call('PATCH', `/app/api/admin/people/${adminPerson.agentId}`, patch), 400, lockOut);
    }
    expect((await adminPerson.call('GET', '/app/api/me')).json().user).toMatchObject({ role: 'admin', email: adminPerson.email });

    const other = await signedInPerson(ctx, { role: 'admin' });
    expect((await other.call('PATCH', `/app/api/admin/people/${adminPerson.agentId}`, { role: 'agent' })).json().person.role).toBe('agent');
    expectError(await adminPerson.call('GET', '/app/api/admin/people'), 403, 'Only admins may do this');
  });

  it('keeps an admin signed in where they changed their own email', async () => {
    const adminPerson = await signedInPerson(ctx, { role: 'admin' });
    const elsewhere = sessionCookieOf(await appCaller(ctx)('POST', '/app/api/session', { email: adminPerson.email, password: adminPerson.password }));
    const address = `moved.${adminPerson.agentId}@screens.test`;
    expect((await adminPerson.call('PATCH', `/app/api/admin/people/${adminPerson.agentId}`, { email: address })).json().person.email).toBe(address);
    expect((await adminPerson.call('GET', '/app/api/me')).json().user.email).toBe(address);
    expectError(await appCaller(ctx, elsewhere)('GET', '/app/api/me'), 401, 'Not signed in');
  });

  it('keeps an admin signed in where they changed their own password, and ends their other sessions', async () => {
    const adminPerson = await signedInPerson(ctx, { role: 'admin' });
    const elsewhere = sessionCookieOf(await appCaller(ctx)('POST', '/app/api/session', { email: adminPerson.email, password: adminPerson.password }));
    expect((await adminPerson.call('PATCH', `/app/api/admin/people/${adminPerson.agentId}`, { password: 'my new password!' })).statusCode).toBe(200);
    expect((await adminPerson.call('GET', '/app/api/me')).statusCode).toBe(200);
    expectError(await appCaller(ctx, elsewhere)('GET', '/app/api/me'), 401, 'Not signed in');
  });
});
