/** The inbox API (/app/api, docs/inbox.md): the only thing this app talks to. */

import type { operations } from '../../packages/client/src/schema';

/** The JSON a route answers with, as the OpenAPI document (and so the typed client) says: one source of truth with the server. */
type Reply<O extends keyof operations> = operations[O] extends { responses: { 200: { content: { 'application/json': infer T } } } }
  ? T
  : operations[O] extends { responses: { 201: { content: { 'application/json': infer T } } } }
    ? T
    : never;

export type User = Reply<'app_get_me'>['user'];
export type Conversation = Reply<'app_get_conversations'>['conversations'][number];
export type ConversationDetail = Reply<'app_get_conversations_customerId'>['conversation'];
export type BotState = Conversation['bot'];
export type TimelineItem = Reply<'app_get_conversations_customerId_timeline'>['items'][number];
export type Message = Extract<TimelineItem, { kind: 'message' }>;
export type Note = Extract<TimelineItem, { kind: 'note' }>;
export type Sender = NonNullable<Message['sender']>;
export type Directory = Reply<'app_get_directory'>;
export type Template = Reply<'app_get_templates'>['templates'][number];
export type CannedResponse = Reply<'app_get_canned_responses'>['canned_responses'][number];
export type Person = Reply<'app_get_admin_people'>['people'][number];
export type Team = Reply<'app_get_admin_teams'>['teams'][number];
export type ApiKey = Reply<'app_get_admin_api_keys'>['api_keys'][number];
export type Webhook = Reply<'app_get_admin_webhooks'>['webhooks'][number];
export type Delivery = Reply<'app_get_admin_webhooks_id_deliveries'>['deliveries'][number];
export type Channel = Reply<'app_get_admin_whatsapp'>['channel'];
export type TemplateRow = Reply<'app_get_admin_templates'>['templates'][number];

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Called when any request answers 401: the session ended. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // Every change carries the CSRF header (docs/inbox.md, *CSRF*).
  if (method !== 'GET') headers['x-openmumble-csrf'] = '1';
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(`/app/api${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) {
    if (response.status === 401 && path !== '/session') onSignedOut();
    throw new ApiFailure(response.status, typeof json.message === 'string' ? json.message : response.statusText);
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
