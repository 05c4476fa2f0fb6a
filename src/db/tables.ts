import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Row types. Portable across SQLite and PostgreSQL: ids are text (uuid), times are ISO-8601 UTC text
 * (`2026-01-01T00:00:00.000Z`, sorts like time), booleans are 0/1 integers, JSON is text.
 */
export interface AccountsTable {
  id: string;
  name: string;
  messaging_enabled: Generated<number>;
  created_at: string;
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

export interface AgentsTable {
  id: string;
  account_id: string;
  name: string;
  email: string | null;
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
}

export interface DB {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  customers: CustomersTable;
  custom_field_names: CustomFieldNamesTable;
  labels: LabelsTable;
  customer_labels: CustomerLabelsTable;
  agents: AgentsTable;
  teams: TeamsTable;
  bots: BotsTable;
}

export type Account = Selectable<AccountsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
