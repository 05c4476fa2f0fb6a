import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliWith } from './cli-run.js';
import { JobWorker } from '../src/jobs/worker.js';
import { createWebhookDelivery } from '../src/modules/webhooks/delivery.js';
import { sealPlainWebhookSecrets } from '../src/modules/secrets/secrets.service.js';
import { CHANNEL_TOKEN, isSealed, KeyRing, TokenCipher, WEBHOOK_SECRET } from '../src/secrets/secret-box.js';
import { createScratchDatabase, createSecondInstance, createTestContext, describeEachDatabase, type TestContext } from './helpers.js';
import { startServerProcess } from './processes.js';
import { startReceiver, verifyStandardWebhook, type Receiver } from './webhooks-receiver.js';

/** Webhook signing secrets and WhatsApp tokens at rest, and `openmumble secrets rotate`. */
const OLD_KEY = 'old-secret-key-old-secret-key-old-secret-key';
const NEW_KEY = 'new-secret-key-new-secret-key-new-secret-key';

describeEachDatabase('secrets at rest', (kind) => {
  let ctx: TestContext;
  let receiver: Receiver;
  const closing: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  async function setUp(env: Record<string, string>) {
    ctx = await createTestContext(kind, { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', ...env });
    receiver = await startReceiver();
    closing.push(() => receiver.close(), () => ctx.close());
  }
  const addWebhook = async (call = ctx.call) => {
    const response = await call('POST', '/mumbleapi/add-webhook', { url: `${receiver.url}/hook`, events: ['customer.created'] });
    expect(response.statusCode).toBe(200);
    return response.json().webhook as { id: string; secret: string };
  };
  const storedSecret = async (id: string) => (await ctx.deps.database.db.selectFrom('webhook_subscriptions').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
  /** Delivers what is due with a worker of `deps`, and checks the last delivery's signature. */
  async function deliveredAndVerified(deps: TestContext['deps'], secret: string, phone: string): Promise<boolean> {
    await ctx.call('POST', '/mumbleapi/add-new-customer', { customer_phone: phone });
    const delivery = createWebhookDelivery(deps, { random: () => 0 });
    const worker = new JobWorker(deps, [delivery.handler]);
    await worker.runDue();
    await delivery.close();
    const request = receiver.received.at(-1)!;
    return request.body.includes(phone) && verifyStandardWebhook(secret, request.headers, request.body);
  }

  it('seals a new webhook secret with OPENMUMBLE_SECRET_KEY, returns it in clear once, and signs with it', async () => {
    await setUp({ OPENMUMBLE_SECRET_KEY: NEW_KEY });
    const webhook = await addWebhook();
    expect(webhook.secret).toMatch(/^whsec_/);
    const stored = await storedSecret(webhook.id);
    expect(isSealed(stored)).toBe(true);
    expect(stored).not.toContain(webhook.secret.slice(6, 20));
    expect(await deliveredAndVerified(ctx.deps, webhook.secret, '972501112001')).toBe(true);
  });

  it('keeps a secret in clear without a key (add-webhook works on a fresh install), and seals it at the next start with one', async () => {
    await setUp({});
    const webhook = await addWebhook();
    expect(await storedSecret(webhook.id)).toBe(webhook.secret);
    const withKey = await createSecondInstance(ctx, { OPENMUMBLE_SECRET_KEY: NEW_KEY });
    closing.unshift(() => withKey.close());
    await sealPlainWebhookSecrets(withKey.deps);
    expect(isSealed(await storedSecret(webhook.id))).toBe(true);
    expect(await deliveredAndVerified(withKey.deps, webhook.secret, '972501112002')).toBe(true);
  });

  it('rotates: with the previous key set every stored secret still opens, and `secrets rotate` moves them all to the new key', async () => {
    await setUp({ OPENMUMBLE_SECRET_KEY: OLD_KEY });
    const webhook = await addWebhook();
    const token = new TokenCipher(OLD_KEY, CHANNEL_TOKEN).encrypt('EAAG-access-token', `whatsapp_channel:${ctx.accountId}`);
    const at = ctx.clock.now().toISOString();
    await ctx.deps.database.db
      .insertInto('whatsapp_channels')
      .values({ account_id: ctx.accountId, phone_number_id: '1234567890', waba_id: '987', display_phone_number: '15550001111', access_token: token, status_reason: null, status_changed_at: at, created_at: at, updated_at: at })
      .execute();

    const rotating = await createSecondInstance(ctx, { OPENMUMBLE_SECRET_KEY: NEW_KEY, OPENMUMBLE_SECRET_KEY_PREVIOUS: OLD_KEY });
    closing.unshift(() => rotating.close());
    expect(await deliveredAndVerified(rotating.deps, webhook.secret, '972501112003')).toBe(true);

    const rotated = await runCliWith({ DATABASE_URL: ctx.testDatabase.url, OPENMUMBLE_SECRET_KEY: NEW_KEY, OPENMUMBLE_SECRET_KEY_PREVIOUS: OLD_KEY, LOG_LEVEL: 'silent' }, 'secrets', 'rotate');
    expect(rotated.failed, rotated.err).toBe(false);
    expect(rotated.out).toContain('sealed 1 WhatsApp access token(s), 1 webhook signing secret(s) and 0 AI provider key(s) with the current key');

    const newOnly = await createSecondInstance(ctx, { OPENMUMBLE_SECRET_KEY: NEW_KEY });
    closing.unshift(() => newOnly.close());
    const channel = await ctx.deps.database.db.selectFrom('whatsapp_channels').select('access_token').executeTakeFirstOrThrow();
    expect(new KeyRing({ OPENMUMBLE_SECRET_KEY: NEW_KEY }, CHANNEL_TOKEN, 'x').decrypt(channel.access_token, `whatsapp_channel:${ctx.accountId}`)).toBe('EAAG-access-token');
    expect(await deliveredAndVerified(newOnly.deps, webhook.secret, '972501112004')).toBe(true);
  });

  it('refuses to rotate when a secret opens with neither key, and changes nothing', async () => {
    await setUp({ OPENMUMBLE_SECRET_KEY: OLD_KEY });
    const webhook = await addWebhook();
    const before = await storedSecret(webhook.id);
    const refused = await runCliWith({ DATABASE_URL: ctx.testDatabase.url, OPENMUMBLE_SECRET_KEY: NEW_KEY, LOG_LEVEL: 'silent' }, 'secrets', 'rotate');
    expect(refused.failed).toBe(true);
    expect(refused.err).toContain('the stored webhook signing secret cannot be decrypted');
    expect(await storedSecret(webhook.id)).toBe(before);
  });
});

describe('a server start with OPENMUMBLE_SECRET_KEY', () => {
  it('seals the webhook secrets stored in clear before the key was set', async () => {
    const database = await createScratchDatabase('sqlite');
    const apiKey = `om_live_${'sealatstartuptest'.repeat(3)}`;
    const env = { DATABASE_URL: database.url, OPENMUMBLE_API_KEY: apiKey, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
    try {
      const before = await startServerProcess({ env });
      const added = await fetch(`${before.url}/mumbleapi/add-webhook`, {
        method: 'POST',
        headers: { 'mumble-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
      });
      const { secret } = ((await added.json()) as { webhook: { secret: string } }).webhook;
      await before.stop();
      const stored = () => {
        const db = new SQLite(database.url.slice('sqlite:'.length), { readonly: true });
        try {
          return (db.prepare('select secret from webhook_subscriptions').get() as { secret: string }).secret;
        } finally {
          db.close();
        }
      };
      expect(stored()).toBe(secret);
      const after = await startServerProcess({ env: { ...env, OPENMUMBLE_SECRET_KEY: NEW_KEY } });
      await after.stop();
      expect(isSealed(stored())).toBe(true);
      expect(new KeyRing({ OPENMUMBLE_SECRET_KEY: NEW_KEY }, WEBHOOK_SECRET, 'x').decrypt(stored(), (await accountOf(database.url))!)).toBe(secret);
    } finally {
      await database.drop();
    }
  }, 60_000);
});

async function accountOf(url: string): Promise<string | undefined> {
  const db = new SQLite(url.slice('sqlite:'.length), { readonly: true });
  try {
    return (db.prepare('select account_id from webhook_subscriptions').get() as { account_id: string } | undefined)?.account_id;
  } finally {
    db.close();
  }
}
