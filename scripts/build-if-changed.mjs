#!/usr/bin/env node
// `npm install`'s prepare and `npm start`'s prestart: builds only what changed since its last build (the
// server, the web inbox, each on its own), so a restart starts at once, while the first start after an
// install or an update still builds what it needs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const shared = ['package.json', 'package-lock.json'];
const targets = [
  {
    script: 'build:server',
    stamp: join(root, 'dist', '.build-stamp'),
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'packages/client/src', 'packages/client/package.json', ...shared],
  },
  {
    script: 'build:web',
    // Outside dist/web: Vite empties its output folder on each build.
    stamp: join(root, 'dist', '.web-build-stamp'),
    inputs: ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts', 'web/tsconfig.json', ...shared],
    output: join(root, 'dist', 'web', 'index.html'),
  },
];

/** The newest modification time under `path` (a file or a folder). */
function newest(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stats.mtimeMs);
}

// `build-if-changed.mjs web` builds only the web inbox (the browser tests, before they start a server).
const only = process.argv[2];
for (const { script, stamp, inputs, output } of targets.filter((target) => !only || target.script === `build:${only}`)) {
  const builtAt = existsSync(stamp) && (!output || existsSync(output)) ? statSync(stamp).mtimeMs : 0;
  const changedAt = Math.max(...inputs.map((input) => join(root, input)).filter(existsSync).map(newest));
  if (changedAt < builtAt) continue;

  const started = Date.now();
  const result = spawnSync('npm', ['run', script, '--silent'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // Stamped with the build's start: a file changed while it ran is newer, and the next start builds again.
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stamp, `built ${new Date(started).toISOString()}\n`);
  utimesSync(stamp, new Date(started), new Date(started));
}
