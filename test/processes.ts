import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { join } from 'node:path';

/** Starting real server processes and the services around them, for black-box and scale-out tests. */

export const ROOT = join(import.meta.dirname, '..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How a server process runs. */
export type ServerCommand =
  /** `node --import tsx src/main.ts`: the source as it is, one process. */
  | 'source'
  /** `node dist/src/main.js`: the build (the caller builds first). */
  | 'built'
  /** `npm start`, as the README says: builds through `prestart`, then runs the build under npm. */
  | 'npm-start';

export interface ServerProcessOptions {
  command?: ServerCommand;
  /** The server's settings (LOG_LEVEL is warn, HOST 127.0.0.1 unless given); PORT is always a free port of the launcher's choosing. */
  env?: Record<string, string>;
  /** How long to wait for /healthz before giving up. */
  startTimeoutMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Standard output and error so far, interleaved. */
  output(): string;
  /** Sends `signal` (SIGTERM unless told) and resolves once the server's processes have all exited. */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

const COMMANDS: Record<ServerCommand, [string, string[]]> = {
  source: [process.execPath, ['--import', 'tsx', 'src/main.ts']],
  built: [process.execPath, ['dist/src/main.js']],
  'npm-start': ['npm', ['start']],
};

/**
 * Only what a process needs to run, never the test runner's own settings: the server reads exactly
 * the environment the test gives it (no DATABASE_URL, REDIS_URL or NODE_OPTIONS from outside).
 */
function systemEnvironment(): Record<string, string> {
  const names = ['PATH', 'HOME', 'TMPDIR', 'LANG'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a server process and waits until /healthz answers. `npm start` runs detached, in a process
 * group of its own, so that stopping it signals npm and the server under it alike.
 */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const { command = 'source', startTimeoutMs = command === 'npm-start' ? 120_000 : 30_000 } = options;
  const port = await freePort();
  const group = command === 'npm-start';
  const [file, args] = COMMANDS[command];
  const child = spawn(file, args, {
    cwd: ROOT,
    env: { ...systemEnvironment(), LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // 'close', not 'exit': every process holding the output (the server under npm too) has ended,
  // and all it wrote has been read.
  const closed = new Promise<ProcessExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let done = false;
  void closed.then(() => (done = true));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!done) {
      try {
        if (group) process.kill(-child.pid!, signal);
        else child.kill(signal);
      } catch {
        // The process (group) has just gone.
      }
    }
    return closed;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (done) {
      const exit = await closed;
      throw new Error(`server exited with ${exit.code ?? exit.signal}: ${output}`);
    }
    if (await fetch(`${url}/healthz`).then((response) => response.ok, () => false)) break;
    if (Date.now() > deadline) {
      await stop('SIGKILL');
      throw new Error(`server did not become healthy within ${startTimeoutMs} ms: ${output}`);
    }
    await delay(100);
  }
  return { url, child, output: () => output, stop };
}

/** A TCP proxy to a service that a test can cut, as if the service had stopped. */
export interface CuttableProxy {
  port: number;
  cut(): Promise<void>;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * Server processes on one scratch database, started one after the other (the first start creates the
 * default account they all serve), under the schema lock: their start-up migrations must not meet
 * another suite dropping its schema.
 */
export async function startInstances(database: { underSchemaLock<T>(work: () => Promise<T>): Promise<T> }, env: Record<string, string>, count = 2): Promise<ServerProcess[]> {
  return database.underSchemaLock(async () => {
    const started: ServerProcess[] = [];
    for (let n = 0; n < count; n++) started.push(await startServerProcess({ env }));
    return started;
  });
}
