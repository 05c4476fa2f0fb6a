import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobWorker } from '../src/jobs/worker.js';
import { ensureRetentionJob, RETENTION_JOB, retentionJobHandler, runRetention } from '../src/modules/retention/retention.js';
import { createPerson } from '../src/modules/people/people.service.js';
import { UNLIMITED, api } from './api.js';
import { createTestContext, customerRow, describeEachDatabase, type TestContext } from './helpers.js';

const DAY = 86_400_000;

/** Retention: what each task deletes, what it keeps, and the durable job that runs them. */
describeEachDatabase('retention', (kind) => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext(kind, { ...UNLIMITED, MEDIA_RETENTION: '90d' });
  });
  afterAll(() => ctx?.close());

  const ago = (ms: number) => new Date(ctx.clock.now().getTime() - ms).toISOString();
  const ids = async (table: 'whatsapp_webhook_inbox' | 'pending_statuses' | 'sessions' | 'invitations' | 'jobs' | 'webhook_deliveries' | 'webhook_events') =>
    (await ctx.deps.database.db.selectFrom(table).select('id').execute()).map((row) => String(row.id)).sort();

  it('deletes what has served its purpose and keeps the rest', async () => {
    const { db } = ctx.deps.database;
    const inbox = (id: string, processedAt: string | null) => ({ id, body_sha256: id, body: '{}', received_at: ago(30 * DAY), processed_at: processedAt, outcome: null, unrouted_phone_number_ids: null, last_error: null, processed_by: null });
    await db.insertInto('whatsapp_webhook_inbox').values([inbox('old', ago(8 * DAY)), inbox('recent', ago(1 * DAY)), inbox('unprocessed', null)]).execute();
    const parked = (id: string, at: string) => ({ id, account_id: ctx.accountId, message_wa_id: `wamid.${id}`, status: 'delivered', error_code: null, error_title: null, occurred_at: at, created_at: at });
    await db.insertInto('pending_statuses').values([parked('old-status', ago(8 * DAY)), parked('new-status', ago(DAY))]).execute();

    const { agent } = await createPerson(ctx.deps, ctx.accountId, { name: 'P', email: 'retention@example.com', password: 'long enough pw' });
    const session = (id: string, lastSeen: string, expires: string) => ({ id, agent_id: agent.id, account_id: ctx.accountId, created_at: ago(40 * DAY), last_seen_at: lastSeen, expires_at: expires, ip: null, user_agent: null });
    await db.insertInto('sessions').values([session('expired', ago(DAY), ago(1000)), session('idle', ago(13 * 3_600_000), ago(-DAY)), session('alive', ago(1000), ago(-DAY))]).execute();
    await db.insertInto('invitations').values([{ id: 'gone', agent_id: agent.id, created_at: ago(8 * DAY), expires_at: ago(DAY) }, { id: 'valid', agent_id: agent.id, created_at: ago(DAY), expires_at: ago(-DAY) }]).execute();

    const job = (type: string, failedAt: string | null) => ({ type, payload: 'null', group_key: null, run_at: ago(40 * DAY), created_at: ago(40 * DAY), failed_at: failedAt, last_error: failedAt && 'x', locked_until: null, locked_by: null });
    await db.insertInto('jobs').values([job('old.failure', ago(31 * DAY)), job('new.failure', ago(DAY))]).execute();

    await db.insertInto('webhook_subscriptions').values({ id: 'sub', account_id: ctx.accountId, url: 'https://example.com/h', events: '[]', secret: 'whsec_x', status: 'active', disabled_reason: null, disabled_at: null, failing_since: null, created_at: ago(60 * DAY), updated_at: ago(60 * DAY) }).execute();
    const event = (id: string, at: string) => ({ id, account_id: ctx.accountId, type: 'customer.created', ordering_key: null, payload: '{}', created_at: at });
    await db.insertInto('webhook_events').values([event('e-old', ago(40 * DAY)), event('e-pending', ago(40 * DAY)), event('e-new', ago(DAY))]).execute();
    const delivery = (id: string, eventId: string, status: string, completedAt: string | null) => ({ id, account_id: ctx.accountId, subscription_id: 'sub', event_id: eventId, status, next_attempt_at: null, last_attempt_at: null, last_error: null, created_at: ago(40 * DAY), completed_at: completedAt });
    await db.insertInto('webhook_deliveries').values([delivery('d-old', 'e-old', 'succeeded', ago(31 * DAY)), delivery('d-pending', 'e-pending', 'pending', null), delivery('d-new', 'e-new', 'failed', ago(DAY))]).execute();
    await db.insertInto('webhook_attempts').values({ id: 'a-old', delivery_id: 'd-old', number: 1, attempted_at: ago(31 * DAY), response_status: 200, duration_ms: 5, error: null }).execute();

    const deleted = await runRetention(ctx.deps);
    expect(deleted).toMatchObject({ whatsapp_webhook_inbox: 1, pending_statuses: 1, sessions: 2, invitations: 1, failed_jobs: 1, webhook_deliveries: 1 });
    expect(await ids('whatsapp_webhook_inbox')).toEqual(['recent', 'unprocessed']);
    expect(await ids('pending_statuses')).toEqual(['new-status']);
    expect(await ids('sessions')).toEqual(['alive']);
    expect(await ids('invitations')).toEqual(['valid']);
    expect((await db.selectFrom('jobs').select('type').where('failed_at', 'is not', null).execute()).map((row) => row.type)).toEqual(['new.failure']);
    expect(await ids('webhook_deliveries')).toEqual(['d-new', 'd-pending']);
    expect(await ids('webhook_events')).toEqual(['e-new', 'e-pending']);
    expect(await db.selectFrom('webhook_attempts').selectAll().execute()).toEqual([]);
    // A second run finds nothing more.
    expect(Object.values(await runRetention(ctx.deps)).every((count) => count === 0)).toBe(true);
  });

  it('removes media files older than MEDIA_RETENTION, keeping their messages', async () => {
    const { db } = ctx.deps.database;
    const customerId = `c-media-${kind}`;
    await db.insertInto('customers').values(customerRow({ id: customerId, account_id: ctx.accountId, phone: '972501114001', created_at: ago(200 * DAY) })).execute();
    const file = (key: string) => join(ctx.deps.config.MEDIA_DIR, key);
    const oldKey = '00000000-0000-4000-8000-000000000001.png';
    const newKey = '00000000-0000-4000-8000-000000000002.png';
    for (const key of [oldKey, newKey]) writeFileSync(file(key), 'png');
    const message = (key: string, at: string) => ({
      account_id: ctx.accountId, customer_id: customerId, message_wa_id: `wamid.${key}`, direction: 'inbound', type: 'image', text: null, media_url: null, media_key: key,
      media_mime_type: 'image/png', media_filename: 'photo.png', template_id: null, business_phone: '15550000000', status: 'received', error_code: null, error_title: null, created_at: at, updated_at: at,
    });
    await db.insertInto('messages').values([message(oldKey, ago(91 * DAY)), message(newKey, ago(DAY))]).execute();
    expect((await runRetention(ctx.deps)).media).toBe(1);
    expect(existsSync(file(oldKey))).toBe(false);
    expect(existsSync(file(newKey))).toBe(true);
    const kept = await db.selectFrom('messages').select(['media_key', 'media_filename', 'type']).where('customer_id', '=', customerId).orderBy('created_at').execute();
    expect(kept).toEqual([{ media_key: null, media_filename: 'photo.png', type: 'image' }, { media_key: newKey, media_filename: 'photo.png', type: 'image' }]);

    // Deleting a customer removes their media at once.
    await ctx.call('DELETE', api('delete-customer'), { customer_phone: '972501114001' });
    expect(existsSync(file(newKey))).toBe(false);
  });

  it('runs as one durable job that schedules itself again', async () => {
    const { db } = ctx.deps.database;
    await ensureRetentionJob(ctx.deps);
    await ensureRetentionJob(ctx.deps);
    const scheduled = await db.selectFrom('jobs').select(['id', 'run_at']).where('type', '=', RETENTION_JOB).execute();
    expect(scheduled).toHaveLength(1);
    const worker = new JobWorker(ctx.deps, [retentionJobHandler(ctx.deps)]);
    ctx.clock.advance(61_000);
    expect(await worker.runDue()).toBe(1);
    const next = await db.selectFrom('jobs').select(['id', 'run_at', 'failed_at']).where('type', '=', RETENTION_JOB).execute();
    expect(next).toEqual([{ id: scheduled[0]!.id, run_at: new Date(ctx.clock.now().getTime() + 3_600_000).toISOString(), failed_at: null }]);
    expect(await worker.runDue()).toBe(0);
    ctx.clock.advance(3_600_000);
    expect(await worker.runDue()).toBe(1);
    await worker.stop();
  });
});
