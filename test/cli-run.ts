import { runCli } from '../src/cli/index.js';

export interface CliResult {
  out: string;
  err: string;
  failed: boolean;
}

/**
 * The CLI, run in this process as `openmumble <args>` would run it, with `env` set for the run (and
 * put back after): what it printed, and whether it failed (exit code 1).
 */
export async function runCliWith(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const saved = { env: Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]])), log: console.log, write: process.stderr.write };
  let out = '';
  let err = '';
  Object.assign(process.env, env);
  console.log = (...parts: unknown[]) => void (out += `${parts.join(' ')}\n`);
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  try {
    await runCli(['node', 'openmumble', ...args]);
  } finally {
    for (const [name, value] of Object.entries(saved.env)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    console.log = saved.log;
    process.stderr.write = saved.write;
  }
  const failed = process.exitCode === 1;
  process.exitCode = undefined;
  return { out, err, failed };
}
