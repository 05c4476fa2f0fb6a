import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mediaSample } from '../../test/media-samples.js';
import { ManualClock } from '../clock.js';
import { DirectoryMediaStore } from '../media/media-store.js';
import { isValidPhone } from '../phone.js';
import { ManualScheduler } from '../scheduler.js';
import { ACCOUNT_ID, RecordedEvents, type ChannelHarness } from '../../test/recorded-events.js';
import { ChannelError, type Channel, type TemplateDefinition, type TemplateSubmission } from './channel.js';
import { SandboxChannel } from './sandbox/sandbox-channel.js';
import { createCloudApiContractHarness } from '../../test/cloud-api-fixture.js';

/**
 * The behaviour every channel owes the rest of the code. Each implementation runs this suite with
 * a harness of its own (the Cloud API channel against the Graph API simulator): add it at the end
 * of this file, rather than importing the suite elsewhere (that would run every harness again).
 */


const CUSTOMER = '972501234567';
const TEMPLATE: TemplateDefinition = {
  name: 'order_update',
  language: 'en_US',
  category: 'UTILITY',
  body: 'Hi {{1}}! Your order {{2}} is on its way.',
  bodyExamples: ['John', '#12345'],
  header: { format: 'IMAGE', mediaUrl: 'https://example.com/banner.jpg' },
  footer: 'Thanks',
  buttons: [
    { type: 'QUICK_REPLY', text: 'Thanks' },
    { type: 'URL', text: 'Track', url: 'https://example.com/track/{{1}}', example: 'A1' },
  ],
};

export function describeChannelContract(name: string, createHarness: () => Promise<ChannelHarness>): void {
  describe(`channel contract: ${name}`, () => {
    let harness: ChannelHarness;
    let messageId = 0;
    const nextId = () => ++messageId;

    beforeEach(async () => {
      harness = await createHarness();
    });
    afterEach(async () => {
      await harness.close();
    });

    it('has a business number', () => {
      expect(isValidPhone(harness.channel.phoneNumber)).toBe(true);
    });

    it('gives each accepted message its own WhatsApp id', async () => {
      const first = await harness.channel.sendText({ messageId: nextId(), to: CUSTOMER, text: 'Hello' });
      const second = await harness.channel.sendText({ messageId: nextId(), to: CUSTOMER, text: 'Hello' });
      expect(first.messageWaId).toMatch(/^wamid\.\S+$/);
      expect(second.messageWaId).not.toBe(first.messageWaId);
    });

    it('reports statuses of a message it accepted, sent first, in progress order, with our message id', async () => {
      const id = nextId();
      const { messageWaId } = await harness.channel.sendText({ messageId: id, to: CUSTOMER, text: 'Hello' });
      await harness.settle();
      const statuses = harness.events.statusesOf(messageWaId);
      expect(statuses[0]).toBe('sent');
      const order = ['sent', 'delivered', 'read'];
      expect(statuses.map((status) => order.indexOf(status))).toEqual([...statuses.keys()]);
      for (const update of harness.events.statuses) {
        expect(update.messageWaId).toBe(messageWaId);
        expect(update.messageId).toBe(id);
        expect(update.timestamp).toBeInstanceOf(Date);
      }
    });

    it('refuses a recipient that is no phone number, with a code, and reports nothing', async () => {
      const refusal = await harness.channel.sendText({ messageId: nextId(), to: '12', text: 'Hello' }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ChannelError);
      expect((refusal as ChannelError).code).toEqual(expect.any(Number));
      await harness.settle();
      expect(harness.events.statuses).toEqual([]);
    });

    it('sends media by link', async () => {
      const sent = await harness.channel.sendMedia({
        messageId: nextId(),
        to: CUSTOMER,
        kind: 'image',
        source: { link: 'https://example.com/photo.jpg' },
        caption: 'Look',
        filename: null,
      });
      expect(sent.messageWaId).toMatch(/^wamid\./);
    });

    it('sends media from the media store, and refuses a file that is not there', async () => {
      const key = await harness.storeMedia('pdf', mediaSample('pdf', 2048));
      const message = { to: CUSTOMER, kind: 'document' as const, caption: null, filename: 'invoice.pdf' };
      const sent = await harness.channel.sendMedia({ ...message, messageId: nextId(), source: { stored: { key, mimeType: 'application/pdf' } } });
      expect(sent.messageWaId).toMatch(/^wamid\./);
      const missing = { key: '00000000-0000-4000-8000-000000000000.pdf', mimeType: 'application/pdf' };
      await expect(harness.channel.sendMedia({ ...message, messageId: nextId(), source: { stored: missing } })).rejects.toBeInstanceOf(ChannelError);
    });

    it('submits a template for review, reports the verdict, then sends it with its parameters', async () => {
      const submission = await harness.channel.submitTemplate(TEMPLATE);
      expect(submission).toEqual({ providerTemplateId: expect.stringMatching(/\S/), status: 'PENDING' });
      await harness.approveTemplate(TEMPLATE, submission);
      await harness.settle();
      expect(harness.events.templateStatuses).toEqual([
        { providerTemplateId: submission.providerTemplateId, name: TEMPLATE.name, language: TEMPLATE.language, status: 'APPROVED', reason: null },
      ]);
      const sent = await harness.channel.sendTemplate({
        messageId: nextId(),
        to: CUSTOMER,
        name: TEMPLATE.name,
        language: TEMPLATE.language,
        providerTemplateId: submission.providerTemplateId,
        bodyParameters: ['Dana', '#777'],
        urlButtonParameters: [{ index: 1, value: 'A777' }],
        headerMedia: { format: 'IMAGE', link: 'https://example.com/other.jpg' },
      });
      expect(sent.messageWaId).toMatch(/^wamid\./);
    });
  });
}

describeChannelContract('sandbox', async () => {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const dir = mkdtempSync(join(tmpdir(), 'openmumble-contract-'));
  const media = new DirectoryMediaStore(dir);
  const events = new RecordedEvents();
  const channel = new SandboxChannel(ACCOUNT_ID, { statusDelayMs: 1000, autoApproveSeconds: undefined }, { events, scheduler, clock, media });
  return {
    channel,
    events,
    settle: () => scheduler.advance(60_000),
    storeMedia: async (extension, content) => {
      const staged = await media.stage(Readable.from([content]), extension);
      await media.commit(staged);
      return staged.key;
    },
    approveTemplate: (template, submission) =>
      channel.setTemplateStatus({ providerTemplateId: submission.providerTemplateId, name: template.name, language: template.language, status: 'APPROVED', reason: null }),
    close: async () => {
      await scheduler.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeChannelContract('cloud api (Graph API simulator, signed webhooks)', createCloudApiContractHarness);
