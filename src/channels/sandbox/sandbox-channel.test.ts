import { describe, expect, it } from 'vitest';
import { ACCOUNT_ID, RecordedEvents } from '../../../test/recorded-events.js';
import { ManualClock } from '../../clock.js';
import { DirectoryMediaStore } from '../../media/media-store.js';
import { ManualScheduler } from '../../scheduler.js';
import type { TemplateDefinition } from '../channel.js';
import { SandboxChannel } from './sandbox-channel.js';

const TEMPLATE: TemplateDefinition = {
  name: 'welcome',
  language: 'en_US',
  category: 'MARKETING',
  body: 'Welcome!',
  bodyExamples: [],
  header: null,
  footer: null,
  buttons: [],
};

function sandbox(settings: { statusDelayMs?: number; autoApproveSeconds?: number } = {}) {
  const clock = new ManualClock('2026-01-01T00:00:00.000Z');
  const scheduler = new ManualScheduler(clock);
  const events = new RecordedEvents();
  const channel = new SandboxChannel(
    ACCOUNT_ID,
    { statusDelayMs: settings.statusDelayMs ?? 1000, autoApproveSeconds: settings.autoApproveSeconds },
    { events, scheduler, clock, media: new DirectoryMediaStore('/nonexistent') },
  );
  return { clock, scheduler, events, channel };
}

describe('SandboxChannel', () => {
  it('advances a message sent → delivered → read, one delay apart', async () => {
    const { scheduler, events, channel } = sandbox({ statusDelayMs: 1000 });
    const { messageWaId } = await channel.sendText({ messageId: 7, to: '972501234567', text: 'Hi' });
    const seen: string[][] = [];
    for (let step = 0; step < 4; step++) {
      seen.push(events.statusesOf(messageWaId));
      await scheduler.advance(1000);
    }
    expect(seen).toEqual([[], ['sent'], ['sent', 'delivered'], ['sent', 'delivered', 'read']]);
    expect(events.statuses.map((update) => update.timestamp.toISOString())).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:03.000Z',
    ]);
  });

  it('keeps templates PENDING until told, or approves them after SANDBOX_AUTO_APPROVE_TEMPLATES seconds', async () => {
    const manual = sandbox();
    await manual.channel.submitTemplate(TEMPLATE);
    await manual.scheduler.advance(86_400_000);
    expect(manual.events.templateStatuses).toEqual([]);

    const automatic = sandbox({ autoApproveSeconds: 30 });
    const { providerTemplateId } = await automatic.channel.submitTemplate(TEMPLATE);
    await automatic.scheduler.advance(29_999);
    expect(automatic.events.templateStatuses).toEqual([]);
    await automatic.scheduler.advance(1);
    expect(automatic.events.templateStatuses).toEqual([{ providerTemplateId, name: 'welcome', language: 'en_US', status: 'APPROVED', reason: null }]);
  });

  it('delivers what a customer writes to the ingest path', async () => {
    const { events, channel } = sandbox();
    const messageWaId = await channel.receive({ from: '972501234567', text: 'Hello?', profileName: 'Dana' });
    expect(events.messages).toEqual([
      {
        messageWaId,
        from: '972501234567',
        to: channel.phoneNumber,
        profileName: 'Dana',
        type: 'text',
        text: 'Hello?',
        media: null,
        timestamp: new Date('2026-01-01T00:00:00.000Z'),
      },
    ]);
  });
});
