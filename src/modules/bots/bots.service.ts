import type { Kysely } from 'kysely';
import type { BotRow, DB } from '../../db/tables.js';
import { toStoredTime } from '../../db/time.js';
import type { Deps } from '../../deps.js';
import { badRequest, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { linkExtension } from '../../media/media-link.js';
import type { MediaStore } from '../../media/media-store.js';
import { extensionOf, mediaTypeOf } from '../../media/media-types.js';
import type { MediaUpload } from '../../media/upload.js';
import { requireAccount } from '../accounts/accounts.service.js';
import { NOT_FOUND_MESSAGE } from '../directory/directory.service.js';
import { findEntry } from '../directory/directory.repository.js';
import { findTemplate } from '../templates/templates.repository.js';
import * as repository from './bots.repository.js';
import { FlowError, parseFlow, type Flow } from './flow.schema.js';

/** A flow bot as the admin API shows it; `flow` only when one bot is asked for. */
export interface BotRecord {
  id: string;
  name: string;
  type: 'flow';
  version: number;
  created_at: string;
  flow?: Flow | null;
}

export function toBotRecord(bot: BotRow, flow?: Flow | null): BotRecord {
  return { id: bot.id, name: bot.name, type: 'flow', version: Number(bot.version), created_at: bot.created_at, ...(flow !== undefined && { flow }) };
}

/** What `parseFlow` and the account's records refuse, as the API's 400. */
function invalidFlow(message: string) {
  return badRequest(`Invalid flow: ${message}`);
}

/**
 * The flow, checked: its shape and graph (flow.schema.ts), then what it names in the account (bots
 * it goes to, templates, agents, teams) and the file types of its media links.
 */
export async function checkFlow(deps: Pick<Deps, 'database' | 'media'>, accountId: string, raw: unknown, selfId?: string): Promise<Flow> {
  let flow: Flow;
  try {
    flow = parseFlow(raw);
  } catch (error) {
    if (error instanceof FlowError) throw invalidFlow(error.message);
    throw error;
  }
  for (const node of flow.nodes) {
    const problem = await referenceProblem(deps, accountId, node, selfId);
    if (problem) throw invalidFlow(`node "${node.id}": ${problem}`);
  }
  return flow;
}

async function referenceProblem(deps: Pick<Deps, 'database' | 'media'>, accountId: string, node: Flow['nodes'][number], selfId: string | undefined): Promise<string | undefined> {
  const { db } = deps.database;
  switch (node.type) {
    case 'goto':
      if (node.bot_id === selfId) return undefined;
      return (await repository.findBot(db, accountId, node.bot_id)) ? undefined : `there is no bot "${node.bot_id}" in this account`;
    case 'template':
      return (await findTemplate(db, accountId, node.template_id)) ? undefined : `there is no template "${node.template_id}" in this account`;
    case 'assign_agent':
      return (await findEntry(db, 'agents', accountId, node.agent_id)) ? undefined : `there is no agent "${node.agent_id}" in this account`;
    case 'assign_team':
      return (await findEntry(db, 'teams', accountId, node.team_id)) ? undefined : `there is no team "${node.team_id}" in this account`;
    case 'handoff':
      if (node.agent_id && !(await findEntry(db, 'agents', accountId, node.agent_id))) return `there is no agent "${node.agent_id}" in this account`;
      if (node.team_id && !(await findEntry(db, 'teams', accountId, node.team_id))) return `there is no team "${node.team_id}" in this account`;
      return undefined;
    case 'media': {
      const type = mediaTypeOf(node.url ? linkExtension(node.url, node.filename) : extensionOf(node.media_key!));
      if (type?.kind !== node.kind) return `the ${node.url ? "url's file" : "file's"} type is not a${node.kind === 'image' ? 'n' : ''} ${node.kind} WhatsApp takes`;
      return node.media_key && !(await isStored(deps.media, node.media_key)) ? `there is no uploaded file "${node.media_key}"` : undefined;
    }
    default:
      return undefined;
  }
}

async function isStored(media: MediaStore, key: string): Promise<boolean> {
  try {
    (await media.open(key)).destroy();
    return true;
  } catch {
    return false;
  }
}

/** A file for the account's flows' media nodes: kept in the media store for as long as flows may send it. */
export async function storeFlowMedia(deps: Deps, upload: MediaUpload): Promise<{ media_key: string; kind: string; mime_type: string; filename: string }> {
  await deps.media.commit(upload.staged);
  return { media_key: upload.staged.key, kind: upload.type.kind, mime_type: upload.type.mimeType, filename: upload.filename };
}

export interface NewBot {
  name: string;
  flow?: unknown;
}

/** A flow bot; with a flow, its version 1 (a bot without one answers nothing until it gets one). */
export async function createBot(deps: Deps, accountId: string, input: NewBot): Promise<BotRecord> {
  await requireAccount(deps, accountId);
  const id = newId();
  const flow = input.flow === undefined ? null : await checkFlow(deps, accountId, input.flow, id);
  const createdAt = toStoredTime(deps.clock.now());
  const bot = await deps.database.db.transaction().execute(async (trx) => {
    const row: BotRow = { id, account_id: accountId, name: input.name, type: 'flow', created_at: createdAt, version: 0 };
    await repository.insertBot(trx, row);
    return flow ? { ...row, version: await repository.addFlowVersion(trx, row, JSON.stringify(flow), createdAt) } : row;
  });
  return toBotRecord(bot, flow);
}

export async function listBots(deps: Deps, accountId: string): Promise<BotRecord[]> {
  await requireAccount(deps, accountId);
  return (await repository.listBots(deps.database.db, accountId)).map((row) => toBotRecord(row));
}

/** The bot by id; `accountId` scopes it (the inbox's admins), and a bot of another account is not found. */
async function requireBot(deps: Deps, id: string, accountId?: string): Promise<BotRow> {
  const bot = await repository.findBotById(deps.database.db, id);
  if (!bot || (accountId !== undefined && bot.account_id !== accountId)) throw notFound(NOT_FOUND_MESSAGE.bots);
  return bot;
}

async function currentFlowOf(deps: Deps, bot: BotRow): Promise<Flow | null> {
  const json = Number(bot.version) > 0 ? await repository.findFlowVersion(deps.database.db, bot.id, Number(bot.version)) : undefined;
  return json === undefined ? null : (JSON.parse(json) as Flow);
}

export async function getBot(deps: Deps, id: string, accountId?: string): Promise<BotRecord> {
  const bot = await requireBot(deps, id, accountId);
  return toBotRecord(bot, await currentFlowOf(deps, bot));
}

/** A new name, or a new version of the flow (sessions under way finish on the version they started with). */
export async function updateBot(deps: Deps, id: string, input: { name?: string; flow?: unknown }, accountId?: string): Promise<BotRecord> {
  const bot = await requireBot(deps, id, accountId);
  const flow = input.flow === undefined ? undefined : await checkFlow(deps, bot.account_id, input.flow, bot.id);
  const updated = await deps.database.db.transaction().execute(async (trx) => {
    let row = bot;
    if (input.name !== undefined) {
      await repository.renameBot(trx, id, input.name);
      row = { ...row, name: input.name };
    }
    // Read again in the transaction: two saves at once make two versions, not one twice.
    const current = (await repository.findBotById(trx, id)) ?? row;
    return flow ? { ...row, version: await repository.addFlowVersion(trx, current, JSON.stringify(flow), toStoredTime(deps.clock.now())) } : row;
  });
  return toBotRecord(updated, flow ?? (await currentFlowOf(deps, updated)));
}

/** The account's default flow (for a new customer's first message) must be one of its bots with a flow; null is none. */
export async function checkDefaultBot(deps: Deps, accountId: string, botId: string | null): Promise<void> {
  if (botId === null) return;
  const bot = await repository.findBot(deps.database.db, accountId, botId);
  if (!bot) throw notFound(NOT_FOUND_MESSAGE.bots);
  if (Number(bot.version) === 0) throw badRequest('This bot has no flow yet');
}
