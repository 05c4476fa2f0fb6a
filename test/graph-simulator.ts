/**
 * A small local stand-in for Meta's Graph API (WhatsApp Cloud API), ours, for tests: node:http on
 * 127.0.0.1 at a random port. It records every request, answers like the Cloud API (success and
 * error shapes), can be told to fail or to hang, serves media, and sends signed webhooks back.
 *
 * Routes (any `/vNN.N/` version prefix):
 *   POST /{phone-number-id}/messages          → {"messaging_product","contacts":[{input,wa_id}],"messages":[{"id":"wamid…"}]}
 *   POST /{phone-number-id}/media (multipart) → {"id":"<media id>"}
 *   POST /{waba-id}/message_templates         → {"id","status":"PENDING","category"}
 *   POST /{app-id}/uploads?file_length&file_type&file_name → {"id":"upload:…"}
 *   POST /upload:… (Authorization: OAuth, file_offset: 0) → {"h":"…"}
 *   GET  /{media-id}                          → {"url","mime_type","sha256","file_size","id","messaging_product"}
 *   GET  /media-download/{media-id}           → the bytes (bearer token required)
 *   GET  /public/{name}                       → a published file, no token (any public web server)
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the version prefix, e.g. `/106540352242922/messages`. */
  path: string;
  version: string | null;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The JSON body, when it was JSON. */
  json: any;
  /** The multipart fields, when it was multipart (files as {filename, type, size, bytes}). */
  form: Record<string, string | { filename: string; type: string; size: number; bytes: Buffer }> | null;
}

export interface FailureSpec {
  /** Graph error code (131047, 130429, 131056, 190, …). */
  code: number;
  httpStatus?: number;
  message?: string;
  details?: string;
  type?: string;
  subcode?: number;
  /** Only requests whose path matches; default: `/messages`. */
  path?: RegExp;
  /** How many matching requests fail; default 1. */
  times?: number;
}

export interface StoredMedia {
  bytes: Buffer;
  mimeType: string;
}

