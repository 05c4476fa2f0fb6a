import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import { closeDeps, createDeps, createLogger, type Deps } from '../deps.js';
import * as accounts from '../modules/accounts/accounts.service.js';
import type { DirectoryTable } from '../modules/directory/directory.repository.js';
import * as directory from '../modules/directory/directory.service.js';
import { channelCommands } from '../modules/whatsapp/whatsapp.cli.js';
import { backupCommands } from './backup.js';
import { serve } from '../server.js';
import { VERSION } from '../version.js';

/** Runs a command against the configured database (migrated first, unless the command is `migrate`), then closes it. */
async function withDeps<T>(work: (deps: Deps) => Promise<T>, { migrateFirst = true } = {}): Promise<void> {
  const config = loadConfig();
  // Without group commit: a command prints what it did as soon as it is done, so every commit is synced at once.
  const database = openDatabase(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  const deps = createDeps(config, { logger: createLogger('warn'), database });
  try {
    if (migrateFirst) await migrateToLatest(deps.database.db);
    await work(deps);
  } finally {
    await closeDeps(deps);
  }
}

function print(rows: object[]): void {
  if (rows.length === 0) console.log('(none)');
  else console.table(rows);
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

function directoryCommands(program: Command, table: DirectoryTable, noun: string): void {
  const group = program.command(table).description(`manage an account's ${table}${table === 'bots' ? ' (flow bots)' : ''}`);
  const add = group
    .command('add')
    .description(`add ${article(noun)} to an account`)
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', `${noun} name`);
  if (table === 'agents') add.option('--email <email>', 'agent email');
  add.action((options: { account: string; name: string; email?: string }) =>
    withDeps(async (deps) => {
      const entry = await directory.addEntry(deps, table, options.account, { name: options.name, email: options.email });
      console.log(`${noun} ${entry.id} added (${entry.name})`);
    }),
  );
  group
    .command('list')
    .description(`list an account's ${table}`)
    .requiredOption('--account <id>', 'account id')
    .action((options: { account: string }) =>
      withDeps(async (deps) => {
        await accounts.requireAccount(deps, options.account);
        print((await directory.listEntries(deps, table, options.account)).map(({ account_id: _account, ...entry }) => entry));
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
        const account = await accounts.createAccount(deps, name);
        const key = await accounts.createApiKey(deps, account.id, 'default');
        console.log(`account ${account.id} created (${account.name})\nAPI key (shown only now): ${key.key}`);
      }),
    );
  accountsCommand
    .command('list')
    .description('list accounts')
    .action(() => withDeps(async (deps) => print((await accounts.listAccounts(deps)).map(({ id, name, created_at }) => ({ id, name, created_at })))));

  const keys = program.command('keys').description("manage an account's API keys");
  keys
    .command('create')
    .description('create an API key (shown once)')
    .requiredOption('--account <id>', 'account id')
    .option('--name <name>', 'a name to recognise the key by', 'cli')
    .action((options: { account: string; name: string }) =>
      withDeps(async (deps) => {
        const key = await accounts.createApiKey(deps, options.account, options.name);
        console.log(`API key ${key.id} created (shown only now): ${key.key}`);
      }),
    );
  keys
    .command('list')
    .description("list an account's API keys (never the keys themselves)")
    .requiredOption('--account <id>', 'account id')
    .action((options: { account: string }) => withDeps(async (deps) => print(await accounts.listApiKeys(deps, options.account))));
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

  directoryCommands(program, 'agents', 'agent');
  directoryCommands(program, 'teams', 'team');
  directoryCommands(program, 'bots', 'bot');
  channelCommands(program, withDeps);
  backupCommands(program);
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
