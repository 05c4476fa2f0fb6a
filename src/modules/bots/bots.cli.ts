import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { WithDeps } from '../../cli/support.js';
import { FlowError, parseFlow } from './flow.schema.js';
import * as bots from './bots.service.js';

/** A flow file's JSON; a file that is no JSON stops the command with the reason. */
function readFlowFile(path: string): unknown {
  const text = readFileSync(path === '-' ? 0 : path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * Flow bots from the command line (docs/bots.md), beside `bots list|set|remove`: add one with its
 * flow, save a new version, print the current flow, or check a flow file without a database.
 */
export function botFlowCommands(group: Command, withDeps: WithDeps): void {
  group
    .command('add')
    .description('add a flow bot to an account, with its flow (a JSON file, or - for standard input)')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', 'bot name')
    .option('--flow <file>', 'the flow, JSON (without it the bot answers nothing until it gets one)')
    .action((options: { account: string; name: string; flow?: string }) =>
      withDeps(async (deps) => {
        const bot = await bots.createBot(deps, options.account, { name: options.name, ...(options.flow !== undefined && { flow: readFlowFile(options.flow) }) });
        console.log(`bot ${bot.id} added (${bot.name})${bot.version > 0 ? `, flow version ${bot.version}` : ', no flow yet'}`);
      }),
    );
  group
    .command('update')
    .description("save a new version of a bot's flow (sessions under way finish on their version)")
    .argument('<id>', 'bot id')
    .requiredOption('--flow <file>', 'the flow, JSON (or - for standard input)')
    .action((id: string, options: { flow: string }) =>
      withDeps(async (deps) => {
        const bot = await bots.updateBot(deps, id, { flow: readFlowFile(options.flow) });
        console.log(`bot ${bot.id} updated (flow version ${bot.version})`);
      }),
    );
  group
    .command('export')
    .description("print a bot's current flow (JSON)")
    .argument('<id>', 'bot id')
    .action((id: string) =>
      withDeps(async (deps) => {
        const bot = await bots.getBot(deps, id);
        if (!bot.flow) throw new Error(`bot ${id} has no flow yet`);
        console.log(JSON.stringify(bot.flow, null, 2));
      }),
    );
  group
    .command('validate')
    .description('check a flow file: its shape and graph (what it names in an account is checked when it is saved)')
    .argument('<file>', 'the flow, JSON (or - for standard input)')
    .action((file: string) => {
      try {
        const flow = parseFlow(readFlowFile(file));
        console.log(`${file}: valid (${flow.nodes.length} nodes, ${flow.edges.length} edges)`);
      } catch (error) {
        if (error instanceof FlowError) throw new Error(`${file}: invalid flow: ${error.message}`);
        throw error;
      }
    });
}
