import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCli, runCli } from '../src/cli/index.js';
import { loadConfig } from '../src/config.js';
import { closeDeps, createDeps } from '../src/compose.js';
import { createLogger, type Deps } from '../src/deps.js';
import { authenticateApiKey } from '../src/modules/accounts/accounts.service.js';
import { verifyPassword } from '../src/modules/people/passwords.js';
import { createScratchDatabase, describeEachDatabase, type ScratchDatabase } from './helpers.js';

/** The CLI, run in this process as `openmumble <args>` would run it; its output captured. */
async function cli(...args: string[]): Promise<{ out: string; err: string; failed: boolean }> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    out += `${parts.join(' ')}\n`;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += chunk.toString();
    return true;
  });
  try {
    await runCli(['node', 'openmumble', ...args]);
  } finally {
    log.mockRestore();
    stderr.mockRestore();
  }
  const failed = process.exitCode === 1;
  process.exitCode = undefined;
  return { out, err, failed };
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describeEachDatabase('openmumble CLI', (kind) => {
  let database: ScratchDatabase;
  let deps: Deps;
  const savedUrl = process.env.DATABASE_URL;

  beforeAll(async () => {
    database = await createScratchDatabase(kind);
    process.env.DATABASE_URL = database.url;
  });
  afterEach(async () => {
    if (deps) await closeDeps(deps);
    deps = undefined as unknown as Deps;
  });
  afterAll(async () => {
    process.env.DATABASE_URL = savedUrl;
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    await database.drop();
  });

  /** Opens the CLI's database the way the server would, to check what a command did. */
  const open = () => {
    deps = createDeps(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
    return deps;
  };
  /**
   * The CLI runs in this process here, but in production it is another process: a server hears its
   * changes by PostgreSQL's notification (on SQLite it reads the epoch on every request), so a check
   * made through `deps` first waits until `deps` has heard them.
   */
  const heardFromTheCli = () => deps.keyCache.changed();
  const createAccount = async (name: string) => {
    const { out, failed } = await cli('accounts', 'create', name);
    expect(failed).toBe(false);
    const [, id] = new RegExp(`account (${UUID}) created \\(${name}\\)`).exec(out)!;
    const [, key] = /API key \(shown only now\): (om_\S+)/.exec(out)!;
    return { id, key };
  };

  it('migrate applies the migrations to a new database, then finds nothing to do', async () => {
    const first = await cli('migrate');
    expect(first).toMatchObject({ failed: false, err: '' });
    expect(first.out).toMatch(/^applied: 0001_foundation/);
    expect((await cli('migrate')).out.trim()).toBe('database is up to date');
  });

  it('accounts create prints the account and a key that authenticates as it; accounts list lists it', async () => {
    const { id, key } = await createAccount('Acme');
    expect(key).toMatch(/^om_[A-Za-z0-9_-]{32,}$/);
    const auth = await authenticateApiKey(open(), key);
    expect(auth?.account).toMatchObject({ id, name: 'Acme' });

    const list = await cli('accounts', 'list');
    expect(list.failed).toBe(false);
    expect(list.out).toContain(id);
    expect(list.out).toContain('Acme');
    expect(list.out).not.toContain(key);
  });

  it('keys create, list and revoke: a revoked key is refused at once, the list never shows a key', async () => {
    const account = await createAccount('Keys Inc');
    const created = await cli('keys', 'create', '--account', account.id, '--name', 'zapier');
    const [, keyId, key] = new RegExp(`API key (${UUID}) created \\(shown only now\\): (om_\\S+)`).exec(created.out)!;
    expect(await authenticateApiKey(open(), key)).toBeDefined();

    const list = await cli('keys', 'list', '--account', account.id);
    expect(list.out).toContain(keyId);
    expect(list.out).toContain('zapier');
    expect(list.out).not.toContain(key);
    expect(list.out).not.toContain(account.key);

    expect((await cli('keys', 'revoke', keyId)).out).toContain(`API key ${keyId} revoked`);
    await heardFromTheCli();
    expect(await authenticateApiKey(deps, key)).toBeUndefined();
    expect(await authenticateApiKey(deps, account.key)).toBeDefined();
  });

  it.each([
    ['agents', 'agent', ['--email', 'amy@example.com']],
    ['teams', 'team', []],
    ['bots', 'bot', []],
  ] as const)('%s add, list and remove', async (group, noun, extra) => {
    const account = await createAccount(`${group} owner`);
    // Bots list the built-in AI bot, as get-bots does.
    const none = () => (group === 'bots' ? [{ id: 'AI', name: 'AI', type: 'ai', created_at: null }] : []);
    expect(JSON.parse((await cli(group, 'list', '--account', account.id, '--json')).out)).toEqual(none());

    const added = await cli(group, 'add', '--account', account.id, '--name', 'Amy', ...extra);
    expect(added.failed).toBe(false);
    const [, id] = new RegExp(`${noun} (${UUID}) added \\(Amy\\)`).exec(added.out)!;

    const list = await cli(group, 'list', '--account', account.id);
    expect(list.out).toContain(id);
    expect(list.out).toContain('Amy');
    if (group === 'agents') expect(list.out).toContain('amy@example.com');

    if (group !== 'agents') {
      expect((await cli(group, 'set', id, '--name', 'Bea')).out).toContain(`${noun} ${id} renamed (Bea)`);
      expect((await cli(group, 'list', '--account', account.id)).out).toContain('Bea');
    }
    expect((await cli(group, 'remove', id)).out).toContain(`${noun} ${id} removed`);
    expect(JSON.parse((await cli(group, 'list', '--account', account.id, '--json')).out)).toEqual(none());
  });

  it('bots add with a flow, validate, update and export; accounts set --default-bot', async () => {
    const account = await createAccount('Flows Inc');
    const dir = mkdtempSync(join(tmpdir(), 'openmumble-flows-'));
    try {
      const flowFile = join(dir, 'flow.json');
      const flow = { version: 1, start: 'hi', nodes: [{ id: 'hi', type: 'message', text: 'Hello' }], edges: [] };
      writeFileSync(flowFile, JSON.stringify(flow));
      const badFile = join(dir, 'bad.json');
      writeFileSync(badFile, JSON.stringify({ ...flow, edges: [{ from: 'hi', to: 'nowhere' }] }));
      writeFileSync(join(dir, 'not.json'), '{');

      expect((await cli('bots', 'validate', flowFile)).out).toContain(`${flowFile}: valid (1 nodes, 0 edges)`);
      const bad = await cli('bots', 'validate', badFile);
      expect(bad.failed).toBe(true);
      expect(bad.err).toContain(`${badFile}: invalid flow: node "hi": its edge goes to "nowhere", which is no node`);
      expect((await cli('bots', 'validate', join(dir, 'not.json'))).err).toContain('is not JSON');

      const added = await cli('bots', 'add', '--account', account.id, '--name', 'Greeter', '--flow', flowFile);
      const [, id] = new RegExp(`bot (${UUID}) added \\(Greeter\\), flow version 1`).exec(added.out)!;
      expect((await cli('bots', 'add', '--account', account.id, '--name', 'Broken', '--flow', badFile)).err).toContain('Invalid flow: node "hi"');
      writeFileSync(flowFile, JSON.stringify({ ...flow, nodes: [{ id: 'hi', type: 'message', text: 'Hello again' }] }));
      expect((await cli('bots', 'update', id, '--flow', flowFile)).out).toContain(`bot ${id} updated (flow version 2)`);
      expect(JSON.parse((await cli('bots', 'export', id)).out)).toMatchObject({ nodes: [{ id: 'hi', text: 'Hello again' }], timeout_seconds: 1800 });

      expect((await cli('accounts', 'set', account.id, '--default-bot', id)).failed).toBe(false);
      expect((await open().database.db.selectFrom('accounts').select('default_bot_id').where('id', '=', account.id).executeTakeFirst())?.default_bot_id).toBe(id);
      expect((await cli('accounts', 'set', account.id, '--default-bot', 'no-such-bot')).err).toContain('Bot not found.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accounts set, rename and delete (with --yes); keys rotate refuses the old key at once', async () => {
    const account = await createAccount('Switches Inc');
    const set = await cli('accounts', 'set', account.id, '--messaging', 'off', '--hide-unassigned', 'on');
    expect(set.out).toContain(`account ${account.id} updated (Switches Inc; unassigned hidden from agents; messaging off)`);
    expect((await authenticateApiKey(open(), account.key))?.account).toMatchObject({ messaging_enabled: 0, hide_unassigned: 1 });
    expect((await cli('accounts', 'set', account.id, '--messaging', 'maybe')).err).toContain('--messaging takes on or off');
    expect((await cli('accounts', 'rename', account.id, 'Renamed Inc')).out).toContain(`account ${account.id} renamed (Renamed Inc)`);
    expect((await cli('accounts', 'rename', account.id, '')).err).toContain('name: name is required');

    const [keyId] = JSON.parse((await cli('keys', 'list', '--account', account.id, '--json')).out).map((key: { id: string }) => key.id);
    const rotated = await cli('keys', 'rotate', keyId);
    await heardFromTheCli();
    const [, , newKey] = new RegExp(`API key ${keyId} revoked; API key (${UUID}) created in its place \\(shown only now\\): (om_\\S+)`).exec(rotated.out)!;
    expect(await authenticateApiKey(deps, account.key)).toBeUndefined();
    expect((await authenticateApiKey(deps, newKey))?.account.id).toBe(account.id);
    expect((await cli('keys', 'rotate', keyId)).err).toContain('API key not found');

    expect((await cli('accounts', 'delete', account.id)).err).toContain('add --yes to confirm');
    expect((await cli('accounts', 'delete', account.id, '--yes')).out).toContain(`account ${account.id} deleted`);
    await heardFromTheCli();
    expect(await authenticateApiKey(deps, newKey)).toBeUndefined();
    expect(JSON.parse((await cli('accounts', 'list', '--json')).out)).not.toContainEqual(expect.objectContaining({ id: account.id }));
  });

  it('agents add --email makes a person with an invitation link; set, invite and --json lists', async () => {
    const account = await createAccount('People Inc');
    const added = await cli('agents', 'add', '--account', account.id, '--name', 'Dana', '--email', 'dana@cli.test', '--role', 'supervisor');
    expect(added.failed, added.err).toBe(false);
    const [, id] = new RegExp(`agent (${UUID}) added \\(Dana\\)`).exec(added.out)!;
    expect(added.out).toMatch(/invitation link \(valid 7 days, shown only now\): http:\/\/127\.0\.0\.1:3000\/app\/invite\/[\w-]{40,}/);

    const listed = JSON.parse((await cli('agents', 'list', '--account', account.id, '--json')).out);
    expect(listed).toEqual([{ id, name: 'Dana', email: 'dana@cli.test', role: 'supervisor', disabled: false, has_password: false, created_at: expect.any(String) }]);

    const set = await cli('agents', 'set', id, '--role', 'admin', '--disable');
    expect(set.out).toContain(`agent ${id} updated (Dana, dana@cli.test, admin, disabled)`);
    expect((await cli('agents', 'set', id, '--no-email', '--enable')).out).toContain(`agent ${id} updated (Dana, no email, admin)`);
    expect((await cli('agents', 'invite', id)).err).toContain('This agent has no email to send an invitation to');
    await cli('agents', 'set', id, '--email', 'dana2@cli.test');
    expect((await cli('agents', 'invite', id)).out).toMatch(/invitation link .*\/app\/invite\//);

    expect(JSON.parse((await cli('accounts', 'list', '--json')).out)).toContainEqual({ id: account.id, name: 'People Inc', created_at: expect.any(String) });
    expect(JSON.parse((await cli('keys', 'list', '--account', account.id, '--json')).out)).toHaveLength(1);
  });

  it('teams members add, list (--json) and remove', async () => {
    const account = await createAccount('Teams Inc');
    const [, teamId] = new RegExp(`team (${UUID}) added`).exec((await cli('teams', 'add', '--account', account.id, '--name', 'Support')).out)!;
    const [, agentId] = new RegExp(`agent (${UUID}) added`).exec((await cli('agents', 'add', '--account', account.id, '--name', 'Amy')).out)!;
    expect((await cli('teams', 'members', 'add', teamId, agentId)).out).toContain(`agent ${agentId} is a member of team ${teamId}`);
    expect(JSON.parse((await cli('teams', 'members', 'list', teamId, '--json')).out).map((member: { id: string }) => member.id)).toEqual([agentId]);
    expect((await cli('teams', 'members', 'remove', teamId, agentId)).out).toContain(`agent ${agentId} left team ${teamId}`);
    expect(JSON.parse((await cli('teams', 'members', 'list', teamId, '--json')).out)).toEqual([]);
  });

  it('agents add and set --password-file read the password from a file, keeping its spaces', async () => {
    const account = await createAccount('Passwords Inc');
    const folder = mkdtempSync(join(tmpdir(), 'openmumble-cli-'));
    const file = (name: string, content: string) => {
      writeFileSync(join(folder, name), content);
      return join(folder, name);
    };
    const { db } = open().database;
    const storedHash = async (id: string) => (await db.selectFrom('agents').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;

    const added = await cli('agents', 'add', '--account', account.id, '--name', 'Pat', '--email', 'pat@cli.test', '--password-file', file('first', ' first password \n'));
    expect(added.failed, added.err).toBe(false);
    expect(added.out).not.toContain('invitation link');
    const [, id] = new RegExp(`agent (${UUID}) added`).exec(added.out)!;
    expect(await verifyPassword(await storedHash(id), ' first password ')).toBe(true);

    expect((await cli('agents', 'set', id, '--password-file', file('second', 'second password\r\n'))).failed).toBe(false);
    expect(await verifyPassword(await storedHash(id), 'second password')).toBe(true);

    const short = await cli('agents', 'set', id, '--password-file', file('short', 'short\n'));
    expect(short).toMatchObject({ failed: true, out: '' });
    expect(short.err).toContain('password: password must be at least 10 characters');
    const nameOnly = await cli('agents', 'add', '--account', account.id, '--name', 'Nameless', '--password-file', file('third', 'third password\n'));
    expect(nameOnly.err).toContain('password: a password needs an email to sign in with');
    expect(JSON.parse((await cli('agents', 'list', '--account', account.id, '--json')).out)).toHaveLength(1);
    rmSync(folder, { recursive: true, force: true });
  });

  it.each([
    [['accounts', 'create', ''], 'name: name is required'],
    [['accounts', 'create', '   '], 'name: name is required'],
    [['keys', 'create', '--account', 'any', '--name', ''], 'name: name is required'],
    [['teams', 'add', '--account', 'any', '--name', ''], 'name: name is required'],
    [['agents', 'add', '--account', 'any', '--name', ''], 'name: name is required'],
    [['agents', 'add', '--account', 'any', '--name', 'X', '--email', 'not-an-email'], 'email: email is not valid'],
    [['agents', 'add', '--account', 'any', '--name', 'X', '--role', 'owner'], 'role: role must be one of admin, supervisor, agent'],
    [['agents', 'set', 'any', '--role', 'owner'], 'role: role must be one of admin, supervisor, agent'],
  ])('refuses %j with the admin API\'s message "%s"', async (args, message) => {
    const result = await cli(...args);
    expect(result).toMatchObject({ failed: true, out: '' });
    expect(result.err).toContain(message);
  });

  it.each([
    [['keys', 'create', '--account', 'no-such-account'], 'Account not found'],
    [['keys', 'list', '--account', 'no-such-account'], 'Account not found'],
    [['keys', 'revoke', 'no-such-key'], 'API key not found'],
    [['agents', 'add', '--account', 'no-such-account', '--name', 'X'], 'Account not found'],
    [['agents', 'remove', 'no-such-agent'], 'Agent not found'],
    [['teams', 'remove', 'no-such-team'], 'Team not found'],
    [['bots', 'remove', 'no-such-bot'], 'Bot not found.'],
  ])('openmumble %j fails with "%s" on stderr', async (args, message) => {
    const result = await cli(...args);
    expect(result).toMatchObject({ failed: true, out: '' });
    expect(result.err).toContain(message);
  });

  it('stops with the configuration error for a wrong DATABASE_URL', async () => {
    process.env.DATABASE_URL = 'mysql://nope';
    try {
      const result = await cli('accounts', 'list');
      expect(result.failed).toBe(true);
      expect(result.err).toContain('DATABASE_URL');
    } finally {
      process.env.DATABASE_URL = database.url;
    }
  });
});

describe('openmumble --help', () => {
  const program = buildCli();
  const help = program.helpInformation();
  const group = (name: string) => program.commands.find((command) => command.name() === name)!;

  it.each(['serve', 'migrate', 'accounts', 'keys', 'agents', 'teams', 'bots'])('lists the %s command with a description', (name) => {
    expect(help).toMatch(new RegExp(`^\\s+${name}\\b.*\\S+\\s+\\S+`, 'm'));
    expect(group(name).description()).not.toBe('');
  });

  it.each([
    ['accounts', ['create', 'list', 'set', 'rename', 'delete']],
    ['keys', ['create', 'list', 'rotate', 'revoke']],
    ['agents', ['add', 'list', 'set', 'invite', 'remove']],
    ['teams', ['add', 'list', 'set', 'remove', 'members']],
    ['bots', ['add', 'list', 'set', 'update', 'export', 'validate', 'remove']],
  ])('%s --help lists %j, each explained', (name, subcommands) => {
    const text = group(name).helpInformation();
    for (const subcommand of subcommands) expect(text).toMatch(new RegExp(`^\\s+${subcommand}\\b.*\\S+\\s+\\S+`, 'm'));
  });
});
