import { Agent, FormData, type Dispatcher, request } from 'undici';
import { classifyGraphError, parseGraphErrorBody, type ChannelFailure, type GraphErrorBody } from './graph-errors.js';

/**
 * The WhatsApp Cloud API over undici: one connection pool per origin (keep-alive), a connect
 * timeout, a headers timeout and a body timeout, and no retries of its own.
 *
 * No blind resend. A POST is never repeated by this client. When a call fails, GraphRequestError
 * says what is known about it:
 * - the request never left (connection refused, DNS failure, connect timeout, TLS failure): nothing
 *   reached Meta, so `retry_later` is safe;
 * - Meta answered with an error object: mapped by classifyGraphError;
 * - the request was written but no complete answer came (headers/body timeout, connection reset,
 *   an answer without a message id): `outcome_unknown`. The caller must not send it again; the
 *   outcome arrives later in a status webhook, tied to our message by `biz_opaque_callback_data`.
 */

export interface GraphClientOptions {
  /** `https://graph.facebook.com`, or a simulator's URL in tests. */
  baseUrl: string;
  /** `v23.0`. */
  version: string;
  /** Connect, headers and body timeouts, each. */
  timeoutMs: number;
  /** Sockets per origin. */
  connections?: number;
  /** Replaces the pool (tests). */
  dispatcher?: Dispatcher;
}

export class GraphRequestError extends Error {
  constructor(
    readonly failure: ChannelFailure,
    readonly graph: GraphErrorBody | null = null,
    readonly httpStatus: number | null = null,
  ) {
    super(failure.title);
    this.name = 'GraphRequestError';
  }
}

export class MediaTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`media is larger than ${limit} bytes`);
    this.name = 'MediaTooLargeError';
  }
}

export interface SentMessage {
  wamid: string;
  /** Meta's normalized WhatsApp id of the recipient, when it says. */
  waId: string | null;
}

export interface MediaInfo {
  url: string;
  mimeType: string | null;
  sha256: string | null;
  fileSize: number | null;
}

export interface UploadInput {
  bytes: Buffer;
  mimeType: string;
  filename: string;
}

/** Errors raised before a single byte of the request could have been sent. */
const NOT_SENT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

