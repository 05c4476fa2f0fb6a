import { randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Clock } from '../../clock.js';
import { randomToken } from '../../ids.js';
import type { MediaStore } from '../../media/media-store.js';
import { isValidPhone } from '../../phone.js';
import type { Scheduler } from '../../scheduler.js';
import {
  ChannelError,
  type Channel,
  type ChannelEvents,
  type DeliveryStatus,
  type InboundContent,
  type InboundMessage,
  type InteractiveMessage,
  type MediaMessage,
  type SendResult,
  type StatusUpdate,
  type TemplateDefinition,
  type TemplateMessage,
  type TemplateStatusUpdate,
  type TemplateSubmission,
  type TextMessage,
} from '../channel.js';

/** The business number of every sandbox account (WhatsApp's test numbers start with 1 555). */
export const SANDBOX_PHONE_NUMBER = '15550000000';

/** Meta's error codes, for the refusals the sandbox imitates. */
const INVALID_PARAMETER = 131009;
const MEDIA_UPLOAD_ERROR = 131053;
const TEMPLATE_DOES_NOT_EXIST = 132001;

export interface SandboxSettings {
  /** Time between sent, delivered and read. */
  statusDelayMs: number;
  /** Approves submitted templates after this many seconds; never when undefined. */
  autoApproveSeconds: number | undefined;
}

export interface SandboxDependencies {
  events: ChannelEvents;
  scheduler: Scheduler;
  clock: Clock;
  media: MediaStore;
}

/**
 * An in-process WhatsApp: it takes messages like the Cloud API (a `wamid.` id each, refusals with
 * Meta's codes), then reports each one sent, delivered and read, one delay apart, through the same
 * ingest path as real webhooks. Templates wait in PENDING until approved. The sandbox endpoints
 * play the customer's side: messages that arrive, statuses and reviews set by hand.
 */
export class SandboxChannel implements Channel {
  readonly type = 'sandbox' as const;
  readonly phoneNumber = SANDBOX_PHONE_NUMBER;

  constructor(
    private readonly accountId: string,
    private readonly settings: SandboxSettings,
    private readonly dependencies: SandboxDependencies,
  ) {}

  async sendText(message: TextMessage): Promise<SendResult> {
    return this.accept(message);
  }

  async sendInteractive(message: InteractiveMessage): Promise<SendResult> {
    return this.accept(message);
  }

  async sendMedia(message: MediaMessage): Promise<SendResult> {
    if ('stored' in message.source) await this.upload(message.source.stored.key);
    return this.accept(message);
  }

  async sendTemplate(message: TemplateMessage): Promise<SendResult> {
    if (message.providerTemplateId === null) throw new ChannelError('Template name does not exist in the translation', TEMPLATE_DOES_NOT_EXIST);
    return this.accept(message);
  }

  async submitTemplate(template: TemplateDefinition): Promise<TemplateSubmission> {
    // Meta's template ids are long decimal numbers.
    const providerTemplateId = `${randomInt(1e8, 1e9)}${randomInt(1e6, 1e7)}`;
    const { autoApproveSeconds } = this.settings;
    if (autoApproveSeconds !== undefined) {
      this.dependencies.scheduler.after(autoApproveSeconds * 1000, () =>
        this.setTemplateStatus({ providerTemplateId, name: template.name, language: template.language, status: 'APPROVED', reason: null }),
      );
    }
    return { providerTemplateId, status: 'PENDING' };
  }

  /**
   * A customer writes to the business, or taps a reply button or list row (`reply`, as the Cloud API
   * reports a `button_reply` / `list_reply`). Returns the message's WhatsApp id.
   */
  async receive(message: { from: string; text: string | null; profileName: string | null; reply?: { kind: 'button_reply' | 'list_reply'; id: string; title: string | null } }): Promise<string> {
    return this.deliver(message.from, message.profileName, {
      type: message.reply ? 'interactive' : 'text',
      text: message.text ?? message.reply?.title ?? null,
      media: null,
      ...(message.reply && { content: { reply: message.reply } satisfies InboundContent }),
    });
  }

  /**
   * A customer sends a file (kept in the media store, as the Cloud API channel keeps a downloaded
   * one), a location, contacts or a reaction (`content`). Returns the message's WhatsApp id.
   */
  async receiveMedia(message: {
    from: string;
    profileName: string | null;
    type: string;
    caption: string | null;
    file?: { content: Uint8Array; extension: string; mimeType: string; filename: string | null };
    content?: InboundContent;
  }): Promise<string> {
    let media: InboundMessage['media'] = null;
    if (message.file) {
      const { content, extension, mimeType, filename } = message.file;
      const staged = await this.dependencies.media.stage(Readable.from([content]), extension);
      await this.dependencies.media.commit(staged);
      media = { key: staged.key, mimeType, filename };
    }
    return this.deliver(message.from, message.profileName, { type: message.type, text: message.caption, media, content: message.content ?? null });
  }

  private async deliver(from: string, profileName: string | null, message: Pick<InboundMessage, 'type' | 'text' | 'media' | 'content'>): Promise<string> {
    const messageWaId = newMessageWaId();
    await this.dependencies.events.messageReceived(this.accountId, { messageWaId, from, to: this.phoneNumber, profileName, timestamp: this.dependencies.clock.now(), ...message });
    return messageWaId;
  }

  /** WhatsApp reports a message's status (by itself after each send, or when told to by hand). */
  setMessageStatus(update: Omit<StatusUpdate, 'timestamp'>): Promise<void> {
    return this.dependencies.events.statusChanged(this.accountId, { ...update, timestamp: this.dependencies.clock.now() });
  }

  /** WhatsApp's review of a template. */
  setTemplateStatus(update: TemplateStatusUpdate): Promise<void> {
    return this.dependencies.events.templateStatusChanged(this.accountId, update);
  }

  private accept(message: { messageId: number; to: string }): SendResult {
    if (!isValidPhone(message.to)) throw new ChannelError('Parameter value is not valid', INVALID_PARAMETER);
    const messageWaId = newMessageWaId();
    const progress: DeliveryStatus[] = ['sent', 'delivered', 'read'];
    progress.forEach((status, step) =>
      this.dependencies.scheduler.after(this.settings.statusDelayMs * (step + 1), () =>
        this.setMessageStatus({ messageWaId, status, messageId: message.messageId }),
      ),
    );
    return { messageWaId };
  }

  /** Reads a stored file the way the Cloud API channel uploads it. */
  private async upload(key: string): Promise<void> {
    try {
      const content = await this.dependencies.media.open(key);
      content.resume();
      await finished(content);
    } catch {
      throw new ChannelError('Media upload error', MEDIA_UPLOAD_ERROR);
    }
  }
}

function newMessageWaId(): string {
  return `wamid.${randomToken(24)}`;
}
