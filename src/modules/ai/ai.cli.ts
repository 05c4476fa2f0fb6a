import type { Command } from 'commander';
import { parseOrFail, readSecretFile, type WithDeps } from '../../cli/support.js';
import { aiSettingsInput } from './ai.schema.js';
import * as ai from './ai.service.js';

interface SetOptions {
  account: string;
  baseUrl?: string;
  apiKeyFile?: string;
  model?: string;
  instructionsFile?: string;
  knowledgeFile?: string;
  handoffTeam?: string;
  maxReplies?: string;
  temperature?: string;
}

/** `openmumble ai set|show|clear`: an account's AI bot (docs/ai.md), as the admin API sets it. */
export function aiCommands(program: Command, withDeps: WithDeps): void {
  const group = program.command('ai').description("manage an account's AI bot (any OpenAI-compatible model)");
  group
    .command('set')
    .description("set an account's AI bot; what is not given stays as it is (and the stored key unless --api-key-file is given)")
    .requiredOption('--account <id>', 'account id')
    .option('--base-url <url>', 'the OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama)')
    .option('--api-key-file <file>', 'a file holding the provider key (- for standard input): it stays out of shell history')
    .option('--model <name>', 'the model, e.g. gpt-4o-mini or llama3.1')
    .option('--instructions-file <file>', 'what the bot is told to be and do')
    .option('--knowledge-file <file>', "the business's text the bot answers from (FAQ, policies, prices)")
    .option('--handoff-team <id>', 'the team customers are handed to')
    .option('--max-replies <n>', 'replies per conversation before it hands over (default 20)')
    .option('--temperature <t>', '0 to 2')
    .action((options: SetOptions) =>
      withDeps(async (deps) => {
        const current = await ai.getAiSettings(deps, options.account).catch(() => undefined);
        const { has_api_key: _key, updated_at: _at, ...kept } = current ?? {};
        const input = parseOrFail(aiSettingsInput, {
          ...kept,
          ...(options.baseUrl !== undefined && { base_url: options.baseUrl }),
          ...(options.apiKeyFile !== undefined && { api_key: readSecretFile(options.apiKeyFile) }),
          ...(options.model !== undefined && { model: options.model }),
          ...(options.instructionsFile !== undefined && { instructions: readSecretFile(options.instructionsFile) }),
          ...(options.knowledgeFile !== undefined && { knowledge: readSecretFile(options.knowledgeFile) }),
          ...(options.handoffTeam !== undefined && { handoff_team_id: options.handoffTeam }),
          ...(options.maxReplies !== undefined && { max_replies_per_conversation: Number(options.maxReplies) }),
          ...(options.temperature !== undefined && { temperature: Number(options.temperature) }),
        });
        const settings = await ai.putAiSettings(deps, options.account, input);
        console.log(`AI bot of account ${options.account} set (${settings.model ?? 'the server default model'} at ${settings.base_url ?? 'the server default URL'}; key ${settings.has_api_key ? 'stored' : 'none'})`);
      }),
    );
  group
    .command('show')
    .description("print an account's AI settings as JSON (never the key)")
    .requiredOption('--account <id>', 'account id')
    .action((options: { account: string }) =>
      withDeps(async (deps) => {
        console.log(JSON.stringify(await ai.getAiSettings(deps, options.account), null, 2));
      }),
    );
  group
    .command('clear')
    .description("remove an account's AI settings (the server-wide AI_* defaults apply, if set)")
    .requiredOption('--account <id>', 'account id')
    .action((options: { account: string }) =>
      withDeps(async (deps) => {
        await ai.clearAiSettings(deps, options.account);
        console.log(`AI settings of account ${options.account} removed`);
      }),
    );
}
