import type { Logger } from 'pino';
import { badRequest } from '../../errors.js';
import { MEDIA_LINK_INVALID } from '../../media/media-link.js';
import type { MediaStore } from '../../media/media-store.js';
import { MAX_MEDIA_BYTES, extensionOf, mediaTypeOf } from '../../media/media-types.js';
import { readAtMost } from '../../net/read-at-most.js';
import {
  ChannelError,
  type Channel,
  type InteractiveMessage,
  type MediaMessage,
  type SendResult,
  type TemplateDefinition,
  type TemplateMessage,
  type TemplateStatus,
  type TemplateSubmission,
  type TextMessage,
} from '../channel.js';
import { GraphRequestError, MediaTooLargeError } from './graph-client.js';
import type { ChannelFailure } from './graph-errors.js';
import { interactiveMessage, mediaMessage, templateMessage, templateSubmission, textMessage, type MediaSource as GraphMediaSource } from './payloads.js';
import type { CloudApiRuntime } from './runtime.js';

/** The job that sends a message again after WhatsApp's rate limits (130429, 131056) refused it. */
export const SEND_RETRY_JOB = 'whatsapp.send';

export interface SendRetryPayload {
  accountId: string;
  messageId: number;
  /** The Graph API body, as first built (an uploaded file is referred to by its media id). */
  body: Record<string, unknown>;
}

/** One account's WhatsApp number, its token in clear. */
export interface ChannelCredentials {
  accountId: string;
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  accessToken: string;
  status: 'connected' | 'disconnected';
  statusReason: string | null;
}

/** What the channel needs from the rest of the server, given to it (it imports no module). */
export interface CloudApiPorts {
  runtime: CloudApiRuntime;
  media: Pick<MediaStore, 'open'>;
  logger: Logger;
  /** WHATSAPP_APP_ID: needed to upload a template's header sample. */
  appId: string | undefined;
  /** Meta refused the token (190): the account's channel is marked disconnected. */
  markDisconnected(accountId: string, reason: string): Promise<void>;
  /** A send WhatsApp's rate limits refused: a durable job sends it again later. */
  queueSendRetry(payload: SendRetryPayload, attempt: number): Promise<void>;
}

/** `biz_opaque_callback_data` of our sends: Meta echoes it with every status of the message. */
export const callbackDataFor = (messageId: number) => `om:${messageId}`;

export function messageIdFromCallbackData(data: string | null): number | undefined {
  const match = data ? /^om:(\d{1,15})$/.exec(data) : null;
  return match ? Number(match[1]) : undefined;
}

const TEMPLATE_STATUSES = new Set<TemplateStatus>(['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED']);

/** Byte bound of a template header sample, by format. */
const SAMPLE_LIMIT: Record<string, number> = { IMAGE: MAX_MEDIA_BYTES.image, VIDEO: MAX_MEDIA_BYTES.video, AUDIO: MAX_MEDIA_BYTES.audio, DOCUMENT: MAX_MEDIA_BYTES.document };

/**
 * The WhatsApp Cloud API as a Channel: one account's number, its token in clear for the life of
 * this object only. Every failure becomes a ChannelError whose `disposition` tells the messages
 * service what happened: 131047 → window_closed; 130429/131056 → queued (a durable job sends it
 * later); a timeout → unknown (never resent blindly); anything else → failed. A token Meta refuses
 * (190) also marks the channel disconnected, visible in the admin API.
 */
export class CloudApiChannel implements Channel {
  readonly type = 'cloud_api' as const;
  readonly phoneNumber: string;

  private readonly runtime: CloudApiRuntime;

  constructor(
    private readonly ports: CloudApiPorts,
    private readonly credentials: ChannelCredentials,
  ) {
    this.runtime = ports.runtime;
    this.phoneNumber = credentials.displayPhoneNumber;
  }

