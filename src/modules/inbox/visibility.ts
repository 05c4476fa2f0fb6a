import type { ExpressionBuilder, ExpressionWrapper, SqlBool } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { Viewer } from '../../http/viewer.js';

/**
 * Who may see a customer: the one rule every inbox list, read, action and live event applies.
 *
 * - `admin` and `supervisor` see every customer of their account.
 * - `agent` sees customers assigned to them, customers assigned to one of their teams, and
 *   unassigned customers (no agent and no team) unless the account hides those.
 *
 * Anything the rule hides answers 404, as a customer of another account does.
 */
export interface Assignment {
  account_id: string;
  agent_id: string | null;
  team_id: string | null;
}

export function seesEverything(viewer: Viewer): boolean {
  return viewer.role === 'admin' || viewer.role === 'supervisor';
}

export function canSee(viewer: Viewer, customer: Assignment): boolean {
  if (customer.account_id !== viewer.accountId) return false;
  if (seesEverything(viewer)) return true;
  if (customer.agent_id === viewer.agentId) return true;
  if (customer.team_id !== null && viewer.teamIds.includes(customer.team_id)) return true;
  return customer.agent_id === null && customer.team_id === null && !viewer.hideUnassigned;
}

/**
 * The same rule as a condition on `customers` (in a query selecting from it), for lists and counts.
 * The account condition is the caller's (it leads the index).
 */
export function visibleCustomers(viewer: Viewer) {
  return (eb: ExpressionBuilder<DB, 'customers'>): ExpressionWrapper<DB, 'customers', SqlBool> => {
    // and([]) is `1 = 1`: no condition.
    if (seesEverything(viewer)) return eb.and([]);
    const anyOf = [eb('customers.agent_id', '=', viewer.agentId)];
    if (viewer.teamIds.length > 0) anyOf.push(eb('customers.team_id', 'in', viewer.teamIds));
    if (!viewer.hideUnassigned) anyOf.push(eb.and([eb('customers.agent_id', 'is', null), eb('customers.team_id', 'is', null)]));
    return eb.or(anyOf);
  };
}
