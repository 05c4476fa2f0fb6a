import { expect } from 'vitest';
import type { ChannelEvents, InboundMessage, StatusUpdate, TemplateStatusUpdate } from '../src/channels/channel.js';

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