  async sendText(message: TextMessage): Promise<SendResult> {
    return this.send(message.messageId, textMessage(message.to, message.text, { callbackData: callbackDataFor(message.messageId) }));
  }

  async sendInteractive(message: InteractiveMessage): Promise<SendResult> {
    return this.send(message.messageId, interactiveMessage(message.to, { body: message.body, ...message.action }, { callbackData: callbackDataFor(message.messageId) }));
  }

  async sendMedia(message: MediaMessage): Promise<SendResult> {
    this.requireConnected();
    let source: GraphMediaSource;
    if ('link' in message.source) {
      source = { link: message.source.link };
    } else {
      // A file of ours: WhatsApp cannot fetch it, so it is uploaded first and sent by its media id.
      const { key, mimeType } = message.source.stored;
      let bytes: Buffer;
      try {
        bytes = await readAtMost(await this.ports.media.open(key), MAX_MEDIA_BYTES[message.kind]);
      } catch (error) {
        this.ports.logger.warn({ err: error, key }, 'media to upload could not be read from the media store');
        throw new ChannelError('The media file could not be read from the media store', null, 'failed');
      }
      const filename = message.filename ?? key;
      // An upload reaches no customer, so whatever stopped it simply fails the send (nothing to queue).
      const id = await this.graphCall(() => this.runtime.graph.uploadMedia(this.credentials.phoneNumberId, this.credentials.accessToken, { bytes, mimeType, filename })).catch(
        (error: unknown) => {
          throw error instanceof ChannelError && error.disposition !== 'failed' ? new ChannelError(error.title, error.code, 'failed') : error;
        },
      );
      source = { id };
    }
    const body = mediaMessage(message.to, { kind: message.kind, source, caption: message.caption, filename: message.filename }, { callbackData: callbackDataFor(message.messageId) });
    return this.send(message.messageId, body);
  }

  async sendTemplate(message: TemplateMessage): Promise<SendResult> {
    const header = message.headerMedia;
    const format = header?.format.toLowerCase();
    const body = templateMessage(
      message.to,
      {
        name: message.name,
        language: message.language,
        // WhatsApp has image, video and document headers; an AUDIO one has no parameter to send.
        header: header && (format === 'image' || format === 'video' || format === 'document') ? { type: format, source: { link: header.link } } : null,
        body: message.bodyParameters,
        buttons: message.urlButtonParameters.map(({ index, value }) => ({ subType: 'url' as const, index, text: value })),
      },
      { callbackData: callbackDataFor(message.messageId) },
    );
    return this.send(message.messageId, body);
  }

  async submitTemplate(template: TemplateDefinition): Promise<TemplateSubmission> {
    this.requireConnected();
    let header: { format: 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'AUDIO'; handle: string } | null = null;
    if (template.header) {
      const { appId } = this.ports;
      if (!appId) throw new ChannelError('WHATSAPP_APP_ID must be set to submit a template with a media header', null, 'failed');
      header = { format: template.header.format, handle: await this.uploadHeaderSample(appId, template.header.format, template.header.mediaUrl) };
    }
    const submission = templateSubmission({
      name: template.name,
      language: template.language,
      category: template.category,
      header,
      body: template.body,
      bodyExamples: template.bodyExamples,
      footer: template.footer,
      buttons: template.buttons.map((button) =>
        button.type === 'URL'
          ? { type: 'URL' as const, text: button.text, url: button.url, example: button.example ?? null }
          : button.type === 'PHONE_NUMBER'
            ? { type: 'PHONE_NUMBER' as const, text: button.text, phoneNumber: button.phone_number }
            : { type: 'QUICK_REPLY' as const, text: button.text },
      ),
    });
    // A submission is not queued or resent: any failure is a failure (create-template can be called again).
    const created = await this.graphCall(() => this.runtime.graph.createTemplate(this.credentials.wabaId, this.credentials.accessToken, submission)).catch(
      (error: unknown) => {
        throw error instanceof ChannelError && error.disposition !== 'failed' ? new ChannelError(error.title, error.code, 'failed') : error;
      },
    );
    const status = created.status.toUpperCase() as TemplateStatus;
    return { providerTemplateId: created.id, status: TEMPLATE_STATUSES.has(status) ? status : 'PENDING' };
  }

