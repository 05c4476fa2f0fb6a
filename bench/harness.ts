// What every benchmark script here shares: starting a server process and knowing when it is ready,
// driving it with autocannon, and reading its peak memory. `npm run bench` (bench/run.ts) and
// `npm run bench:limiter` (bench/run-limiter.ts) both build on it.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { freePort } from '../test/processes.js';

export { freePort };

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  headers?: Record<string, string>;
  /** Builds each request (autocannon's setupRequest): path, method, headers, body. */
  request?: (request: RequestShape) => RequestShape;
  method?: 'GET' | 'POST';
  /** Requests per second per connection (autocannon's connectionRate): a paced load instead of back-to-back. */
  connectionRate?: number;
}

export interface RequestShape {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface LoadResult {
  requests_per_second: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  requests: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
}

/** One autocannon run; its figures rounded for a report. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { request } = options;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    ...(options.method && { method: options.method }),
    ...(options.connectionRate && { connectionRate: options.connectionRate }),
    ...(options.headers && { headers: options.headers }),
    ...(request && { requests: [{ setupRequest: ((shape: RequestShape) => request(shape)) as never }] }),
  });
  return {
    requests_per_second: Math.round(result.requests.average),
    latency_p50_ms: result.latency.p50,
    latency_p99_ms: result.latency.p99,
    requests: result.requests.total,
    non_2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** Milliseconds from spawn to ready. */
  startupMs: number;
  /** The message the process sent when ready (IPC-ready processes). */
  message?: unknown;
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function stopper(child: ChildProcess) {
  const exited = exitOf(child);
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timeout);
  };
}

/** A script that says it is ready over IPC (bench/bare-server.mjs, bench/bench-server.ts). */
export async function startIpcProcess(script: string, env: Record<string, string>): Promise<StartedProcess> {
  const port = await freePort();
  const started = performance.now();
  const child = fork(script, [], {
    env: { ...process.env, ...env, PORT: String(port) },
    execArgv: script.endsWith('.ts') ? ['--import', 'tsx'] : [],
    stdio: 'inherit',
  });
  const message = await new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, pid: child.pid!, port, url: `http://127.0.0.1:${port}`, startupMs: performance.now() - started, message, stop: stopper(child) };
}

export interface HttpProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The process's standard output and error go to this file (a server's log, as in production). */
  logFile: string;
  /** Milliseconds to wait for /healthz before giving up. */
  timeoutMs?: number;
}

/** A server that is ready when GET /healthz answers 200; start-up time is spawn to that answer. */
export async function startHttpProcess(options: HttpProcessOptions): Promise<StartedProcess> {
  const port = await freePort();
  const log = openSync(options.logFile, 'a');
  const started = performance.now();
  const child = spawn(options.command, options.args, {
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.command} ${options.args.join(' ')} exited with ${child.exitCode}; see ${options.logFile}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (healthy) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`no /healthz answer within ${options.timeoutMs ?? 60_000} ms; see ${options.logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { child, pid: child.pid!, port, url, startupMs: performance.now() - started, stop: stopper(child) };
}

/** Peak resident memory of a live process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmHWM for process ${pid}`);
  return Math.round(Number(match[1]) / 1024);
}

export function ratio(value: number, ceiling: number): number {
  return ceiling > 0 ? +(value / ceiling).toFixed(3) : 0;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Reads an integer setting from the environment, with a default. */
export function envNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${name} must be a positive number, got "${value}"`);
  return number;
}
