import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { migrateToLatest } from '../db/database.js';
import { accountSettingsInput, nameInput } from '../modules/people/people.schema.js';
import { updateAccountSettings } from '../modules/people/people.service.js';
import * as accounts from '../modules/accounts/accounts.service.js';
import type { DirectoryTable } from '../modules/directory/directory.repository.js';
import * as directory from '../modules/directory/directory.service.js';
import { aiCommands } from '../modules/ai/ai.cli.js';
import { botFlowCommands } from '../modules/bots/bots.cli.js';
import { channelCommands } from '../modules/whatsapp/whatsapp.cli.js';
import { backupCommands } from './backup.js';
import { secretsCommands } from './secrets.js';
import { peopleCommands } from './people.js';
import { parseOrFail, print, withDeps } from './support.js';
import { serve } from '../server.js';
import { VERSION } from '../version.js';

/** `on`/`off` (also true/false, yes/no) for a switch option. */
function onOff(value: string, option: string): boolean {
  if (/^(on|true|yes)$/i.test(value)) return true;
  if (/^(off|false|no)$/i.test(value)) return false;
  throw new Error(`${option} takes on or off`);
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

function directoryCommands(program: Command, table: Exclude<DirectoryTable, 'agents'>, noun: string): Command {
  const group = program.command(table).description(`manage an account's ${table}${table === 'bots' ? ' (flow bots)' : ''}`);
  // A bot is added with its flow (bots.cli.ts).
  if (table === 'teams') {
    group
      .command('add')
      .description(`add ${article(noun)} to an account`)
      .requiredOption('--account <id>', 'account id')
      .requiredOption('--name <name>', `${noun} name`)
      .action((options: { account: string; name: string }) =>
        withDeps(async (deps) => {
          const entry = await directory.addEntry(deps, table, options.account, parseOrFail(nameInput, { name: options.name }));
          console.log(`${noun} ${entry.id} added (${entry.name})`);
        }),
      );
  }
  group
    .command('list')
    .description(`list an account's ${table}`)
    .requiredOption('--account <id>', 'account id')
    .option('--json', 'print JSON')
    .action((options: { account: string; json?: boolean }) =>
      withDeps(async (deps) => {
        await accounts.requireAccount(deps, options.account);
        const entries = (await directory.listEntries(deps, table, options.account)).map(({ account_id: _account, ...entry }) => entry);
        // As get-bots shows them: the built-in AI bot first.
        print(table === 'bots' ? [{ ...directory.AI_BOT, created_at: null }, ...entries] : entries, options);
      }),
    );
  group
    .command('set')
    .description(`rename ${article(noun)}`)
    .argument('<id>', `${noun} id`)
    .requiredOption('--name <name>', 'the new name')
    .action((id: string, options: { name: string }) =>
      withDeps(async (deps) => {
        const entry = await directory.renameEntry(deps, table, id, parseOrFail(nameInput, { name: options.name }).name);
        console.log(`${noun} ${entry.id} renamed (${entry.name})`);
      }),
    );
  group
    .command('remove')
    .description(`remove ${article(noun)} by id`)
    .argument('<id>', `${noun} id`)
    .action((id: string) =>
      withDeps(async (deps) => {
        await directory.removeEntry(deps, table, id);
        console.log(`${noun} ${id} removed`);
      }),
    );
  return group;
}

export function buildCli(): Command {
  const program = new Command('openmumble')
    .description('openmumble: a self-hosted WhatsApp CRM server speaking the Mumble API.\nConfiguration comes from the environment (DATABASE_URL, PORT, …; see the README).')
    .version(VERSION);

  program.command('serve').description('start the HTTP server (migrates the database first)').action(serve);
  program
    .command('migrate')
    .description('bring the database schema up to date and exit')
    .action(() =>
      withDeps(async (deps) => {
        const applied = await migrateToLatest(deps.database.db);
        console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'database is up to date');
      }, { migrateFirst: false }),
    );

  const accountsCommand = program.command('accounts').description('manage accounts (tenants)');
  accountsCommand
    .command('create')
    .description('create an account and its first API key (shown once)')
    .argument('<name>', 'account name')
    .action((name: string) =>
      withDeps(async (deps) => {
        const account = await accounts.createAccount(deps, parseOrFail(nameInput, { name }).name);
        const key = await accounts.createApiKey(deps, account.id, 'default');
        console.log(`account ${account.id} created (${account.name})\nAPI key (shown only now): ${key.key}`);
      }),
    );
  accountsCommand
    .command('list')
    .description('list accounts')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withDeps(async (deps) => print((await accounts.listAccounts(deps)).map(({ id, name, created_at }) => ({ id, name, created_at })), options)),
    );

  accountsCommand
    .command('set')
    .description("change an account's name or settings")
    .argument('<id>', 'account id')
    .option('--name <name>', 'a new name')
    .option('--hide-unassigned <on|off>', 'hide unassigned conversations from agents')
    .option('--messaging <on|off>', 'allow the account to send messages (off: every send is refused)')
    .option('--default-bot <id|none>', "the flow bot that answers a new customer's first message (none: no default)")
    .action((id: string, options: { name?: string; hideUnassigned?: string; messaging?: string; defaultBot?: string }) =>
      withDeps(async (deps) => {
        const patch = parseOrFail(accountSettingsInput, {
          ...(options.name !== undefined && { name: options.name }),
          ...(options.hideUnassigned !== undefined && { hide_unassigned: onOff(options.hideUnassigned, '--hide-unassigned') }),
          ...(options.messaging !== undefined && { messaging_enabled: onOff(options.messaging, '--messaging') }),
          ...(options.defaultBot !== undefined && { default_bot_id: options.defaultBot === 'none' ? null : options.defaultBot }),
        });
        const account = await updateAccountSettings(deps, id, patch);
        console.log(`account ${account.id} updated (${account.name}; unassigned ${account.hide_unassigned ? 'hidden from agents' : 'shown'}; messaging ${account.messaging_enabled ? 'on' : 'off'})`);
      }),
    );
  accountsCommand
    .command('rename')
    .description('rename an account')
    .argument('<id>', 'account id')
    .argument('<name>', 'the new name')
    .action((id: string, name: string) =>
      withDeps(async (deps) => {
        const account = await updateAccountSettings(deps, id, parseOrFail(accountSettingsInput, { name }));
        console.log(`account ${account.id} renamed (${account.name})`);
      }),
    );
  accountsCommand
    .command('delete')
    .description('delete an account and everything it holds (customers, messages, people, keys, media); cannot be undone')
    .argument('<id>', 'account id')
    .option('--yes', 'confirm')
    .action((id: string, options: { yes?: boolean }) =>
      withDeps(async (deps) => {
        if (!options.yes) throw new Error('this deletes the account and everything it holds; add --yes to confirm');
        const { mediaFiles } = await accounts.deleteAccount(deps, id);
        console.log(`account ${id} deleted (and ${mediaFiles} media file(s))`);
      }),
    );

  const keys = program.command('keys').description("manage an account's API keys");
  keys
    .command('create')
    .description('create an API key (shown once)')
    .requiredOption('--account <id>', 'account id')
    .option('--name <name>', 'a name to recognise the key by', 'cli')
    .action((options: { account: string; name: string }) =>
      withDeps(async (deps) => {
        const key = await accounts.createApiKey(deps, options.account, parseOrFail(nameInput, { name: options.name }).name);
        console.log(`API key ${key.id} created (shown only now): ${key.key}`);
      }),
    );
  keys
    .command('list')
    .description("list an account's API keys (never the keys themselves)")
    .requiredOption('--account <id>', 'account id')
    .option('--json', 'print JSON')
    .action((options: { account: string; json?: boolean }) => withDeps(async (deps) => print(await accounts.listApiKeys(deps, options.account), options)));
  keys
    .command('rotate')
    .description('replace an API key: a new key (shown once) with the same name, the old one refused at once')
    .argument('<id>', 'API key id')
    .action((id: string) =>
      withDeps(async (deps) => {
        const key = await accounts.rotateApiKey(deps, id);
        console.log(`API key ${id} revoked; API key ${key.id} created in its place (shown only now): ${key.key}`);
      }),
    );
  keys
    .command('revoke')
    .description('revoke an API key by id: it is refused at once')
    .argument('<id>', 'API key id')
    .action((id: string) =>
      withDeps(async (deps) => {
        await accounts.revokeApiKey(deps, id);
        console.log(`API key ${id} revoked`);
      }),
    );

  const teams = directoryCommands(program, 'teams', 'team');
  botFlowCommands(directoryCommands(program, 'bots', 'bot'), withDeps);
  aiCommands(program, withDeps);
  peopleCommands(program, teams, withDeps);
  channelCommands(program, withDeps);
  backupCommands(program);
  secretsCommands(program, withDeps);
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `error: ${(error as Error).message}`}\n`);
    process.exitCode = 1;
  }
}
