import type { Command } from 'commander';
import { resealSecrets } from '../modules/secrets/secrets.service.js';
import type { WithDeps } from './support.js';

/** `openmumble secrets rotate`: every stored secret sealed with the current key (docs/operations.md). */
export function secretsCommands(program: Command, withDeps: WithDeps): void {
  const secrets = program.command('secrets').description('secrets at rest (WhatsApp access tokens, webhook signing secrets)');
  secrets
    .command('rotate')
    .description('seal every stored secret with OPENMUMBLE_SECRET_KEY, opening them with it or OPENMUMBLE_SECRET_KEY_PREVIOUS')
    .action(() =>
      withDeps(async (deps) => {
        const { accessTokens, webhookSecrets, aiKeys } = await resealSecrets(deps);
        console.log(`sealed ${accessTokens} WhatsApp access token(s), ${webhookSecrets} webhook signing secret(s) and ${aiKeys} AI provider key(s) with the current key`);
      }),
    );
}
