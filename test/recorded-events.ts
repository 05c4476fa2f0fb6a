import { expect } from 'vitest';
import type { Channel, ChannelEvents, InboundMessage, StatusUpdate, TemplateDefinition, TemplateStatusUpdate, TemplateSubmission } from '../src/channels/channel.js';

/** The account every channel under test belongs to. */
export const ACCOUNT_ID = 'contract-account';

/** The ingest path, recording what the channel reports. */
export class RecordedEvents implements ChannelEvents {
  readonly messages: InboundMessage[] = [];
  readonly statuses: StatusUpdate[] = [];
  readonly templateStatuses: TemplateStatusUpdate[] = [];

  async messageReceived(accountId: string, message: InboundMessage): Promise<void> {
    expect(accountId).toBe(ACCOUNT_ID);
    this.messages.push(message);
  }

  async statusChanged(accountId: string, update: StatusUpdate): Promise<void> {
    expect(accountId).toBe(ACCOUNT_ID);
    this.statuses.push(update);
  }

  async templateStatusChanged(accountId: string, update: TemplateStatusUpdate): Promise<void> {
    expect(accountId).toBe(ACCOUNT_ID);
    this.templateStatuses.push(update);
  }

  statusesOf(messageWaId: string): string[] {
    return this.statuses.filter((update) => update.messageWaId === messageWaId).map((update) => update.status);
  }
}

/** What a channel contract test drives (src/channels/channel.contract.test.ts): one channel and what it reported. */
export interface ChannelHarness {
  /** A channel of the account ACCOUNT_ID, reporting to `events`. */
  channel: Channel;
  events: RecordedEvents;
  /** Lets the channel do what it does in its own time (delays, webhooks) until it has nothing left to report. */
  settle(): Promise<void>;
  /** Keeps a file in the media store the channel reads uploads from; returns its key. */
  storeMedia(extension: string, content: Buffer): Promise<string>;
  /** Has WhatsApp approve a submitted template. */
  approveTemplate(template: TemplateDefinition, submission: TemplateSubmission): Promise<void>;
  close(): Promise<void>;
}
