#!/usr/bin/env node
// `npm install`'s prepare and `npm start`'s prestart: builds only when a source file changed since the last build, so a restart
// starts at once, while the first start after an install or an update still builds what it needs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'packages/client/src', 'packages/client/package.json'];

/** The newest modification time under `path` (a file or a folder). */
function newest(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stats.mtimeMs);
}

const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changedAt = Math.max(...inputs.map((input) => join(root, input)).filter(existsSync).map(newest));
if (changedAt < builtAt) process.exit(0);

const started = Date.now();
const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// Stamped with the build's start: a file changed while it ran is newer, and the next start builds again.
writeFileSync(stamp, `built ${new Date(started).toISOString()}\n`);
utimesSync(stamp, new Date(started), new Date(started));
