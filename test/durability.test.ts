import { afterEach, beforeEach, expect, it } from 'vitest';
import { DurabilityError } from '../src/db/group-commit.js';
import { UNEXPECTED_ERROR } from '../src/errors.js';
import { api, customerOf, expectError, UNLIMITED } from './api.js';
import { createTestContext, describeEachDatabase, type TestContext } from './helpers.js';

/** Replies wait until the writes committed before them are durable (group commit on SQLite). */
describeEachDatabase('replies wait for durability', (kind) => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext(kind, UNLIMITED);
  });
  afterEach(async () => ctx.close());

  /** Holds every durable() until released, as a slow fsync would. */
  function holdDurability() {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = ctx.deps.database.durable;
    ctx.deps.database.durable = () => held.then(real);
    return release;
  }

  it('a write is not acknowledged before its commit is durable, and is afterwards', async () => {
    const release = holdDurability();
    let answered = false;
    const reply = ctx.call('POST', api('add-new-customer'), { customer_phone: '972501234567', name: 'Dana' }).then((response) => {
      answered = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    release();
    expect((await reply).statusCode).toBe(200);
    expect((await customerOf(ctx.call, '972501234567')).name).toBe('Dana');
  });

  it('when the database cannot make its writes durable, replies are 500s and /healthz says 503', async () => {
    ctx.deps.database.durable = () => Promise.reject(new DurabilityError(new Error('EIO: i/o error, fsync')));
    expectError(await ctx.call('POST', api('add-new-customer'), { customer_phone: '972501234568' }), 500, UNEXPECTED_ERROR);
    expectError(await ctx.call('GET', api('get-customer'), { customer_phone: '972501234568' }), 500, UNEXPECTED_ERROR);
    const health = await ctx.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
  });
});
