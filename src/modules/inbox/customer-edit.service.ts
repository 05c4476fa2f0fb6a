import type { Deps } from '../../deps.js';
import { badRequest } from '../../errors.js';
import { parseWith } from '../../http/app-route.js';
import type { Viewer } from '../../http/viewer.js';
import { editCustomer } from '../customers/customers.service.js';
import { customerFieldsInput, isKnownField } from '../customers/customers.schema.js';
import { conversationDetailOf, requireVisibleConversation } from './conversations.service.js';
import type { CustomerEdit } from './inbox.schema.js';

export const INVALID_CUSTOMER_INPUT = 'Failed to update customer due to invalid input';

/**
 * A person edits the customer of a conversation they may see: the Mumble API's edit-customer
 * (editCustomer) with its rules (15 custom field names per account, a null removes a field, all
 * or nothing). A custom field may not be named like a standard or attribution field.
 */
export async function editCustomerAsPerson(deps: Deps, viewer: Viewer, customerId: string, edit: CustomerEdit) {
  const row = await requireVisibleConversation(deps, viewer, customerId);
  const custom = edit.custom_fields ?? {};
  if (Object.keys(custom).some(isKnownField)) throw badRequest(INVALID_CUSTOMER_INPUT);
  const input = parseWith(
    customerFieldsInput,
    { ...custom, customer_phone: row.phone, ...(edit.name !== undefined && { name: edit.name }), ...(edit.email !== undefined && { email: edit.email }) },
    'body',
  );
  await editCustomer(deps, viewer.accountId, input);
  return conversationDetailOf(deps, viewer, await requireVisibleConversation(deps, viewer, customerId));
}
