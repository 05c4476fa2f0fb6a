import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import * as directory from '../modules/directory/directory.service.js';
import { invitationUrl } from '../modules/people/invitations.js';
import { newPersonInput, personPatchInput } from '../modules/people/people.schema.js';
import * as people from '../modules/people/people.service.js';
import { parseOrFail, print, readSecretFile, type WithDeps } from './support.js';

function printInvitation(deps: Deps, token: string): void {
  console.log(`invitation link (valid ${Math.round(deps.config.INVITATION_TTL / 86_400_000)} days, shown only now): ${invitationUrl(deps.config, token)}`);
}

/** --password-file: a password on the command line would stay in shell history and show in `ps`. */
const PASSWORD_FILE = ['--password-file <path>', 'read a password (at least 10 characters) from a file, or - for standard input'] as const;

interface PatchOptions {
  name?: string;
  /** commander turns --no-email into `false`. */
  email?: string | false;
  role?: string;
  passwordFile?: string;
  disable?: boolean;
  enable?: boolean;
}

/** The flags of `agents set` as the admin API's PATCH body, so the same validator judges them. */
function patchOf(options: PatchOptions): Record<string, unknown> {
  if (options.disable && options.enable) throw new Error('choose one of --disable and --enable');
  return {
    ...(options.name !== undefined && { name: options.name }),
    ...(options.email !== undefined && { email: options.email === false ? null : options.email }),
    ...(options.role !== undefined && { role: options.role }),
    ...(options.passwordFile !== undefined && { password: readSecretFile(options.passwordFile) }),
    ...(options.disable && { disabled: true }),
    ...(options.enable && { disabled: false }),
  };
}

/** `openmumble agents …` and `openmumble teams members …`: the admin API's people routes from the shell. */
export function peopleCommands(program: Command, teams: Command, withDeps: WithDeps): void {
  const agents = program.command('agents').description("manage an account's agents: assignable names, and people who sign in to the inbox");
  agents
    .command('add')
    .description('add an agent; with --email, a person who signs in (an invitation link is printed unless --password-file gives a password)')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', 'agent name')
    .option('--email <email>', 'the email the person signs in with')
    .option('--role <role>', 'admin, supervisor or agent (default)')
    .option(...PASSWORD_FILE)
    .action((options: { account: string; name: string; email?: string; role?: string; passwordFile?: string }) =>
      withDeps(async (deps) => {
        const password = options.passwordFile === undefined ? undefined : readSecretFile(options.passwordFile);
        const input = parseOrFail(newPersonInput, { name: options.name, email: options.email, role: options.role, password });
        const { agent, invitationToken } = await people.createPerson(deps, options.account, input);
        console.log(`agent ${agent.id} added (${agent.name})`);
        if (invitationToken) printInvitation(deps, invitationToken);
      }),
    );
  agents
    .command('list')
    .description("list an account's agents")
    .requiredOption('--account <id>', 'account id')
    .option('--json', 'print JSON')
    .action((options: { account: string; json?: boolean }) => withDeps(async (deps) => print(await people.listPeople(deps, options.account), options)));
  agents
    .command('set')
    .description("change an agent's name, email, role or password, or whether they may sign in (a new password or email ends their sessions)")
    .argument('<id>', 'agent id')
    .option('--name <name>', 'a new name')
    .option('--email <email>', 'a new email')
    .option('--no-email', 'remove the email (the person can no longer sign in)')
    .option('--role <role>', 'admin, supervisor or agent')
    .option(...PASSWORD_FILE)
    .option('--disable', 'stop the person from signing in (ends their sessions)')
    .option('--enable', 'let a disabled person sign in again')
    .action((id: string, options: PatchOptions) =>
      withDeps(async (deps) => {
        const agent = await people.updatePerson(deps, id, parseOrFail(personPatchInput, patchOf(options)));
        console.log(`agent ${agent.id} updated (${agent.name}, ${agent.email ?? 'no email'}, ${agent.role}${agent.disabled_at ? ', disabled' : ''})`);
      }),
    );
  agents
    .command('invite')
    .description('print a new invitation link for a person (earlier links and their sessions end)')
    .argument('<id>', 'agent id')
    .action((id: string) => withDeps(async (deps) => printInvitation(deps, await people.reinvite(deps, id))));
  agents
    .command('remove')
    .description('remove an agent by id')
    .argument('<id>', 'agent id')
    .action((id: string) =>
      withDeps(async (deps) => {
        await directory.removeEntry(deps, 'agents', id);
        console.log(`agent ${id} removed`);
      }),
    );

  const members = teams.command('members').description("manage a team's members (agents of the same account)");
  members
    .command('add')
    .description('add an agent to a team')
    .argument('<team-id>', 'team id')
    .argument('<agent-id>', 'agent id')
    .action((teamId: string, agentId: string) =>
      withDeps(async (deps) => {
        await people.addTeamMember(deps, teamId, agentId);
        console.log(`agent ${agentId} is a member of team ${teamId}`);
      }),
    );
  members
    .command('remove')
    .description('remove an agent from a team')
    .argument('<team-id>', 'team id')
    .argument('<agent-id>', 'agent id')
    .action((teamId: string, agentId: string) =>
      withDeps(async (deps) => {
        await people.removeTeamMember(deps, teamId, agentId);
        console.log(`agent ${agentId} left team ${teamId}`);
      }),
    );
  members
    .command('list')
    .description("list a team's members")
    .argument('<team-id>', 'team id')
    .option('--json', 'print JSON')
    .action((teamId: string, options: { json?: boolean }) => withDeps(async (deps) => print(await people.listTeamMembers(deps, teamId), options)));
}
