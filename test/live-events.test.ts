import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Viewer } from '../src/http/viewer.js';
import { recordLiveEvent } from '../src/modules/live/live-events.js';
import { LiveStream } from '../src/modules/live/live-stream.js';
import { runRetention } from '../src/modules/retention/retention.js';
import { api, newTenant, UNLIMITED, type Tenant } from './api.js';
import { createTestContext, describeEachDatabase, until, type TestContext } from './helpers.js';
import { CSRF, signedInPerson, type SignedInPerson } from './inbox-helpers.js';
import { openSse, type SseEvent, type SseStream } from './sse-client.js';

/**
 * GET /app/api/events through the real HTTP server: what each person hears (the visibility rule per
 * connection, before and after a reassignment, events for one person only), resuming with
 * Last-Event-ID, reset when that is too old, heartbeats, the session check, and cleaning up.
 */

let phones = 0;
const newPhone = () => `9725${String(process.pid % 1000).padStart(3, '0')}${String(++phones).padStart(5, '0')}`;

describeEachDatabase('live events', (kind) => {
  let ctx: TestContext;
  let base: string;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, LIVE_HEARTBEAT_INTERVAL: '200ms', LIVE_SESSION_CHECK_INTERVAL: '200ms' });
    base = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await ctx?.close();
  });

  /** Opens the person's stream and waits until it is live. */
  async function listen(person: Pick<SignedInPerson, 'cookie'>, headers: Record<string, string> = {}, query = ''): Promise<SseStream> {
    const stream = await openSse(`${base}/app/api/events${query}`, { cookie: person.cookie, ...headers });
    streams.push(stream);
    expect(stream.status).toBe(200);
    await stream.next((event) => event.event === 'ready', 'the stream to be ready');
    return stream;
  }

  /** A tenant with a team, two agents (one in the team), a supervisor, and a label. */
  async function world() {
    const t: Tenant = await newTenant(ctx);
    const team = await t.add('teams', 'Support');
    const otherTeam = await t.add('teams', 'Billing');
    const alice = await signedInPerson(ctx, { accountId: t.accountId, teamIds: [team], name: 'Alice' });
    const bob = await signedInPerson(ctx, { accountId: t.accountId, name: 'Bob' });
    const sue = await signedInPerson(ctx, { accountId: t.accountId, role: 'supervisor', name: 'Sue' });
    expect((await t.call('POST', api('add-new-label'), { label_name: 'vip' })).statusCode).toBe(200);
    const customer = async (assignment: { agent?: string; team?: string } = {}) => {
      const phone = newPhone();
      expect((await t.call('POST', api('add-new-customer'), { customer_phone: phone, name: `Customer ${phone}` })).statusCode).toBe(200);
      if (assignment.agent) expect((await t.call('POST', api('assign-customer-to-agent'), { customer_phone: phone, agent_id: assignment.agent })).statusCode).toBe(200);
      if (assignment.team) expect((await t.call('POST', api('assign-customer-to-team'), { customer_phone: phone, team_id: assignment.team })).statusCode).toBe(200);
      const { customer: record } = (await t.call('GET', `${api('get-customer')}?customer_phone=${phone}`)).json();
      return { phone, id: record.id as string };
    };
    const label = async (phone: string) => expect((await t.call('POST', api('add-customer-to-label'), { customer_phone: phone, label_name: 'vip' })).statusCode).toBe(200);
    return { t, team, otherTeam, alice, bob, sue, customer, label };
  }

  const labelled = (customerId: string) => (event: SseEvent) => event.event === 'conversation.labels' && event.data.customer_id === customerId;
  const customersOf = (stream: SseStream, type: string) => stream.ofType(type).map((event) => event.data.customer_id as string);

  it('gives each person the events of the conversations they may see, and no others', async () => {
    const w = await world();
    const mine = await w.customer({ agent: w.alice.agentId });
    const bobs = await w.customer({ agent: w.bob.agentId });
    const teams = await w.customer({ team: w.team });
    const otherTeams = await w.customer({ team: w.otherTeam });
    const unassigned = await w.customer();
    const [alice, bob, sue] = [await listen(w.alice), await listen(w.bob), await listen(w.sue)];
    for (const customer of [mine, bobs, teams, otherTeams, unassigned]) await w.label(customer.phone);

    await until(() => sue.ofType('conversation.labels').length === 5, 'the supervisor to hear of every label');
    // Events reach every stream in the order they were committed; the last label went to the unassigned customer.
    await alice.next(labelled(unassigned.id), "alice's last event");
    await bob.next(labelled(unassigned.id), "bob's last event");
    expect(customersOf(alice, 'conversation.labels')).toEqual([mine.id, teams.id, unassigned.id]);
    expect(customersOf(bob, 'conversation.labels')).toEqual([bobs.id, unassigned.id]);
    expect(customersOf(sue, 'conversation.labels')).toEqual([mine.id, bobs.id, teams.id, otherTeams.id, unassigned.id]);

    const event = sue.ofType('conversation.labels')[0]!;
    expect(event.id).toMatch(/^\d+$/);
    expect(event.data).toEqual({ type: 'conversation.labels', customer_id: mine.id, at: expect.any(String), label: 'vip', action: 'added' });

    // Another account's people hear nothing of it.
    const stranger = await signedInPerson(ctx, { role: 'admin' });
    const strangers = await listen(stranger);
    await w.label((await w.customer()).phone);
    await sue.next((e) => e.event === 'conversation.labels' && sue.ofType('conversation.labels').length === 6, 'the sixth label');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(strangers.ofType('conversation.labels')).toEqual([]);
  });

  it('tells the person who loses a conversation that it went, and then nothing more; the one who gains it hears from then on', async () => {
    const w = await world();
    const customer = await w.customer({ agent: w.bob.agentId });
    const [alice, bob] = [await listen(w.alice), await listen(w.bob)];

    expect((await w.t.call('POST', api('assign-customer-to-agent'), { customer_phone: customer.phone, agent_id: w.alice.agentId })).statusCode).toBe(200);
    // This assignment, not the one that gave the customer to Bob (under load its notification can reach a stream opened after it).
    const moved = (event: SseEvent) => event.event === 'conversation.assigned' && event.data.customer_id === customer.id && event.data.agent_id === w.alice.agentId;
    for (const stream of [alice, bob]) {
      const event = await stream.next(moved, 'the assignment');
      expect(event.data).toMatchObject({ agent_id: w.alice.agentId, previous_agent_id: w.bob.agentId, team_id: null, previous_team_id: null });
    }

    await w.label(customer.phone);
    await alice.next(labelled(customer.id), 'the label, for the new assignee');
    // Bob hears of a change of a conversation he still sees (an unassigned one) but not of this one.
    const unassigned = await w.customer();
    await w.label(unassigned.phone);
    await bob.next(labelled(unassigned.id), 'the label of the unassigned conversation');
    expect(customersOf(bob, 'conversation.labels')).toEqual([unassigned.id]);
  });

  it('sends an event addressed to one person to that person only, not even to a supervisor', async () => {
    const w = await world();
    const customer = await w.customer({ agent: w.alice.agentId });
    const [alice, sue] = [await listen(w.alice), await listen(w.sue)];
    await ctx.deps.database.db.transaction().execute(async (trx) => {
      await recordLiveEvent(trx, {
        accountId: w.t.accountId,
        type: 'conversation.read',
        customer: { id: customer.id, agent_id: w.alice.agentId, team_id: null },
        recipientAgentId: w.alice.agentId,
        data: { customer_id: customer.id, unread: 0 },
        occurredAt: ctx.clock.now(),
      });
    });
    await w.label(customer.phone);
    const read = await alice.next((event) => event.event === 'conversation.read', 'the read mark');
    expect(read.data).toMatchObject({ customer_id: customer.id, unread: 0 });
    await sue.next(labelled(customer.id), "the supervisor's next event");
    expect(sue.ofType('conversation.read')).toEqual([]);
  });

  it('streams what the Mumble API and WhatsApp change: messages in and out, their statuses, status, bot, edits and deletion', async () => {
    const w = await world();
    const sue = await listen(w.sue);
    const phone = newPhone();
    const received = await w.t.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text: 'Hello there', name: 'Dana' });
    expect(received.statusCode).toBe(200);
    const inbound = await sue.next((event) => event.event === 'message.created' && event.data.message.direction === 'inbound', 'the inbound message');
    expect(inbound.data.message).toMatchObject({ text: 'Hello there', direction: 'inbound', sender: null, message_wa_id: received.json().message_wa_id });
    const customerId = inbound.data.customer_id as string;

    const sent = await w.t.call('POST', api('send-text-message'), { customer_phone: phone, text: 'Hi Dana' });
    expect(sent.statusCode).toBe(200);
    const outbound = await sue.next((event) => event.event === 'message.created' && event.data.message.direction === 'outbound', 'the outbound message');
    expect(outbound.data).toMatchObject({ customer_id: customerId, message: { id: sent.json().id, text: 'Hi Dana', status: 'pending', sender: { type: 'api' } } });
    await ctx.scheduler.advance(10_000);
    const statuses = async () => sue.ofType('message.status').filter((event) => event.data.message_id === sent.json().id).map((event) => event.data.status);
    await until(async () => (await statuses()).includes('read'), 'the sandbox statuses');
    expect(await statuses()).toEqual(['sent', 'delivered', 'read']);

    expect((await w.t.call('POST', api('edit-customer-conv-status'), { customer_phone: phone, status: 'closed' })).statusCode).toBe(200);
    const status = await sue.next((event) => event.event === 'conversation.status', 'the status change');
    expect(status.data).toMatchObject({ customer_id: customerId, status: 'closed', previous_status: expect.any(String) });
    // A message reopens it: the inbox hears that too.
    await w.t.call('POST', api('sandbox/receive-message'), { customer_phone: phone, text: 'One more thing' });
    await sue.next((event) => event.event === 'conversation.status' && event.data.status === 'reopened', 'the reopening');

    expect((await w.t.call('POST', api('edit-customer'), { customer_phone: phone, name: 'Dana Levi' })).statusCode).toBe(200);
    await sue.next((event) => event.event === 'customer.updated' && event.data.customer_id === customerId, 'the edit');

    const bot = await w.t.add('bots', 'Greeter');
    expect((await w.t.call('POST', api('assign-bot'), { customer_phone: phone, bot_token: bot })).statusCode).toBe(200);
    const botEvent = await sue.next((event) => event.event === 'conversation.bot', 'the bot');
    expect(botEvent.data).toMatchObject({ customer_id: customerId, bot, active: true });

    expect((await w.t.call('DELETE', api('remove-customer-from-label'), { customer_phone: phone, label_name: 'vip' })).statusCode).toBe(400);
    await w.label(phone);
    expect((await w.t.call('DELETE', api('remove-customer-from-label'), { customer_phone: phone, label_name: 'vip' })).statusCode).toBe(200);
    await sue.next((event) => event.event === 'conversation.labels' && event.data.action === 'removed', 'the label removal');

    expect((await w.t.call('DELETE', api('delete-customer'), { customer_phone: phone })).statusCode).toBe(200);
    await sue.next((event) => event.event === 'customer.deleted' && event.data.customer_id === customerId, 'the deletion');
  });

  it('resumes from Last-Event-ID with what the person missed and may see, header or query parameter', async () => {
    const w = await world();
    const first = await w.customer();
    const bobs = await w.customer({ agent: w.bob.agentId });
    let alice = await listen(w.alice);
    await w.label(first.phone);
    const last = await alice.next(labelled(first.id), 'the first label');
    const open = ctx.deps.live.subscriberCount;
    alice.close();
    await until(() => ctx.deps.live.subscriberCount === open - 1, 'the stream to be let go');

    const missed = await w.customer();
    await w.label(bobs.phone);
    await w.label(missed.phone);
    alice = await listen(w.alice, { 'last-event-id': last.id! });
    expect(alice.ofType('ready')[0]!.data).toMatchObject({ resumed: true });
    expect(customersOf(alice, 'conversation.labels')).toEqual([missed.id]);
    // The replay came before `ready`, in order.
    expect(alice.events.map((event) => event.event).slice(-2)).toEqual(['conversation.labels', 'ready']);
    expect(alice.ofType('ready')[0]!.id).toBeUndefined();

    const polyfill = await listen(w.alice, {}, `?last_event_id=${last.id}`);
    expect(customersOf(polyfill, 'conversation.labels')).toEqual([missed.id]);
  });

  it('says reset when Last-Event-ID is older than what is kept, or unknown, and streams on', async () => {
    const w = await world();
    const customer = await w.customer();
    const sue = await listen(w.sue);
    await w.label(customer.phone);
    const old = await sue.next(labelled(customer.id), 'the label');
    ctx.clock.advance(ctx.deps.config.LIVE_EVENTS_RETENTION + 60_000);
    await runRetention(ctx.deps);

    for (const id of [old.id!, 'not-a-number']) {
      const resumed = await listen(w.sue, { 'last-event-id': id });
      expect(resumed.events.map((event) => event.event)).toEqual(['reset', 'ready']);
      expect(resumed.ofType('ready')[0]!.data).toMatchObject({ resumed: false });
      expect(resumed.ofType('conversation.labels')).toEqual([]);
    }
    await w.label((await w.customer()).phone);
    const fresh = await listen(w.sue);
    expect(fresh.ofType('reset')).toEqual([]);
    // A new stream names where it starts, so a reconnection before any event resumes from there.
    const start = fresh.ofType('ready')[0]!.id;
    expect(start).toMatch(/^\d+$/);
    const other = await w.customer();
    await w.label(other.phone);
    await fresh.next(labelled(other.id), 'a new event');
    const resumed = await listen(w.sue, { 'last-event-id': start! });
    expect(customersOf(resumed, 'conversation.labels')).toContain(other.id);
  });

  it('keeps the stream open with heartbeats and answers as an event stream', async () => {
    const w = await world();
    const stream = await listen(w.alice);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('cache-control')).toMatch(/^no-cache/);
    expect(stream.headers.get('x-accel-buffering')).toBe('no');
    expect(stream.retry).toBeGreaterThan(0);
    await until(() => stream.comments.filter((comment) => comment === 'ping').length >= 2, 'two heartbeats', { limitMs: 3_000 });
  });

  it('refuses a request without a session', async () => {
    const stream = await openSse(`${base}/app/api/events`);
    expect(stream.status).toBe(401);
    const wrong = await openSse(`${base}/app/api/events`, { cookie: 'om_session=nope' });
    expect(wrong.status).toBe(401);
  });

  it('ends the stream when the session ends or the person is disabled, and follows a change of teams', async () => {
    const w = await world();
    const teams = await w.customer({ team: w.team });
    const alice = await listen(w.alice);
    await w.label(teams.phone);
    await alice.next(labelled(teams.id), 'the label of a team conversation');

    // Alice leaves the team: within a session check, its conversations are no longer hers to hear of.
    await ctx.deps.database.db.deleteFrom('team_members').where('agent_id', '=', w.alice.agentId).execute();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await w.t.call('DELETE', api('remove-customer-from-label'), { customer_phone: teams.phone, label_name: 'vip' })).statusCode).toBe(200);
    const unassigned = await w.customer();
    await w.label(unassigned.phone);
    await alice.next(labelled(unassigned.id), 'a later event');
    expect(alice.ofType('conversation.labels').filter((event) => event.data.customer_id === teams.id)).toHaveLength(1);

    // Signing out elsewhere ends this session's stream.
    expect((await w.alice.call('DELETE', '/app/api/session', undefined, CSRF)).statusCode).toBe(200);
    await until(() => alice.ended, 'the stream to end at sign-out', { limitMs: 3_000 });
    expect(alice.ofType('signed_out')).toHaveLength(1);

    const bob = await listen(w.bob);
    await ctx.deps.database.db.updateTable('agents').set({ disabled_at: ctx.clock.now().toISOString() }).where('id', '=', w.bob.agentId).execute();
    await until(() => bob.ended, 'the stream of a disabled person to end', { limitMs: 3_000 });
  });

  it.skipIf(kind !== 'postgres')('catches up after the listening connection to PostgreSQL drops', async () => {
    const w = await world();
    const customer = await w.customer();
    const sue = await listen(w.sue);
    const pid = ctx.deps.live.listenerProcessId();
    expect(pid).toBeGreaterThan(0);
    await sql`select pg_terminate_backend(${pid})`.execute(ctx.deps.database.db);
    // Committed while nobody listens: the hub reads it from the table once it listens again.
    await w.label(customer.phone);
    await sue.next(labelled(customer.id), 'the label committed during the outage', 10_000);
    await until(() => ctx.deps.live.listenerProcessId() !== pid, 'a new listening connection');
    const later = await w.customer();
    await w.label(later.phone);
    await sue.next(labelled(later.id), 'a label after the outage');
    expect(sue.ofType('conversation.labels').filter((event) => event.data.customer_id === customer.id)).toHaveLength(1);
  });

  it('lets go of a stream when its client disconnects', async () => {
    const w = await world();
    const gauge = async () => Number(/^openmumble_live_connections (\d+)$/m.exec((await ctx.app.inject({ method: 'GET', url: '/metrics' })).body)![1]);
    const before = ctx.deps.live.subscriberCount;
    expect(await gauge()).toBe(before);
    const streamsOpen = [await listen(w.alice), await listen(w.bob)];
    expect(ctx.deps.live.subscriberCount).toBe(before + 2);
    expect(await gauge()).toBe(before + 2);
    for (const stream of streamsOpen) stream.close();
    await until(() => ctx.deps.live.subscriberCount === before, 'the streams to be let go');
    expect(await gauge()).toBe(before);
  });

  it('disconnects a client that falls too far behind (it resumes with Last-Event-ID)', async () => {
    const w = await world();
    const viewer: Viewer = {
      agentId: w.sue.agentId,
      accountId: w.t.accountId,
      accountName: 'Test',
      name: 'Sue',
      email: w.sue.email,
      role: 'supervisor',
      teamIds: [],
      hideUnassigned: false,
      sessionId: 'unused',
      language: null,
    };
    // A client that reads nothing: what is written stays in the response's buffer.
    const sink = new Writable({ highWaterMark: 1024, write: () => {} });
    const ended: string[] = [];
    const stream = new LiveStream({
      database: ctx.deps.database,
      hub: ctx.deps.live,
      viewer,
      reloadViewer: async () => viewer,
      lastEventId: undefined,
      heartbeatMs: 60_000,
      sessionCheckMs: 60_000,
      maxBufferedBytes: 4 * 1024,
      onEnd: (reason) => ended.push(reason),
    });
    await stream.subscribe();
    await stream.start(Object.assign(sink, { end: () => sink.destroy() }));
    const subscribed = ctx.deps.live.subscriberCount;
    const customer = await w.customer();
    for (let n = 0; n < 40 && ended.length === 0; n++) {
      await w.t.call('POST', api('sandbox/receive-message'), { customer_phone: customer.phone, text: `message ${n} ${'x'.repeat(200)}` });
    }
    await until(() => ended.length > 0, 'the slow client to be disconnected');
    expect(ended).toEqual(['slow']);
    expect(sink.destroyed).toBe(true);
    expect(ctx.deps.live.subscriberCount).toBe(subscribed - 1);
  });
});

describeEachDatabase('live events when the server closes', (kind) => {
  it('ends open streams so the server can close', async () => {
    const ctx = await createTestContext(kind, UNLIMITED);
    const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const person = await signedInPerson(ctx);
    const stream = await openSse(`${base}/app/api/events`, { cookie: person.cookie });
    await stream.next((event) => event.event === 'ready', 'ready');
    await ctx.close();
    await until(() => stream.ended, 'the stream to end');
  });
});
