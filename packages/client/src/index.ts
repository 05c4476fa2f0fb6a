import createFetchClient from 'openapi-fetch';
import type { paths } from './schema.js';
import { randomUuid, retryingFetch, type RetryPolicy } from './transport.js';

export type { paths } from './schema.js';
export { verifyWebhook, WebhookVerificationError, type VerifiedWebhook } from './webhooks.js';
export type { RetryPolicy } from './transport.js';

/** An error reply of the server: its status and the envelope's message (`{"error": true, "message": "…"}`). */
export class OpenMumbleError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The whole reply body (the `missing` fields of a 400, for instance). */
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'OpenMumbleError';
  }
}

export interface ClientOptions {
  /** Where the server is, e.g. `https://crm.example.com` (without `/mumbleapi`). */
  baseUrl: string;
  /** The account's API key (`om_live_…`). */
  apiKey: string;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Another fetch (default: the global one). */
  fetch?: typeof fetch;
  /** Makes the Idempotency-Key of each write (default: a random UUID). */
  idempotencyKey?: () => string;
}

type Method = 'post' | 'delete';
type Operation<P extends keyof paths, M extends Method> = paths[P] extends Record<M, infer Op> ? Op : never;
type JsonBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer Body } } } ? Body : never;
type Success<Op> = Op extends { responses: { 200: { content: { 'application/json': infer Reply } } } } ? Reply : never;

/** Options of one call. */
export interface CallOptions {
  /** A key of your own (to make a write idempotent across processes or restarts). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** Media to send: a file (uploaded as multipart/form-data) or a link WhatsApp fetches. */
export type SendMediaInput = Omit<JsonBody<Operation<'/mumbleapi/send-media-message', 'post'>>, 'file'> & { file?: Blob; filename?: string };

/**
 * A client of one account. One method per endpoint, typed from the server's OpenAPI document;
 * errors throw OpenMumbleError. Works wherever `fetch` does (Node 20+, Deno, Bun, browsers).
 */
export function createClient(options: ClientOptions) {
  const newKey = options.idempotencyKey ?? (() => randomUuid());
  const http = createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { 'mumble-api-key': options.apiKey },
    fetch: retryingFetch({
      timeoutMs: options.timeoutMs ?? 30_000,
      retry: { maxRetries: 3, baseDelayMs: 250, maxDelayMs: 20_000, ...options.retry },
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    }),
  });

  async function call<P extends keyof paths, M extends Method>(
    method: M,
    path: P,
    kind: 'read' | 'write',
    body: JsonBody<Operation<P, M>> | FormData,
    call: CallOptions = {},
  ): Promise<Success<Operation<P, M>>> {
    const headers: Record<string, string> = kind === 'write' ? { 'idempotency-key': call.idempotencyKey ?? newKey() } : {};
    const init = {
      body,
      headers,
      ...(call.signal && { signal: call.signal }),
      ...(body instanceof FormData && { bodySerializer: (form: FormData) => form }),
    };
    const { data, error, response } = await (http.request as (m: string, p: string, i: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>)(
      method.toUpperCase(),
      path,
      init,
    );
    if (!response.ok || data === undefined) {
      const message = (error as { message?: unknown } | undefined)?.message;
      throw new OpenMumbleError(response.status, typeof message === 'string' ? message : `HTTP ${response.status}`, error);
    }
    return data as Success<Operation<P, M>>;
  }

  /** A method of one endpoint: its path, HTTP method and whether it reads or writes. */
  const endpoint =
    <M extends Method>(method: M, kind: 'read' | 'write') =>
    <P extends keyof paths>(path: P) =>
    (body: JsonBody<Operation<P, M>>, options?: CallOptions) =>
      call(method, path, kind, body, options);
  const read = endpoint('post', 'read');
  const write = endpoint('post', 'write');
  const remove = endpoint('delete', 'write');
  /** A read whose parameters are all optional (a list): the body may be left out. */
  const list =
    <P extends keyof paths>(path: P) =>
    (body = {} as JsonBody<Operation<P, 'post'>>, options?: CallOptions) =>
      read(path)(body, options);

  return {
    customers: {
      add: write('/mumbleapi/add-new-customer'),
      edit: write('/mumbleapi/edit-customer'),
      delete: remove('/mumbleapi/delete-customer'),
      get: read('/mumbleapi/get-customer'),
      list: list('/mumbleapi/get-all-customers'),
      setConversationStatus: write('/mumbleapi/edit-customer-conv-status'),
      assignAgent: write('/mumbleapi/assign-customer-to-agent'),
      assignTeam: write('/mumbleapi/assign-customer-to-team'),
    },
    labels: {
      addCustomer: write('/mumbleapi/add-customer-to-label'),
      removeCustomer: remove('/mumbleapi/remove-customer-from-label'),
      create: write('/mumbleapi/add-new-label'),
      delete: remove('/mumbleapi/delete-label'),
      list: list('/mumbleapi/get-labels'),
    },
    messages: {
      sendText: write('/mumbleapi/send-text-message'),
      /** A file (multipart) or a `media_url`. */
      sendMedia: ({ file, filename, ...fields }: SendMediaInput, options?: CallOptions) => {
        if (!file) return call('post', '/mumbleapi/send-media-message', 'write', fields as JsonBody<Operation<'/mumbleapi/send-media-message', 'post'>>, options);
        const form = new FormData();
        for (const [name, value] of Object.entries(fields)) if (value !== undefined && value !== null) form.append(name, String(value));
        form.append('file', file, filename ?? (file as File).name ?? 'file');
        return call('post', '/mumbleapi/send-media-message', 'write', form, options);
      },
      sendTemplate: write('/mumbleapi/send-template'),
      sendTemplateTextVariable: write('/mumbleapi/send-template-text-variable'),
      get: read('/mumbleapi/get-message'),
    },
    conversations: {
      get: read('/mumbleapi/get-conversation'),
      isActive: read('/mumbleapi/is-active-conv'),
    },
    agents: { list: list('/mumbleapi/get-agents') },
    teams: { list: list('/mumbleapi/get-teams') },
    bots: {
      list: list('/mumbleapi/get-bots'),
      assign: write('/mumbleapi/assign-bot'),
    },
    templates: {
      list: list('/mumbleapi/get-templates'),
      create: write('/mumbleapi/create-template'),
    },
    webhooks: {
      add: write('/mumbleapi/add-webhook'),
      list: list('/mumbleapi/get-webhooks'),
      delete: remove('/mumbleapi/delete-webhook'),
      deliveries: read('/mumbleapi/get-webhook-deliveries'),
      redeliver: write('/mumbleapi/redeliver-webhook'),
    },
    /** The sandbox channel (development and tests): play the customer and WhatsApp. */
    sandbox: {
      receiveMessage: write('/mumbleapi/sandbox/receive-message'),
      setTemplateStatus: write('/mumbleapi/sandbox/set-template-status'),
      setMessageStatus: write('/mumbleapi/sandbox/set-message-status'),
    },
  };
}

export type OpenMumbleClient = ReturnType<typeof createClient>;
