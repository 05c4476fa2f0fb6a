import { hostname } from 'node:os';
import type { ChannelEvents, InboundMessage, TemplateStatus } from '../../channels/channel.js';
import {
  SEND_RETRY_JOB,
  type ChannelCredentials,
  failureToError,
  messageIdFromCallbackData,
  sendRetryDelayMs,
  type SendRetryPayload,
} from '../../channels/cloud-api/cloud-api-channel.js';
import { GraphRequestError, MediaTooLargeError } from '../../channels/cloud-api/graph-client.js';
import { classifyStatusError } from '../../channels/cloud-api/graph-errors.js';
import type { CloudApiRuntime } from '../../channels/cloud-api/runtime.js';
import { contentOf, parseWebhook, type InboundMessage as MetaMessage, type Referral, type WebhookEvent } from '../../channels/cloud-api/webhook-parser.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import type { JobHandler } from '../../jobs/worker.js';
import { extensionOf, mediaTypeOf } from '../../media/media-types.js';
import { isValidPhone } from '../../phone.js';
import { recordMessageTime } from '../customers/customers.repository.js';
import { applyPendingStatuses, ingestEvents } from '../messages/ingest.js';
import * as messages from '../messages/messages.repository.js';
import { markSendFailed, notePendingReason } from '../messages/messages.service.js';
import { WEBHOOK_JOB } from './whatsapp.inbox.js';
import * as repository from './whatsapp.repository.js';
import { applyReferralAttribution, credentialsOrDisconnected, markChannelDisconnected } from './whatsapp.service.js';

/** Meta's template events → our template statuses; events that change nothing we show are left out. */
const TEMPLATE_EVENT_STATUS: Record<string, TemplateStatus> = {
  APPROVED: 'APPROVED',
  REINSTATED: 'APPROVED',
  UNARCHIVED: 'APPROVED',
  REJECTED: 'REJECTED',
  PENDING: 'PENDING',
  IN_APPEAL: 'PENDING',
  PAUSED: 'PAUSED',
  DISABLED: 'DISABLED',
  ARCHIVED: 'DISABLED',
  PENDING_DELETION: 'DISABLED',
  DELETED: 'DISABLED',
};

/** Extensions our media store takes for what WhatsApp sends (stickers are WebP, voice notes Ogg). */
const EXTENSION_BY_MIME: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'video/quicktime': 'mov',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

function extensionFor(mimeType: string | null, filename: string | null): string {
  const fromName = filename ? extensionOf(filename) : '';
  if (fromName && /^[a-z0-9]{1,8}$/.test(fromName)) return fromName;
  const base = (mimeType ?? '').split(';')[0].trim().toLowerCase();
  return EXTENSION_BY_MIME[base] ?? mediaTypeOf(base.split('/')[1] ?? '')?.extension ?? 'bin';
}

/** Click-to-WhatsApp ad data as the customer's attribution (docs/whatsapp.md). */
export function attributionFromReferral(referral: Referral): Record<string, string> {
  const fields: Record<string, string> = {};
  if (referral.source_url) fields.current_url = referral.source_url;
  for (const [key, value] of Object.entries(referral)) if (value !== null) fields[key === 'ctwa_clid' ? key : `ctwa_${key}`] = value;
  return fields;
}

/** This process, as the inbox records who processed a delivery. */
const PROCESS_NAME = `${hostname()}:${process.pid}`;

export interface WebhookProcessing {
  outcome: 'processed' | 'unrouted' | 'partly_unrouted';
  unroutedPhoneNumberIds: string[];
}

/**
 * Processes one stored delivery. Safe to run again for the same delivery (a job that crashed
 * half-way runs again): messages are deduplicated by wamid, statuses never move backwards, template
 * verdicts are idempotent.
 */
export class WebhookProcessor {
  private readonly events: ChannelEvents;

  constructor(
    private readonly deps: Deps,
    private readonly runtime: CloudApiRuntime,
    events?: ChannelEvents,
  ) {
    this.events = events ?? ingestEvents(deps, 'cloud_api');
  }

