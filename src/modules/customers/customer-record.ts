import { toApiTime } from '../../db/time.js';
import type { CustomerRow } from '../../db/tables.js';
import type { CustomerRecord } from './customers.schema.js';

/** Custom field values as the Mumble API shows them. */
export type CustomFields = Record<string, string | number | boolean>;

/** A customer as the Mumble API (and its webhook events) shows one. */
export function toCustomerRecord(row: CustomerRow, labels: string[]): CustomerRecord {
  return {
    id: row.id,
    name: row.name,
    phone: row.phone,
    email: row.email,
    country: row.country,
    conversation_status: row.conversation_status as CustomerRecord['conversation_status'],
    last_interaction: toApiTime(row.last_interaction_at),
    source: row.source,
    custom_fields: JSON.parse(row.custom_fields) as CustomFields,
    attribution: JSON.parse(row.attribution) as Record<string, string>,
    labels,
    agent_id: row.agent_id,
    team_id: row.team_id,
    bot: row.bot,
    created_at: toApiTime(row.created_at)!,
  };
}