  /**
   * Downloads the template's sample (public hosts only, size-bounded) and uploads it for a header
   * handle. A sample that cannot be fetched is the request's fault: the contract's
   * `400 Media link is not valid`.
   */
  private async uploadHeaderSample(appId: string, format: string, url: string): Promise<string> {
    const limit = SAMPLE_LIMIT[format] ?? MAX_MEDIA_BYTES.document;
    let sample: { bytes: Buffer; mimeType: string | null };
    try {
      sample = await this.runtime.graph.downloadMedia(url, null, { maxBytes: limit, publicDispatcher: this.runtime.publicDispatcher });
    } catch (error) {
      if (!(error instanceof GraphRequestError || error instanceof MediaTooLargeError)) throw error;
      this.ports.logger.warn({ accountId: this.credentials.accountId, reason: error.message }, 'template header sample could not be downloaded');
      throw badRequest(MEDIA_LINK_INVALID);
    }
    const path = new URL(url).pathname;
    const extension = extensionOf(path);
    const mimeType = sample.mimeType ?? mediaTypeOf(extension)?.mimeType ?? 'application/octet-stream';
    const filename = path.split('/').pop() || `sample.${extension || 'bin'}`;
    return this.graphCall(() => this.runtime.graph.uploadResumable(appId, this.credentials.accessToken, { bytes: sample.bytes, mimeType, filename }));
  }

  private requireConnected(): void {
    if (this.credentials.status === 'disconnected') {
      throw new ChannelError(`WhatsApp channel is disconnected: ${this.credentials.statusReason ?? 'reconnect it with a new access token'}`, null, 'failed');
    }
  }

  /** One message send: the wamid, or a ChannelError; a rate-limited send is handed to a durable job. */
  private async send(messageId: number, body: Record<string, unknown>): Promise<SendResult> {
    this.requireConnected();
    try {
      const sent = await this.graphCall(() => this.runtime.graph.sendMessage(this.credentials.phoneNumberId, this.credentials.accessToken, body));
      return { messageWaId: sent.wamid };
    } catch (error) {
      if (error instanceof ChannelError && error.disposition === 'queued') {
        await this.ports.queueSendRetry({ accountId: this.credentials.accountId, messageId, body }, 1);
      }
      throw error;
    }
  }

  /** Runs a Graph call and turns its failure into a ChannelError (disconnecting on 190). */
  private async graphCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof GraphRequestError)) throw error;
      throw await failureToError(error.failure, (reason) => this.ports.markDisconnected(this.credentials.accountId, reason));
    }
  }
}

/** A Graph API failure as the ChannelError the messages service reads; a refused token is reported through `disconnect`. */
export async function failureToError(failure: ChannelFailure, disconnect: (reason: string) => Promise<void>): Promise<ChannelError> {
  switch (failure.action) {
    case 'disconnect':
      await disconnect(failure.reason ?? failure.title);
      return new ChannelError(failure.title, failure.code, 'failed');
    case 'window_closed':
      return new ChannelError(failure.title, failure.code, 'window_closed');
    case 'retry_later':
      return new ChannelError(failure.title, failure.code, 'queued');
    case 'outcome_unknown':
      return new ChannelError(failure.title, failure.code, 'unknown');
    default:
      return new ChannelError(failure.title, failure.code, 'failed');
  }
}

/** Rate limits: 10 s, 20 s, 40 s … up to 15 minutes, with up to 20% jitter. */
export function sendRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.min(10_000 * 2 ** Math.max(0, attempt - 1), 15 * 60_000) * (1 + random() * 0.2);
}
