import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { migrateToLatest } from '../db/database.js';
import { nameInput } from '../modules/people/people.schema.js';
import * as accounts from '../modules/accounts/accounts.service.js';
import type { DirectoryTable } from '../modules/directory/directory.repository.js';
import * as directory from '../modules/directory/directory.service.js';
import { channelCommands } from '../modules/whatsapp/whatsapp.cli.js';
import { backupCommands } from './backup.js';
import { secretsCommands } from './secrets.js';
import { peopleCommands } from './people.js';
import { parseOrFail, print, withDeps } from './support.js';
import { serve } from '../server.js';
import { VERSION } from '../version.js';

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

function directoryCommands(program: Command, table: Exclude<DirectoryTable, 'agents'>, noun: string): Command {
  const group = program.command(table).description(`manage an account's ${table}${table === 'bots' ? ' (flow bots)' : ''}`);
  const add = group
    .command('add')
    .description(`add ${article(noun)} to an account`)
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', `${noun} name`);
  add.action((options: { account: string; name: string }) =>
    withDeps(async (deps) => {
      const entry = await directory.addEntry(deps, table, options.account, parseOrFail(nameInput, { name: options.name }));
      console.log(`${noun} ${entry.id} added (${entry.name})`);
    }),
  );
  group
    .command('list')
    .description(`list an account's ${table}`)
    .requiredOption('--account <id>', 'account id')
    .option('--json', 'print JSON')
    .action((options: { account: string; json?: boolean }) =>
      withDeps(async (deps) => {
        await accounts.requireAccount(deps, options.account);
        print((await directory.listEntries(deps, table, options.account)).map(({ account_id: _account, ...entry }) => entry), options);
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
  directoryCommands(program, 'bots', 'bot');
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
