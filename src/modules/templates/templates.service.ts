import type { TemplateButton, TemplateDefinition, TemplateHeaderFormat, TemplateMessage, TemplateStatusUpdate } from '../../channels/channel.js';
import type { Kysely } from 'kysely';
import type { RequestAccount, DB, TemplateRow } from '../../db/tables.js';
import { toApiTime, toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { countVariables, renderTemplate } from './template-text.js';
import * as repository from './templates.repository.js';
import { recordEvent } from '../webhooks/events.js';
import {
  BUTTON_VARIABLES_MISMATCH,
  TEMPLATE_NAME_TAKEN,
  TEMPLATE_NOT_APPROVED,
  TEMPLATE_NOT_FOUND,
  URL_VARIABLE,
  VARIABLES_MISMATCH,
  type CreateTemplateInput,
  type TemplateRecord,
} from './templates.schema.js';

function headerOf(row: TemplateRow): { format: TemplateHeaderFormat } | null {
  return row.header === null ? null : JSON.parse(row.header);
}

function buttonsOf(row: TemplateRow): TemplateButton[] {
  return JSON.parse(row.buttons);
}

export function toTemplateRecord(row: TemplateRow): TemplateRecord {
  return {
    id: row.id,
    name: row.name,
    language: row.language,
    category: row.category as TemplateRecord['category'],
    status: row.status as TemplateRecord['status'],
    body: row.body,
    header: headerOf(row),
    footer: row.footer,
    buttons: buttonsOf(row),
    variables: countVariables(row.body) ?? 0,
    media_url: row.media_url,
    created_at: toApiTime(row.created_at)!,
  };
}

/** template.status_changed when the template's status moved: the template as get-templates shows it, plus `previous_status`. */
async function recordTemplateStatusEvent(deps: Pick<Deps, 'clock'>, trx: Kysely<DB>, before: TemplateRow | undefined): Promise<void> {
  if (!before) return;
  const after = await repository.findTemplate(trx, before.account_id, before.id);
  if (!after || after.status === before.status) return;
  // Not about a conversation: the inbox shows no template events.
  await recordEvent(trx, after.account_id, 'template.status_changed', { ...toTemplateRecord(after), previous_status: before.status }, `template:${after.id}`, deps.clock.now(), []);
}

function definitionOf(input: CreateTemplateInput): TemplateDefinition {
  return {
    name: input.name,
    language: input.language,
    category: input.category,
    body: input.body,
    bodyExamples: input.body_examples ?? [],
    header: input.header && input.media_url ? { format: input.header.format, mediaUrl: input.media_url } : null,
    footer: input.footer ?? null,
    buttons: input.buttons ?? [],
  };
}

/**
 * Stores the template as PENDING, then submits it through the account's channel. A submission that
 * fails removes the template again, so the same name can be tried again.
 */
export async function createTemplate(deps: Deps, account: RequestAccount, input: CreateTemplateInput): Promise<{ id: string; status: string }> {
  const { db } = deps.database;
  const definition = definitionOf(input);
  const now = toStoredTime(deps.clock.now());
  const id = newId();
  const inserted = await repository.insertTemplate(db, {
    id,
    account_id: account.id,
    name: definition.name,
    language: definition.language,
    category: definition.category,
    status: 'PENDING',
    status_reason: null,
    body: definition.body,
    body_examples: JSON.stringify(definition.bodyExamples),
    header: definition.header && JSON.stringify({ format: definition.header.format }),
    media_url: definition.header?.mediaUrl ?? null,
    footer: definition.footer,
    buttons: JSON.stringify(definition.buttons),
    provider_template_id: null,
    created_at: now,
    updated_at: now,
  });
  if (!inserted) throw conflict(TEMPLATE_NAME_TAKEN);
  try {
    const channel = await deps.channels.forAccount(account);
    const submission = await channel.submitTemplate(definition);
    await repository.recordSubmission(db, id, submission, toStoredTime(deps.clock.now()));
    return { id, status: submission.status };
  } catch (error) {
    await repository.deleteTemplate(db, id);
    throw error;
  }
}

export async function listTemplates(deps: Deps, accountId: string): Promise<TemplateRecord[]> {
  return (await repository.listTemplates(deps.database.db, accountId)).map(toTemplateRecord);
}

export async function requireTemplate(deps: Deps, accountId: string, id: string): Promise<TemplateRow> {
  const template = await repository.findTemplate(deps.database.db, accountId, id);
  if (!template) throw notFound(TEMPLATE_NOT_FOUND);
  return template;
}

/** A review verdict from the channel (the ingest path). */
export async function applyTemplateStatus(deps: Deps, accountId: string, update: TemplateStatusUpdate): Promise<void> {
  const applied = await deps.database.db.transaction().execute(async (trx) => {
    const before = await repository.templateOfVerdict(trx, accountId, update);
    const changed = await repository.applyVerdict(trx, accountId, update, toStoredTime(deps.clock.now()));
    // The webhook event (outbox), in the same transaction.
    if (changed) await recordTemplateStatusEvent(deps, trx, before);
    return changed;
  });
  if (!applied) deps.logger.warn({ accountId, providerTemplateId: update.providerTemplateId }, 'status update for an unknown template');
}

export interface TemplateValues {
  variables: string[];
  buttonVariables: string[];
  /** Replaces the header's media. */
  mediaLink?: string;
}

export type TemplateContent = Omit<TemplateMessage, 'messageId' | 'to'> & { templateId: string; renderedText: string };

/** What sending an approved template with these values means: its parameters and the text the customer reads. */
export function templateContent(template: TemplateRow, values: TemplateValues): TemplateContent {
  if (template.status !== 'APPROVED') throw badRequest(TEMPLATE_NOT_APPROVED);
  if (countVariables(template.body) !== values.variables.length) throw badRequest(VARIABLES_MISMATCH);
  const urlButtons = buttonsOf(template).flatMap((button, index) => (button.type === 'URL' && button.url.endsWith(URL_VARIABLE) ? [index] : []));
  if (urlButtons.length !== values.buttonVariables.length) throw badRequest(BUTTON_VARIABLES_MISMATCH);
  const header = headerOf(template);
  const link = values.mediaLink ?? template.media_url;
  return {
    templateId: template.id,
    name: template.name,
    language: template.language,
    providerTemplateId: template.provider_template_id,
    bodyParameters: values.variables,
    urlButtonParameters: urlButtons.map((index, i) => ({ index, value: values.buttonVariables[i] })),
    headerMedia: header && link ? { format: header.format, link } : null,
    renderedText: renderTemplate(template.body, values.variables),
  };
}
