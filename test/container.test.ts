import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';
import { ROOT } from './processes.js';

/**
 * The Dockerfile, compose.yaml and the proxy's configuration cannot be built or run here (no
 * container runtime), so this checks what can be checked without one.
 */
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const dockerfile = read('Dockerfile');
const compose = read('compose.yaml');
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

/** Dockerfile instructions, continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

describe('the container image', () => {
  it('copies only files that exist (from the build context)', () => {
    const copies = instructions.filter((line) => line.startsWith('COPY ') && !line.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const line of copies) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect(existsSync(join(ROOT, source)), `${source} (${line})`).toBe(true);
    }
  });

  it("runs the package's start command", () => {
    const cmd = instructions.find((line) => line.startsWith('CMD '))!;
    expect((JSON.parse(cmd.slice(4)) as string[]).join(' ')).toBe(packageJson.scripts.start);
  });

  it('runs on Node 20 as a non-root user, checks /healthz, and installs production dependencies from the lockfile', () => {
    expect(instructions.filter((line) => line.startsWith('FROM ')).every((line) => /^FROM node:20-slim\b/.test(line))).toBe(true);
    expect(instructions).toContain('USER node');
    expect(instructions.find((line) => line.startsWith('HEALTHCHECK'))).toMatch(/\/healthz/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('sets only variables the server reads', () => {
    const set = instructions.filter((line) => line.startsWith('ENV ')).flatMap((line) => [...line.matchAll(/(\w+)=/g)].map((match) => match[1]!));
    expect(set.length).toBeGreaterThan(0);
    for (const name of set) expect(CONFIG_VARIABLES, name).toContain(name);
  });
});

describe('compose.yaml', () => {
  it('runs two instances on PostgreSQL and Redis behind a reverse proxy', () => {
    for (const service of ['postgres:', 'redis:', 'openmumble-1:', 'openmumble-2:', 'proxy:']) expect(compose).toContain(`  ${service}`);
    expect(existsSync(join(ROOT, 'deploy/Caddyfile'))).toBe(true);
    expect(read('deploy/Caddyfile')).toMatch(/reverse_proxy openmumble-1:3000 openmumble-2:3000/);
  });

  it("sets only variables the server reads", () => {
    const block = compose.slice(compose.indexOf('  environment:'), compose.indexOf('  volumes:'));
    const names = [...block.matchAll(/^ {4}([A-Z_]+):/gm)].map((match) => match[1]!);
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) expect(CONFIG_VARIABLES, name).toContain(name);
  });
});