const KNOWN_TITLES: Record<number, [number, string, string]> = {
  131047: [400, 'Re-engagement message', 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'],
  130429: [400, 'Rate limit hit', 'Cloud API message throughput has been reached.'],
  131056: [400, '(Business Account, Consumer Account) pair rate limit hit', 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.'],
  190: [401, 'Error validating access token: Session has expired', 'The access token is expired or invalid.'],
  131026: [400, 'Message undeliverable', 'Message failed to send because the recipient is not a WhatsApp user.'],
  100: [400, 'Invalid parameter', 'Parameter value is not valid.'],
  132001: [404, 'Template name does not exist in the translation', 'template name does not exist in en'],
};

/** The error body the Cloud API sends. */
export function graphErrorBody(spec: FailureSpec): { status: number; body: object } {
  const known = KNOWN_TITLES[spec.code];
  const status = spec.httpStatus ?? known?.[0] ?? 400;
  const title = spec.message ?? known?.[1] ?? 'Something went wrong';
  return {
    status,
    body: {
      error: {
        message: `(#${spec.code}) ${title}`,
        type: spec.type ?? 'OAuthException',
        code: spec.code,
        ...(spec.subcode !== undefined ? { error_subcode: spec.subcode } : {}),
        error_data: { messaging_product: 'whatsapp', details: spec.details ?? known?.[2] ?? title },
        fbtrace_id: `A${randomBytes(8).toString('hex')}`,
      },
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class GraphSimulator {
  readonly requests: RecordedRequest[] = [];
  /** Tokens the simulator accepts; an unknown one gets error 190. Empty = any token. */
  readonly validTokens = new Set<string>();
  readonly media = new Map<string, StoredMedia>();
  /** Files served without a token under /public/ (stand-ins for any public web server). */
  readonly publicFiles = new Map<string, StoredMedia>();
  readonly templates: { id: string; wabaId: string; body: any }[] = [];
  private failures: FailureSpec[] = [];
  private wamids: string[] = [];
  private hangs: { path: RegExp; times: number; afterBody: boolean }[] = [];
  private counter = 0;
  private readonly hanging = new Set<ServerResponse>();
  /** Where the simulator sends webhooks (our server's /webhooks/whatsapp), when told to. */
  webhookTarget: WebhookTarget | null = null;
  /** After each accepted message, send its sent → delivered → read statuses to webhookTarget. */
  autoStatuses = false;
  /** The display number of each phone number id, for the webhooks' metadata. */
  readonly displayNumbers = new Map<string, string>();
  private outbox: Promise<void> = Promise.resolve();
  private readonly webhookFailures: unknown[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<GraphSimulator> {
    let simulator: GraphSimulator | undefined;
    const server = createServer((request, response) => {
      simulator!.handle(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(JSON.stringify({ error: { message: String(error), code: 1 } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    simulator = new GraphSimulator(server, `http://127.0.0.1:${port}`);
    return simulator;
  }

  /** The next matching request(s) fail with this Graph error. */
  failNext(spec: FailureSpec): void {
    this.failures.push({ times: 1, ...spec });
  }

  /** The next matching request(s) get no answer at all (the client's timeout decides). */
  hangNext(path: RegExp = /\/messages$/, times = 1): void {
    this.hangs.push({ path, times, afterBody: true });
  }

  /** The next message send is answered with this wamid (to send a status before the answer). */
  nextWamid(wamid: string): void {
    this.wamids.push(wamid);
  }

  /** Stores media the simulator serves through GET /{media-id}; returns its id. */
  addMedia(bytes: Buffer, mimeType: string): string {
    const id = String(1_000_000_000_000 + ++this.counter);
    this.media.set(id, { bytes, mimeType });
    return id;
  }

  /** Serves a file at `/public/<name>` with no token needed; returns its URL. */
  publish(name: string, bytes: Buffer, mimeType: string): string {
    this.publicFiles.set(name, { bytes, mimeType });
    return `${this.url}/public/${name}`;
  }

  /** Sends a webhook to webhookTarget after those queued before it (Meta's order, one at a time). */
  queueWebhook(payload: object): void {
    const target = this.webhookTarget;
    if (!target) throw new Error('no webhookTarget set');
    this.outbox = this.outbox.then(async () => {
      const answer = await sendWebhook(target, payload).catch((error: unknown) => ({ status: 0, body: String(error) }));
      if (answer.status !== 200) this.webhookFailures.push(answer);
    });
  }

  /** Resolves when every queued webhook has been answered; throws if one was not answered 200. */
  async flushWebhooks(): Promise<void> {
    await this.outbox;
    if (this.webhookFailures.length > 0) throw new Error(`webhooks refused: ${JSON.stringify(this.webhookFailures.splice(0))}`);
  }

  /** Meta's review verdict on a submitted template, as a message_template_status_update webhook. */
  reviewTemplate(templateId: string, event = 'APPROVED', reason?: string): void {
    const template = this.templates.find((t) => t.id === templateId);
    if (!template) throw new Error(`unknown template ${templateId}`);
    this.queueWebhook(templateStatusDelivery(template.wabaId, { templateId, name: template.body.name, language: template.body.language, event, reason }));
  }

  /** Recorded requests to paths matching this. */
  requestsTo(path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => path.test(r.path));
  }

  /** Recorded message sends (`POST …/messages`) with their JSON bodies. */
  sentMessages(): any[] {
    return this.requestsTo(/\/messages$/).map((r) => r.json);
  }

  reset(): void {
    this.requests.length = 0;
    this.failures = [];
    this.hangs = [];
    this.wamids = [];
  }

  private nextId(prefix: string): string {
    return `${prefix}${randomBytes(12).toString('base64url')}${++this.counter}`;
  }

  private takeFailure(path: string): FailureSpec | undefined {
    const index = this.failures.findIndex((f) => (f.path ?? /\/messages$/).test(path));
    if (index < 0) return undefined;
    const failure = this.failures[index];
    failure.times = (failure.times ?? 1) - 1;
    if (failure.times <= 0) this.failures.splice(index, 1);
    return failure;
  }

  private takeHang(path: string): boolean {
    const index = this.hangs.findIndex((h) => h.path.test(path));
    if (index < 0) return false;
    const hang = this.hangs[index];
    hang.times -= 1;
    if (hang.times <= 0) this.hangs.splice(index, 1);
    return true;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const match = /^\/(v\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const version = match ? match[1] : null;
    const path = match ? match[2] : url.pathname;
    const body = await readBody(request);
    const type = request.headers['content-type'] ?? '';
    let json: any = null;
    let form: RecordedRequest['form'] = null;
    if (type.startsWith('application/json')) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = null;
      }
    } else if (type.startsWith('multipart/form-data')) {
      const parsed = await new Response(body, { headers: { 'content-type': type } }).formData();
      form = {};
      for (const [key, value] of parsed) {
        if (typeof value === 'string') form[key] = value;
        else {
          const bytes = Buffer.from(await value.arrayBuffer());
          form[key] = { filename: (value as File).name, type: value.type, size: value.size, bytes };
        }
      }
    }
    this.requests.push({ method: request.method ?? 'GET', path, version, query: url.searchParams, headers: request.headers, body, json, form });

    if (this.takeHang(path)) {
      this.hanging.add(response);
      response.on('close', () => this.hanging.delete(response));
      return;
    }
    const send = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(payload));
    };
    const sendError = (spec: FailureSpec) => {
      const { status, body: errorBody } = graphErrorBody(spec);
      send(status, errorBody);
    };

    if (request.method === 'GET' && url.pathname.startsWith('/public/')) {
      const file = this.publicFiles.get(url.pathname.slice('/public/'.length));
      response.writeHead(file ? 200 : 404, { 'content-type': file?.mimeType ?? 'text/plain' });
      response.end(file?.bytes ?? 'not found');
      return;
    }
    const auth = request.headers.authorization ?? '';
    const token = auth.replace(/^(Bearer|OAuth)\s+/i, '');
    if (!token || (this.validTokens.size > 0 && !this.validTokens.has(token))) return sendError({ code: 190 });
    const failure = this.takeFailure(path);
    if (failure) return sendError(failure);

    let m: RegExpExecArray | null;
    if (request.method === 'POST' && (m = /^\/(\d+)\/messages$/.exec(path))) {
      if (json?.messaging_product !== 'whatsapp' || typeof json.to !== 'string' || typeof json.type !== 'string' || !(json.type in json)) {
        return sendError({ code: 100, details: 'Unexpected message payload' });
      }
      if (!/^\d{7,15}$/.test(json.to)) return sendError({ code: 100, details: `Invalid parameter: to (${json.to}) is not a phone number` });
      const wamid = this.wamids.shift() ?? this.nextId('wamid.');
      if (this.autoStatuses && this.webhookTarget) {
        const ids = { phoneNumberId: m[1], displayPhoneNumber: this.displayNumbers.get(m[1]) ?? '15550783881' };
        const callbackData = typeof json.biz_opaque_callback_data === 'string' ? json.biz_opaque_callback_data : undefined;
        for (const status of ['sent', 'delivered', 'read'] as const) {
          this.queueWebhook(statusDelivery(ids, { wamid, status, recipient: json.to, callbackData }));
        }
      }
      return send(200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: json.to, wa_id: json.to }],
        messages: [json.type === 'template' ? { id: wamid, message_status: 'accepted' } : { id: wamid }],
      });
    }
    if (request.method === 'POST' && (m = /^\/(\d+)\/media$/.exec(path))) {
      const file = form?.file;
      if (!form || form.messaging_product !== 'whatsapp' || !file || typeof file === 'string') return sendError({ code: 100, details: 'Missing file' });
      return send(200, { id: this.addMedia(file.bytes, typeof form.type === 'string' ? form.type : file.type) });
    }
    if (request.method === 'POST' && (m = /^\/(\d+)\/message_templates$/.exec(path))) {
      const id = String(2_000_000_000_000 + ++this.counter);
      this.templates.push({ id, wabaId: m[1], body: json });
      return send(200, { id, status: 'PENDING', category: json?.category ?? 'UTILITY' });
    }
    if (request.method === 'POST' && /^\/(\d+)\/uploads$/.test(path)) {
      if (!url.searchParams.get('file_length') || !url.searchParams.get('file_type')) return sendError({ code: 100, details: 'file_length and file_type are required' });
      return send(200, { id: `upload:${randomBytes(9).toString('base64url')}` });
    }
    if (request.method === 'POST' && /^\/upload:/.test(path)) {
      if (!/^OAuth /.test(auth) || request.headers.file_offset !== '0') return sendError({ code: 100, details: 'OAuth authorization and file_offset are required' });
      return send(200, { h: `4::${Buffer.from(String(request.headers['content-type'] ?? '')).toString('base64')}:${createHash('sha256').update(body).digest('base64url')}` });
    }
    if (request.method === 'GET' && (m = /^\/media-download\/(\d+)$/.exec(path))) {
      const media = this.media.get(m[1]);
      if (!media) return sendError({ code: 100, httpStatus: 404, details: 'Unknown media' });
      response.writeHead(200, { 'content-type': media.mimeType, 'content-length': String(media.bytes.length) });
      response.end(media.bytes);
      return;
    }
    if (request.method === 'GET' && (m = /^\/(\d+)$/.exec(path))) {
      const media = this.media.get(m[1]);
      if (!media) return sendError({ code: 100, httpStatus: 404, details: 'Unknown media id' });
      return send(200, {
        messaging_product: 'whatsapp',
        url: `${this.url}/media-download/${m[1]}`,
        mime_type: media.mimeType,
        sha256: createHash('sha256').update(media.bytes).digest('hex'),
        file_size: String(media.bytes.length),
        id: m[1],
      });
    }
    sendError({ code: 100, httpStatus: 404, details: `Unsupported request ${request.method} ${path}` });
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ───── Webhooks, as Meta sends them ─────

/** `X-Hub-Signature-256` of a raw body. */
export function metaSignature(rawBody: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export interface WebhookTarget {
  /** Our server's `…/webhooks/whatsapp` URL. */
  url: string;
  appSecret: string;
}

/** POSTs a webhook the way Meta does: JSON body, signed with the app secret (or a given signature). */
export async function sendWebhook(target: WebhookTarget, payload: unknown, options: { signature?: string | null; rawBody?: string } = {}): Promise<{ status: number; body: string }> {
  const raw = options.rawBody ?? JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' };
  const signature = options.signature === undefined ? metaSignature(raw, target.appSecret) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const response = await fetch(target.url, { method: 'POST', headers, body: raw });
  return { status: response.status, body: await response.text() };
}

export interface ChannelIds {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  wabaId?: string;
}

/** A `messages` delivery with one change. */
export function messagesDelivery(ids: ChannelIds, value: Record<string, unknown>): object {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: ids.wabaId ?? '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: ids.displayPhoneNumber ?? '15550783881', phone_number_id: ids.phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

let inboundCounter = 0;

/** A fresh inbound wamid. */
export function newWamid(): string {
  return `wamid.IN${Date.now().toString(36)}${(++inboundCounter).toString(36)}${randomBytes(6).toString('hex')}`;
}

/** An inbound message delivery: `message` is the type-specific part, e.g. `{type:'text', text:{body:'hi'}}`. */
export function inboundDelivery(
  ids: ChannelIds,
  from: { phone: string; name?: string },
  message: Record<string, unknown>,
  options: { wamid?: string; timestamp?: number } = {},
): { payload: object; wamid: string } {
  const wamid = options.wamid ?? newWamid();
  const payload = messagesDelivery(ids, {
    contacts: [{ profile: { name: from.name ?? 'WhatsApp User' }, wa_id: from.phone }],
    messages: [{ from: from.phone, id: wamid, timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)), ...message }],
  });
  return { payload, wamid };
}

/** A status delivery for one outbound message. */
export function statusDelivery(
  ids: ChannelIds,
  status: { wamid: string; status: 'sent' | 'delivered' | 'read' | 'failed'; recipient: string; timestamp?: number; callbackData?: string; errors?: object[] },
): object {
  return messagesDelivery(ids, {
    statuses: [
      {
        id: status.wamid,
        status: status.status,
        timestamp: String(status.timestamp ?? Math.floor(Date.now() / 1000)),
        recipient_id: status.recipient,
        ...(status.callbackData ? { biz_opaque_callback_data: status.callbackData } : {}),
        ...(status.status === 'failed' ? { errors: status.errors ?? [] } : {}),
        ...(status.status !== 'failed'
          ? { conversation: { id: 'conv1', origin: { type: 'service' } }, pricing: { billable: true, pricing_model: 'CBP', category: 'service' } }
          : {}),
      },
    ],
  });
}

/** A message_template_status_update delivery. */
export function templateStatusDelivery(wabaId: string, update: { templateId: string; name: string; language: string; event: string; reason?: string }): object {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        time: Math.floor(Date.now() / 1000),
        changes: [
          {
            field: 'message_template_status_update',
            value: {
              event: update.event,
              message_template_id: Number(update.templateId),
              message_template_name: update.name,
              message_template_language: update.language,
              reason: update.reason ?? 'NONE',
            },
          },
        ],
      },
    ],
  };
}