/** The most specific error code on an error or its causes. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (error as { code?: string } | undefined)?.code;
}

export function transportFailure(error: unknown): ChannelFailure {
  const code = errorCode(error);
  if (code && NOT_SENT_CODES.has(code)) {
    return { action: 'retry_later', code: null, title: `WhatsApp could not be reached (${code})`, details: null };
  }
  const what = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timed out' : `was interrupted (${code ?? 'connection lost'})`;
  return { action: 'outcome_unknown', code: null, title: `The request to WhatsApp ${what}; its outcome is not known yet`, details: null };
}

const MAX_JSON_BYTES = 1024 * 1024;

/** Drops a response body we will not read, without an unhandled 'error' from the stream. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** The body's chunks, failing with MediaTooLargeError (and dropping the rest) past `limit` bytes. */
async function* boundedChunks(body: Dispatcher.ResponseData['body'], limit: number): AsyncIterable<Buffer> {
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      discard(body);
      throw new MediaTooLargeError(limit);
    }
    yield chunk as Buffer;
  }
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of boundedChunks(body, limit)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export class GraphClient {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  readonly origin: string;

  constructor(private readonly options: GraphClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connections: options.connections ?? 16,
        connect: { timeout: options.timeoutMs },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        // Shorter than the server's idle timeout, so we rarely write into a socket the server is closing.
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 30_000,
      });
  }

  /** `{baseUrl}/{version}/{path}`. */
  url(path: string): string {
    return `${this.options.baseUrl}/${this.options.version}/${path.replace(/^\/+/, '')}`;
  }

  private async call(
    method: 'GET' | 'POST',
    url: string,
    authorization: string,
    body?: { json: unknown } | { form: FormData } | { bytes: Buffer; headers: Record<string, string> },
  ): Promise<unknown> {
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    let payload: string | Buffer | FormData | undefined;
    if (body && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body && 'form' in body) {
      payload = body.form;
    } else if (body) {
      Object.assign(headers, body.headers);
      payload = body.bytes;
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { method, headers, body: payload, dispatcher: this.dispatcher });
    } catch (error) {
      throw new GraphRequestError(transportFailure(error));
    }
    let text: string;
    try {
      text = (await readBounded(response.body, MAX_JSON_BYTES)).toString('utf8');
    } catch (error) {
      throw new GraphRequestError(
        error instanceof MediaTooLargeError
          ? { action: 'outcome_unknown', code: null, title: 'WhatsApp answered with an oversized body', details: null }
          : transportFailure(error),
        null,
        response.statusCode,
      );
    }
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    const graphError = parseGraphErrorBody(parsed);
    if (graphError) throw new GraphRequestError(classifyGraphError(graphError, response.statusCode), graphError, response.statusCode);
    if (response.statusCode >= 400 || parsed === null || typeof parsed !== 'object') {
      // An answer that is not the Graph API's (a proxy's 502, an HTML page): Meta may or may not have acted.
      const failure: ChannelFailure =
        response.statusCode === 401
          ? { action: 'disconnect', code: null, title: 'Unauthorized', details: null, reason: 'access token rejected by WhatsApp (HTTP 401)' }
          : { action: 'outcome_unknown', code: null, title: `Unexpected answer from WhatsApp (HTTP ${response.statusCode})`, details: null };
      throw new GraphRequestError(failure, null, response.statusCode);
    }
    return parsed;
  }

  /** `POST /{phone-number-id}/messages`; the answer's `messages[0].id` is the wamid. */
  async sendMessage(phoneNumberId: string, token: string, payload: object): Promise<SentMessage> {
    const answer = (await this.call('POST', this.url(`${encodeURIComponent(phoneNumberId)}/messages`), `Bearer ${token}`, { json: payload })) as {
      messages?: { id?: unknown }[];
      contacts?: { wa_id?: unknown }[];
    };
    const wamid = answer.messages?.[0]?.id;
    if (typeof wamid !== 'string' || wamid === '') {
      throw new GraphRequestError({ action: 'outcome_unknown', code: null, title: 'WhatsApp accepted the request without a message id', details: null });
    }
    const waId = answer.contacts?.[0]?.wa_id;
    return { wamid, waId: typeof waId === 'string' ? waId : null };
  }

  /** `POST /{phone-number-id}/media` (multipart: messaging_product, type, file) → media id. */
  async uploadMedia(phoneNumberId: string, token: string, input: UploadInput): Promise<string> {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', input.mimeType);
    form.set('file', new Blob([new Uint8Array(input.bytes)], { type: input.mimeType }), input.filename);
    const answer = (await this.call('POST', this.url(`${encodeURIComponent(phoneNumberId)}/media`), `Bearer ${token}`, { form })) as { id?: unknown };
    if (typeof answer.id !== 'string') throw new GraphRequestError({ action: 'fail', code: null, title: 'WhatsApp returned no media id', details: null });
    return answer.id;
  }

  /** `POST /{waba-id}/message_templates` → Meta's template id and status (PENDING at first). */
  async createTemplate(wabaId: string, token: string, submission: object): Promise<{ id: string; status: string; category: string | null }> {
    const answer = (await this.call('POST', this.url(`${encodeURIComponent(wabaId)}/message_templates`), `Bearer ${token}`, { json: submission })) as {
      id?: unknown;
      status?: unknown;
      category?: unknown;
    };
    if (typeof answer.id !== 'string') throw new GraphRequestError({ action: 'fail', code: null, title: 'WhatsApp returned no template id', details: null });
    return { id: answer.id, status: typeof answer.status === 'string' ? answer.status : 'PENDING', category: typeof answer.category === 'string' ? answer.category : null };
  }

  /**
   * The Resumable Upload API, for a template's header sample: open a session on the app
   * (`POST /{app-id}/uploads?file_name&file_length&file_type`), then send the bytes to the session
   * (`POST /{upload-session-id}` with `Authorization: OAuth <token>` and `file_offset: 0`); the answer's
   * `h` is the handle that goes into `example.header_handle`.
   */
  async uploadResumable(appId: string, token: string, input: UploadInput): Promise<string> {
    const query = new URLSearchParams({ file_name: input.filename, file_length: String(input.bytes.length), file_type: input.mimeType });
    const session = (await this.call('POST', `${this.url(`${encodeURIComponent(appId)}/uploads`)}?${query}`, `OAuth ${token}`)) as { id?: unknown };
    if (typeof session.id !== 'string') throw new GraphRequestError({ action: 'fail', code: null, title: 'WhatsApp opened no upload session', details: null });
    const uploaded = (await this.call('POST', this.url(session.id), `OAuth ${token}`, {
      bytes: input.bytes,
      headers: { file_offset: '0', 'content-type': 'application/octet-stream' },
    })) as { h?: unknown };
    if (typeof uploaded.h !== 'string') throw new GraphRequestError({ action: 'fail', code: null, title: 'WhatsApp returned no upload handle', details: null });
    return uploaded.h;
  }

  /** `GET /{media-id}` → a short-lived download URL and the media's metadata. */
  async getMediaInfo(mediaId: string, token: string, phoneNumberId?: string): Promise<MediaInfo> {
    const query = phoneNumberId ? `?phone_number_id=${encodeURIComponent(phoneNumberId)}` : '';
    const answer = (await this.call('GET', `${this.url(encodeURIComponent(mediaId))}${query}`, `Bearer ${token}`)) as Record<string, unknown>;
    if (typeof answer.url !== 'string') throw new GraphRequestError({ action: 'fail', code: null, title: 'WhatsApp returned no media URL', details: null });
    const size = Number(answer.file_size);
    return {
      url: answer.url,
      mimeType: typeof answer.mime_type === 'string' ? answer.mime_type : null,
      sha256: typeof answer.sha256 === 'string' ? answer.sha256 : null,
      fileSize: Number.isFinite(size) && size >= 0 ? size : null,
    };
  }

  /**
   * Opens a download, at most `maxBytes`, streamed (the body throws MediaTooLargeError past the
   * bound). With a token (inbound media: the URL getMediaInfo gave) it is sent as a bearer token,
   * and only over https or to the Graph origin itself. A URL on the configured Graph origin goes
   * through our pool; any other host (Meta's CDN in production, a template's sample) must go through
   * `publicDispatcher`, the SSRF guard's, which refuses private addresses. Redirects are not followed.
   */
  async openDownload(
    url: string,
    token: string | null,
    options: { maxBytes: number; publicDispatcher?: Dispatcher },
  ): Promise<{ mimeType: string | null; body: AsyncIterable<Uint8Array> }> {
    const target = new URL(url);
    const sameOrigin = target.origin === this.origin;
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new GraphRequestError({ action: 'fail', code: null, title: `Refusing to fetch a ${target.protocol} URL`, details: null });
    }
    if (token && !sameOrigin && target.protocol !== 'https:') {
      throw new GraphRequestError({ action: 'fail', code: null, title: 'Refusing to send the access token to a non-https media URL', details: null });
    }
    if (!sameOrigin && !options.publicDispatcher) {
      throw new GraphRequestError({ action: 'fail', code: null, title: 'No public-address guard is configured for downloads', details: null });
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        headers: token ? { authorization: `Bearer ${token}` } : {},
        dispatcher: sameOrigin ? this.dispatcher : options.publicDispatcher,
      });
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_NON_PUBLIC_ADDRESS' || (error as { cause?: { code?: unknown } } | null)?.cause?.code === 'ERR_NON_PUBLIC_ADDRESS') {
        throw new GraphRequestError({ action: 'fail', code: null, title: `Refusing to fetch from a non-public address (${target.hostname})`, details: null });
      }
      throw new GraphRequestError(transportFailure(error));
    }
    if (response.statusCode !== 200) {
      const text = (await readBounded(response.body, MAX_JSON_BYTES).catch(() => Buffer.alloc(0))).toString('utf8');
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      const graphError = parseGraphErrorBody(parsed);
      throw new GraphRequestError(
        graphError ? classifyGraphError(graphError, response.statusCode) : { action: 'fail', code: null, title: `Download failed (HTTP ${response.statusCode})`, details: null },
        graphError,
        response.statusCode,
      );
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      discard(response.body);
      throw new MediaTooLargeError(options.maxBytes);
    }
    const type = response.headers['content-type'];
    return {
      mimeType: typeof type === 'string' ? type.split(';')[0].trim().toLowerCase() || null : null,
      body: boundedChunks(response.body, options.maxBytes),
    };
  }

  /** openDownload, read whole into memory (bounded). */
  async downloadMedia(url: string, token: string | null, options: { maxBytes: number; publicDispatcher?: Dispatcher }): Promise<{ bytes: Buffer; mimeType: string | null }> {
    const download = await this.openDownload(url, token, options);
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(Buffer.from(chunk));
    return { bytes: Buffer.concat(chunks), mimeType: download.mimeType };
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}
