import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Row types. Portable across SQLite and PostgreSQL: ids are text (uuid), times are ISO-8601 UTC text
 * (`2026-01-01T00:00:00.000Z`, sorts like time), booleans are 0/1 integers, JSON is text.
 */
export interface AccountsTable {
  id: string;
  name: string;
  messaging_enabled: Generated<number>;
  /** The account's WhatsApp channel: 'sandbox' (the default) or 'cloud_api'. */
  channel_type: Generated<string>;
  created_at: string;
  /** Rows in `customers` of this account: moved in the same transaction as each insert and delete of one. */
  customers_count: Generated<number>;
  /** 1: agents (role `agent`) do not see unassigned conversations. */
  hide_unassigned: Generated<number>;
  /** The flow bot that answers a new customer's first message when no other bot does. */
  default_bot_id: Generated<string | null>;
  /** Unique campaign recipients per 24 hours (Meta's messaging-limit tier); null: unlimited. */
  campaign_daily_limit: Generated<number | null>;
  /** Words that opt a customer out of campaigns, JSON; null: the defaults. */
  stop_words: Generated<string | null>;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CustomersTable {
  id: string;
  account_id: string;
  phone: string;
  name: string | null;
  email: string | null;
  source: string | null;
  country: string | null;
  conversation_status: string;
  last_interaction_at: string | null;
  last_inbound_at: string | null;
  agent_id: string | null;
  team_id: string | null;
  bot: string | null;
  /** A person took the conversation over from its bot (and who); null while the bot may answer. */
  bot_paused_at: string | null;
  bot_paused_by: string | null;
  /** WhatsApp's business-scoped user id (BSUID) of the customer, once WhatsApp named them by one. */
  whatsapp_user_id: string | null;
  custom_fields: string;
  attribution: string;
  created_at: string;
  updated_at: string;
}

/** How many customers of an account carry each custom field name: enforces the 15-names rule. */
export interface CustomFieldNamesTable {
  account_id: string;
  name: string;
  customers_count: number;
}

export interface LabelsTable {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
}

export interface CustomerLabelsTable {
  account_id: string;
  label_id: string;
  customer_id: string;
  created_at: string;
}

/** An agent: an assignable name, and a person who signs in once it has an email (and a password). */
export interface AgentsTable {
  id: string;
  account_id: string;
  name: string;
  email: string | null;
  /** lower(trim(email)): unique across the server. */
  email_normalized: string | null;
  /** 'admin' | 'supervisor' | 'agent'. */
  role: Generated<string>;
  /** Argon2id (PHC string); null until the person sets a password. */
  password_hash: string | null;
  disabled_at: string | null;
  failed_sign_ins: Generated<number>;
  last_failed_sign_in_at: string | null;
  created_at: string;
  /** The person's inbox language ('en' | 'he'); null: the browser's choice. */
  language: Generated<string | null>;
}

export interface TeamMembersTable {
  team_id: string;
  agent_id: string;
  account_id: string;
  created_at: string;
}

/** A signed-in browser; `id` is the SHA-256 of the cookie's token. */
export interface SessionsTable {
  id: string;
  agent_id: string;
  account_id: string;
  created_at: string;
  last_seen_at: string;
  /** The absolute end; the idle end is last_seen_at + the idle timeout. */
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

/** A one-time link to set a password; `id` is the SHA-256 of the link's token. */
export interface InvitationsTable {
  id: string;
  agent_id: string;
  created_at: string;
  expires_at: string;
}

/** A private note on a conversation: never sent to WhatsApp, never shown by the Mumble API. */
export interface NotesTable {
  id: string;
  account_id: string;
  customer_id: string;
  agent_id: string | null;
  text: string;
  created_at: string;
}

export interface ConversationReadsTable {
  agent_id: string;
  customer_id: string;
  /** PostgreSQL returns a bigint as a string. */
  last_read_message_id: number | string;
  read_at: string;
}

export interface CannedResponsesTable {
  id: string;
  account_id: string;
  shortcut: string;
  title: string;
  text: string;
  created_at: string;
  updated_at: string;
}

/** What the inbox streams (SSE); `id` is the event id, and PostgreSQL returns it as a string. */
export interface LiveEventsTable {
  id: Generated<number | string>;
  account_id: string;
  type: string;
  customer_id: string | null;
  /** The customer's assignment when the event happened, and before it (an assignment moves visibility). */
  agent_id: string | null;
  team_id: string | null;
  previous_agent_id: string | null;
  previous_team_id: string | null;
  /** Only this person receives the event (their unread counts). */
  recipient_agent_id: string | null;
  payload: string;
  created_at: string;
}

export interface TeamsTable {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
}

export interface BotsTable {
  id: string;
  account_id: string;
  name: string;
  type: string;
  created_at: string;
  /** The current version of its flow (bot_flow_versions); 0 while it has none. */
  version: Generated<number>;
}

/** Every version of every flow, kept while a session may still run on it. */
export interface BotFlowVersionsTable {
  bot_id: string;
  version: number;
  /** The flow, JSON (src/modules/bots/flow.schema.ts). */
  flow: string;
  created_at: string;
}

/** A customer's place in a flow: one row per customer while a flow runs for them. */
export interface BotSessionsTable {
  customer_id: string;
  account_id: string;
  bot_id: string;
  version: number;
  node_id: string;
  /** What the session waits for at node_id: 'input' (an answer) or 'timer' (a wait node). */
  waiting: string;
  retries: Generated<number>;
  last_answer: string | null;
  /** Moves with every step: a timer or an outbox row of an older generation is stale. */
  generation: Generated<number>;
  /** The key of the last event the session took (an inbound message, a timer): a step run twice is seen. */
  last_event: string | null;
  /** When the wait or the session's timeout runs out. */
  deadline_at: string | null;
  started_at: string;
  updated_at: string;
  /** The AI bot's replies in this session: its reply budget. */
  replies: Generated<number>;
}

/** What a bot step decided to send or change, carried out in order once the step committed. */
export interface BotOutboxTable {
  id: string;
  account_id: string;
  customer_id: string;
  bot_id: string;
  generation: number;
  position: number;
  /** JSON (src/modules/bots/engine.ts BotAction). */
  action: string;
  created_at: string;
}

/** An account's AI bot (docs/ai.md); the key is sealed with OPENMUMBLE_SECRET_KEY. */
export interface AiSettingsTable {
  account_id: string;
  base_url: string | null;
  api_key: string | null;
  model: string | null;
  instructions: string;
  knowledge: string;
  handoff_team_id: string | null;
  max_replies_per_conversation: number;
  temperature: number | null;
  /** JSON array; null: the default phrases. */
  handoff_phrases: string | null;
  created_at: string;
  updated_at: string;
}

/** A template broadcast to a segment (docs/campaigns.md); audience and variables are JSON. */
export interface CampaignsTable {
  id: string;
  account_id: string;
  name: string;
  template_id: string;
  audience: string;
  variables: string;
  button_variables: string;
  media_link: string | null;
  /** scheduled | running | paused | completed | cancelled */
  status: string;
  rate_per_second: number;
  recipients_count: Generated<number>;
  scheduled_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One customer of a campaign, with their own frozen variables (JSON: {variables, button_variables}). */
export interface CampaignRecipientsTable {
  id: string;
  campaign_id: string;
  account_id: string;
  customer_id: string;
  phone: string;
  variables: string;
  position: number;
  /** queued | sent (handed to a message: see message_id) | skipped | failed (refused before any message) */
  state: string;
  reason: string | null;
  message_id: number | null;
  created_at: string;
  updated_at: string;
}

/** Durable background work (src/jobs). */
export interface JobsTable {
  id: Generated<number>;
  type: string;
  payload: string;
  group_key: string | null;
  run_at: string;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  last_error: string | null;
  locked_until: string | null;
  locked_by: string | null;
  created_at: string;
  failed_at: string | null;
}

export interface WebhookSubscriptionsTable {
  id: string;
  account_id: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  secret: string;
  status: string;
  disabled_reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookEventsTable {
  id: string;
  account_id: string;
  type: string;
  ordering_key: string | null;
  payload: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  subscription_id: string;
  event_id: string;
  status: string;
  attempts: Generated<number>;
  manual: Generated<number>;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  number: number;
  attempted_at: string;
  response_status: number | null;
  duration_ms: number;
  error: string | null;
}

export interface IdempotencyKeysTable {
  api_key_id: string;
  key: string;
  fingerprint: string;
  status: string;
  token: string;
  locked_until: string;
  response_status: number | null;
  response_body: string | null;
  created_at: string;
  expires_at: string;
}

/** Messages in both directions; `id` is the integer the API shows (PostgreSQL returns it as a string: see messages.repository). */
export interface MessagesTable {
  id: Generated<number>;
  account_id: string;
  customer_id: string;
  message_wa_id: string | null;
  direction: string;
  type: string;
  text: string | null;
  /** A link handed to WhatsApp. */
  media_url: string | null;
  /** A file in the media store. */
  media_key: string | null;
  media_mime_type: string | null;
  media_filename: string | null;
  template_id: string | null;
  /** Outbound: 'agent' | 'bot' | 'api' | 'campaign'; null for inbound. */
  sender_type: string | null;
  sender_agent_id: string | null;
  /** Structured content beyond the text (contacts, order items, location, reaction target), JSON. */
  content: string | null;
  /** Written by the AI bot: the model and its token counts, for the operator (never in the Mumble API). */
  ai_model: Generated<string | null>;
  ai_prompt_tokens: Generated<number | null>;
  ai_completion_tokens: Generated<number | null>;
  business_phone: string;
  status: string;
  error_code: number | null;
  error_title: string | null;
  created_at: string;
  updated_at: string;
}

/** Status updates that arrived before their message was known. */
export interface PendingStatusesTable {
  id: string;
  account_id: string;
  message_wa_id: string;
  status: string;
  error_code: number | null;
  error_title: string | null;
  occurred_at: string;
  created_at: string;
}

/** Message templates; header, buttons and body_examples are JSON. */
export interface TemplatesTable {
  id: string;
  account_id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  status_reason: string | null;
  body: string;
  body_examples: string;
  header: string | null;
  media_url: string | null;
  footer: string | null;
  buttons: string;
  provider_template_id: string | null;
  created_at: string;
  updated_at: string;
}

/** An account connected to the WhatsApp Cloud API (issue 6); the token is encrypted. */
export interface WhatsAppChannelsTable {
  account_id: string;
  phone_number_id: string;
  waba_id: string;
  display_phone_number: string;
  access_token: string;
  /** 'connected' | 'disconnected' (Meta refused the token; status_reason says why). */
  status: Generated<string>;
  status_reason: string | null;
  status_changed_at: string;
  created_at: string;
  updated_at: string;
}

/** Webhook deliveries from Meta, stored (raw) before they are acknowledged, processed by a job. */
export interface WhatsAppWebhookInboxTable {
  id: string;
  body_sha256: string;
  body: string;
  received_at: string;
  processed_at: string | null;
  outcome: string | null;
  unrouted_phone_number_ids: string | null;
  last_error: string | null;
  processed_by: string | null;
  process_count: Generated<number>;
}

/** One row (id 1): moved by triggers with every change that can make a cached API key wrong (migration 0014). */
export interface AuthEpochTable {
  id: number;
  epoch: string | number;
}

export interface DB {
  auth_epoch: AuthEpochTable;
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  customers: CustomersTable;
  custom_field_names: CustomFieldNamesTable;
  labels: LabelsTable;
  customer_labels: CustomerLabelsTable;
  agents: AgentsTable;
  teams: TeamsTable;
  bots: BotsTable;
  bot_flow_versions: BotFlowVersionsTable;
  bot_sessions: BotSessionsTable;
  bot_outbox: BotOutboxTable;
  ai_settings: AiSettingsTable;
  campaigns: CampaignsTable;
  campaign_recipients: CampaignRecipientsTable;
  jobs: JobsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  messages: MessagesTable;
  pending_statuses: PendingStatusesTable;
  templates: TemplatesTable;
  whatsapp_channels: WhatsAppChannelsTable;
  whatsapp_webhook_inbox: WhatsAppWebhookInboxTable;
  team_members: TeamMembersTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  notes: NotesTable;
  conversation_reads: ConversationReadsTable;
  canned_responses: CannedResponsesTable;
  live_events: LiveEventsTable;
}

export type Account = Selectable<AccountsTable>;
/** An account as a request carries it: everything but the count add-new-customer moves. */
export type RequestAccount = Omit<Account, 'customers_count'>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
export type JobRow = Selectable<JobsTable>;
export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type WebhookEventRow = Selectable<WebhookEventsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;
export type MessageRow = Selectable<MessagesTable>;
export type NewMessageRow = Insertable<MessagesTable>;
export type TemplateRow = Selectable<TemplatesTable>;
export type AgentRow = Selectable<AgentsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type NoteRow = Selectable<NotesTable>;
export type CannedResponseRow = Selectable<CannedResponsesTable>;
export type LiveEventRow = Selectable<LiveEventsTable>;
export type BotRow = Selectable<BotsTable>;
export type BotSessionRow = Selectable<BotSessionsTable>;
export type BotOutboxRow = Selectable<BotOutboxTable>;
export type AiSettingsRow = Selectable<AiSettingsTable>;
export type CampaignRow = Selectable<CampaignsTable>;
export type CampaignRecipientRow = Selectable<CampaignRecipientsTable>;
