import { sql, type ExpressionBuilder, type Insertable, type Kysely } from 'kysely';
import type { TemplateStatusUpdate, TemplateSubmission } from '../../channels/channel.js';
import type { DB, TemplateRow, TemplatesTable } from '../../db/tables.js';

/** Inserts unless the account has a template of this name and language; true when inserted. */
export async function insertTemplate(db: Kysely<DB>, row: Insertable<TemplatesTable>): Promise<boolean> {
  const result = await db
    .insertInto('templates')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'name', 'language']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Keeps WhatsApp's id; its status only while no review verdict has arrived (one can overtake the answer). */
export async function recordSubmission(db: Kysely<DB>, id: string, submission: TemplateSubmission, now: string): Promise<void> {
  await db
    .updateTable('templates')
    .set({
      provider_template_id: submission.providerTemplateId,
      status: sql<string>`case when status = 'PENDING' then ${submission.status} else status end`,
      updated_at: now,
    })
    .where('id', '=', id)
    .execute();
}

export async function deleteTemplate(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom('templates').where('id', '=', id).execute();
}

export function listTemplates(db: Kysely<DB>, accountId: string): Promise<TemplateRow[]> {
  return db.selectFrom('templates').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

export function findTemplate(db: Kysely<DB>, accountId: string, id: string): Promise<TemplateRow | undefined> {
  return db.selectFrom('templates').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

/**
 * Applies a review verdict to the template with this provider id, or else to the one with this name
 * and language that has no provider id yet (the verdict overtook the submission's answer). True when
 * a template was updated.
 */
/**
 * The template a review verdict is about: Meta's id when we have it, else (a verdict that arrived
 * before the submission's answer) the name and language.
 */
function isVerdictTemplate(accountId: string, verdict: TemplateStatusUpdate) {
  return (eb: ExpressionBuilder<DB, 'templates'>) =>
    eb.and([
      eb('account_id', '=', accountId),
      eb.or([
        eb('provider_template_id', '=', verdict.providerTemplateId),
        eb.and([eb('provider_template_id', 'is', null), eb('name', '=', verdict.name), eb('language', '=', verdict.language)]),
      ]),
    ]);
}

/** The template a verdict is about, as it is before the verdict is applied. */
export function templateOfVerdict(db: Kysely<DB>, accountId: string, verdict: TemplateStatusUpdate): Promise<TemplateRow | undefined> {
  return db.selectFrom('templates').selectAll().where(isVerdictTemplate(accountId, verdict)).executeTakeFirst();
}

export async function applyVerdict(db: Kysely<DB>, accountId: string, verdict: TemplateStatusUpdate, now: string): Promise<boolean> {
  const result = await db
    .updateTable('templates')
    .set({ status: verdict.status, status_reason: verdict.reason, provider_template_id: verdict.providerTemplateId, updated_at: now })
    .where(isVerdictTemplate(accountId, verdict))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
