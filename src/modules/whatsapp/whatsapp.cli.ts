import type { Command } from 'commander';
import { readSecretFile, type WithDeps } from '../../cli/support.js';
import { ApiError } from '../../errors.js';
import { connectChannel, disconnectChannel, showChannel, type ChannelView } from './whatsapp.service.js';

function describe(channel: ChannelView): string {
  if (channel.type === 'sandbox') return 'channel: sandbox (no WhatsApp number connected)';
  return [
    `channel: cloud_api (${channel.status}${channel.status_reason ? `: ${channel.status_reason}` : ''})`,
    `  phone_number_id:      ${channel.phone_number_id}`,
    `  waba_id:              ${channel.waba_id}`,
    `  display_phone_number: ${channel.display_phone_number}`,
    `  connected_at:         ${channel.connected_at}`,
  ].join('\n');
}

/** The token from a file or standard input (`-`), so it stays out of shell history and `ps`. */
function readToken(options: { accessToken?: string; accessTokenFile?: string }): string | undefined {
  if (options.accessTokenFile) return readSecretFile(options.accessTokenFile).trim();
  return options.accessToken ?? process.env.WHATSAPP_ACCESS_TOKEN;
}

/** Service errors as one line, like the admin API's messages. */
async function reporting(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof ApiError) throw new Error(error.message);
    throw error;
  }
}

/** `openmumble channels connect|disconnect|show`: the admin API's /accounts/:id/whatsapp from the shell. */
export function channelCommands(program: Command, withDeps: WithDeps): void {
  const channels = program.command('channels').description("manage an account's WhatsApp channel (sandbox or WhatsApp Cloud API)");
  channels
    .command('connect')
    .description('connect an account to a WhatsApp Cloud API number (needs OPENMUMBLE_SECRET_KEY)')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--phone-number-id <id>', "the number's Phone number ID (WhatsApp Manager → API Setup)")
    .requiredOption('--waba-id <id>', 'the WhatsApp Business Account ID')
    .requiredOption('--display-phone-number <number>', 'the number in international format, e.g. 15550783881')
    .option('--access-token <token>', 'a system-user access token (or set WHATSAPP_ACCESS_TOKEN)')
    .option('--access-token-file <path>', 'read the access token from a file, or - for standard input')
    .action((options: { account: string; phoneNumberId: string; wabaId: string; displayPhoneNumber: string; accessToken?: string; accessTokenFile?: string }) =>
      withDeps((deps) =>
        reporting(async () => {
          const channel = await connectChannel(deps, options.account, {
            phone_number_id: options.phoneNumberId,
            waba_id: options.wabaId,
            display_phone_number: options.displayPhoneNumber,
            access_token: readToken(options),
          });
          console.log(`account ${options.account} connected\n${describe(channel)}`);
        }),
      ),
    );
  channels
    .command('disconnect')
    .description('return an account to the sandbox channel (the stored token is deleted)')
    .requiredOption('--account <id>', 'account id')
    .action((options: { account: string }) =>
      withDeps((deps) =>
        reporting(async () => {
          await disconnectChannel(deps, options.account);
          console.log(`account ${options.account} is back on the sandbox channel`);
        }),
      ),
    );
  channels
    .command('show')
    .description("show an account's channel and its status")
    .requiredOption('--account <id>', 'account id')
    .action((options: { account: string }) =>
      withDeps((deps) =>
        reporting(async () => {
          console.log(describe(await showChannel(deps, options.account)));
        }),
      ),
    );
}