  async processInboxEvent(inboxId: string): Promise<WebhookProcessing | null> {
    const { db } = this.deps.database;
    const row = await repository.findInboxEvent(db, inboxId);
    if (!row || row.processed_at) return null;
    const parsed = parseWebhook(JSON.parse(row.body));
    if (parsed.ignored.length > 0) this.deps.logger.info({ inboxId, ignored: parsed.ignored }, 'parts of a WhatsApp webhook were ignored');
    const channels = new Map<string, ChannelCredentials | null>();
    const unrouted = new Set<string>();
    let routed = 0;
    for (const event of parsed.events) {
      if (event.kind === 'template_status') {
        routed += await this.applyTemplateStatus(event);
        continue;
      }
      const phoneNumberId = event.phoneNumberId;
      if (!phoneNumberId) continue;
      if (!channels.has(phoneNumberId)) {
        const channelRow = await repository.findChannelByPhoneNumberId(db, phoneNumberId);
        channels.set(phoneNumberId, channelRow ? credentialsOrDisconnected(this.deps, channelRow) : null);
      }
      const channel = channels.get(phoneNumberId);
      if (!channel) {
        unrouted.add(phoneNumberId);
        continue;
      }
      routed += 1;
      await this.apply(channel, event);
    }
    const unroutedIds = [...unrouted];
    if (unroutedIds.length > 0) {
      this.deps.logger.warn({ inboxId, phoneNumberIds: unroutedIds }, 'webhook for unknown phone_number_id: kept, not processed');
    }
    const outcome = unroutedIds.length === 0 ? 'processed' : routed === 0 ? 'unrouted' : 'partly_unrouted';
    await repository.markInboxProcessed(db, inboxId, { outcome, unroutedPhoneNumberIds: unroutedIds, at: toStoredTime(this.deps.clock.now()), by: PROCESS_NAME });
    return { outcome, unroutedPhoneNumberIds: unroutedIds };
  }

  private async apply(channel: ChannelCredentials, event: WebhookEvent): Promise<void> {
    switch (event.kind) {
      case 'message':
        return this.receive(channel, event.message);
      case 'status': {
        const { status } = event;
        const failure = status.errors[0] ? classifyStatusError(status.errors[0]) : null;
        await this.events.statusChanged(channel.accountId, {
          messageWaId: status.wamid,
          status: status.status,
          timestamp: new Date(status.timestamp * 1000),
          messageId: messageIdFromCallbackData(status.callbackData),
          ...(status.status === 'failed' && { error: { code: failure?.code ?? null, title: failure?.title ?? 'Message failed' } }),
        });
        return;
      }
      case 'error':
        this.deps.logger.warn({ accountId: channel.accountId, errors: event.errors }, 'WhatsApp reported an error for the number');
        return;
    }
  }

  private async receive(channel: ChannelCredentials, message: MetaMessage): Promise<void> {
    const { db } = this.deps.database;
    // Meta delivers at least once: a message we have is not downloaded or stored again.
    if (await messages.findMessageByWaId(db, channel.accountId, message.wamid)) return;
    // Without a readable token (OPENMUMBLE_SECRET_KEY changed or missing) media cannot be had.
    const media = message.media && channel.accessToken ? await this.download(channel, message) : null;
    const inbound: InboundMessage = {
      messageWaId: message.wamid,
      from: message.from && isValidPhone(message.from) ? message.from : null,
      fromUserId: message.userId,
      username: message.username,
      to: channel.displayPhoneNumber,
      profileName: message.profileName,
      type: message.type,
      text: message.text ?? (media === null && message.media ? '[media not available]' : null),
      media,
      timestamp: new Date((message.timestamp || Math.floor(this.deps.clock.now().getTime() / 1000)) * 1000),
      content: contentOf(message),
    };
    await this.events.messageReceived(channel.accountId, inbound);
    if (message.referral) await applyReferralAttribution(this.deps, channel.accountId, { phone: inbound.from, userId: message.userId }, attributionFromReferral(message.referral));
  }

  /**
   * The message's media, kept in the media store: `GET /{media-id}` with the channel's token, then
   * the file (bounded by WHATSAPP_MEDIA_MAX_BYTES). A file that cannot be had for good (too large,
   * gone, token refused) leaves the message without media; a passing failure throws, so the job
   * runs again.
   */
  private async download(channel: ChannelCredentials, message: MetaMessage): Promise<InboundMessage['media']> {
    const media = message.media!;
    const { graph, publicDispatcher } = this.runtime;
    const maxBytes = this.deps.config.WHATSAPP_MEDIA_MAX_BYTES;
    try {
      const info = await graph.getMediaInfo(media.id, channel.accessToken, channel.phoneNumberId);
      if (info.fileSize !== null && info.fileSize > maxBytes) throw new MediaTooLargeError(maxBytes);
      const download = await graph.openDownload(info.url, channel.accessToken, { maxBytes, publicDispatcher });
      const mimeType = media.mimeType ?? info.mimeType ?? download.mimeType ?? 'application/octet-stream';
      const staged = await this.deps.media.stage(download.body, extensionFor(mimeType, media.filename));
      await this.deps.media.commit(staged);
      return { key: staged.key, mimeType: mimeType.split(';')[0].trim(), filename: media.filename };
    } catch (error) {
      if (error instanceof MediaTooLargeError) {
        this.deps.logger.warn({ accountId: channel.accountId, wamid: message.wamid, limit: maxBytes }, 'inbound media is larger than WHATSAPP_MEDIA_MAX_BYTES; stored without it');
        return null;
      }
      if (error instanceof GraphRequestError) {
        const { action, title } = error.failure;
        if (action === 'retry_later' || action === 'outcome_unknown') throw error;
        if (action === 'disconnect') await markChannelDisconnected(this.deps, channel.accountId, error.failure.reason ?? title);
        this.deps.logger.warn({ accountId: channel.accountId, wamid: message.wamid, reason: title }, 'inbound media could not be downloaded; stored without it');
        return null;
      }
      throw error;
    }
  }

