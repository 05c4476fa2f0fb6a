import { z } from 'zod';

/** The documented bounds of an account's AI settings (docs/ai.md). */
export const KNOWLEDGE_MAX = 200_000;
export const INSTRUCTIONS_MAX = 8_000;

/** Phrases that hand a customer to a person at once, without asking the model (English and Hebrew). */
export const DEFAULT_HANDOFF_PHRASES = ['human', 'a person', 'real person', 'an agent', 'representative', 'talk to someone', 'נציג', 'נציגה', 'בן אדם', 'אדם אמיתי', 'נציג אנושי'];

/** PUT /admin/v1/accounts/:id/ai (and the inbox's admin screen): the whole settings; `api_key` absent keeps the stored one. */
export const aiSettingsInput = z.strictObject({
  base_url: z.url({ protocol: /^https?$/, error: 'base_url must be an http(s) URL' }).max(500).nullable().optional(),
  api_key: z.string().min(1).max(500).nullable().optional(),
  model: z.string().trim().min(1).max(200).nullable().optional(),
  instructions: z.string().max(INSTRUCTIONS_MAX, { error: `instructions are at most ${INSTRUCTIONS_MAX} characters` }).default(''),
  knowledge: z.string().max(KNOWLEDGE_MAX, { error: `knowledge is at most ${KNOWLEDGE_MAX} characters` }).default(''),
  handoff_team_id: z.string().min(1).max(255).nullable().optional(),
  max_replies_per_conversation: z.int().min(1).max(1000).default(20),
  temperature: z.number().min(0).max(2).nullable().optional(),
  handoff_phrases: z.array(z.string().trim().min(1).max(100)).max(50).nullable().optional(),
});
export type AiSettingsInput = z.output<typeof aiSettingsInput>;

/** The settings as shown: never the key, only whether one is stored. */
export const aiSettingsRecord = z.object({
  base_url: z.string().nullable(),
  model: z.string().nullable(),
  has_api_key: z.boolean(),
  instructions: z.string(),
  knowledge: z.string(),
  handoff_team_id: z.string().nullable(),
  max_replies_per_conversation: z.int(),
  temperature: z.number().nullable(),
  handoff_phrases: z.array(z.string()),
  updated_at: z.string(),
});
export type AiSettingsRecord = z.output<typeof aiSettingsRecord>;