  /** A template verdict goes to every account on that WhatsApp Business Account. */
  private async applyTemplateStatus(event: Extract<WebhookEvent, { kind: 'template_status' }>): Promise<number> {
    const status = TEMPLATE_EVENT_STATUS[event.update.event.toUpperCase()];
    if (!status || !event.wabaId) {
      this.deps.logger.info({ event: event.update.event, templateId: event.update.templateId }, 'template event without a status change');
      return 1;
    }
    const channels = await repository.findChannelsByWaba(this.deps.database.db, event.wabaId);
    if (channels.length === 0) this.deps.logger.warn({ wabaId: event.wabaId, templateId: event.update.templateId }, 'template status update for a WhatsApp Business Account no account is connected to');
    for (const channel of channels) {
      await this.events.templateStatusChanged(channel.account_id, {
        providerTemplateId: event.update.templateId,
        name: event.update.name ?? '',
        language: event.update.language ?? '',
        status,
        reason: event.update.reason && event.update.reason !== 'NONE' ? event.update.reason : null,
      });
    }
    return channels.length;
  }
}

/** Processes stored webhook deliveries (whatsapp.webhook jobs). */
export function webhookJobHandler(deps: Deps, runtime: CloudApiRuntime, events?: ChannelEvents): JobHandler<{ inboxId: string }> {
  const processor = new WebhookProcessor(deps, runtime, events);
  return {
    type: WEBHOOK_JOB,
    timeoutMs: 5 * 60_000,
    async run({ inboxId }) {
      try {
        await processor.processInboxEvent(inboxId);
      } catch (error) {
        await repository.recordInboxError(deps.database.db, inboxId, error instanceof Error ? error.message : String(error)).catch(() => {});
        throw error;
      }
    },
  };
}

/** Rate-limited sends are given up after this many tries (about three hours of backoff). */
const SEND_RETRY_MAX_ATTEMPTS = 16;

/**
 * Sends again a message WhatsApp's rate limits refused (130429, 131056). The message stays
 * `pending` meanwhile; it gets its wamid on success, or ends `failed` with Meta's error.
 */
export function sendRetryJobHandler(deps: Deps, runtime: CloudApiRuntime): JobHandler<SendRetryPayload> {
  const { db } = deps.database;
  const now = () => toStoredTime(deps.clock.now());
  return {
    type: SEND_RETRY_JOB,
    timeoutMs: 2 * 60_000,
    async run(payload, { job }) {
      const message = await repository.findOutboundMessage(db, payload.accountId, payload.messageId);
      if (!message || message.status !== 'pending' || message.message_wa_id) return;
      const channelRow = await repository.findChannelByAccount(db, payload.accountId);
      const channel = channelRow && credentialsOrDisconnected(deps, channelRow);
      if (!channel || channel.status !== 'connected') {
        const reason = channel ? `WhatsApp channel is disconnected: ${channel.statusReason ?? 'reconnect it'}` : 'The account left the WhatsApp Cloud API before the message was sent';
        await markSendFailed(deps, payload.accountId, payload.messageId, null, reason);
        return;
      }
      try {
        const sent = await runtime.graph.sendMessage(channel.phoneNumberId, channel.accessToken, payload.body);
        await db.transaction().execute(async (trx) => {
          await messages.recordWaId(trx, payload.messageId, sent.wamid, now());
          await recordMessageTime(trx, message.customer_id, 'outbound', message.created_at, now());
        });
        await applyPendingStatuses(deps, payload.accountId, sent.wamid);
        return;
      } catch (error) {
        if (!(error instanceof GraphRequestError)) throw error;
        const failure = await failureToError(error.failure, (reason) => markChannelDisconnected(deps, payload.accountId, reason));
        if (failure.disposition === 'queued' && job.attempts < SEND_RETRY_MAX_ATTEMPTS) {
          await notePendingReason(deps, payload.accountId, payload.messageId, failure.code, `${failure.title} (retrying)`);
          return { retryAt: new Date(deps.clock.now().getTime() + sendRetryDelayMs(job.attempts + 1)), error: failure.title };
        }
        if (failure.disposition === 'unknown') {
          // Never sent twice: the status webhook (with our callback data) will tell what happened.
          await notePendingReason(deps, payload.accountId, payload.messageId, null, failure.title);
          return;
        }
        await markSendFailed(deps, payload.accountId, payload.messageId, failure.code, failure.title);
      }
    },
  };
}
