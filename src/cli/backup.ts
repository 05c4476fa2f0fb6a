import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { backupSqlite, restoreSqlite, backupFileOf } from '../db/backup.js';
import { lockSqliteDatabase } from '../db/server-lock.js';

/** `openmumble backup <file>` and `openmumble restore <file>` for the embedded database (docs/operations.md). */
export function backupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the SQLite database, consistently, while the server runs (PostgreSQL: use pg_dump)')
    .argument('<file>', 'a new file to write the copy to')
    .action(async (file: string) => {
      const { pages } = await backupSqlite(backupFileOf(loadConfig().DATABASE_URL), file);
      console.log(`backed up ${pages} pages to ${file}`);
    });
  program
    .command('restore')
    .description('replace the SQLite database with a backup (stop the server first)')
    .argument('<file>', 'a file written by openmumble backup')
    .option('--force', 'replace an existing database')
    .action(async (file: string, options: { force?: boolean }) => {
      const target = backupFileOf(loadConfig().DATABASE_URL);
      // Never under a running server: it takes the same lock a server holds while it runs.
      const lock = lockSqliteDatabase(target, 'openmumble restore');
      try {
        const { pages } = await restoreSqlite(file, target, { overwrite: options.force === true });
        console.log(`restored ${pages} pages from ${file} to ${target}`);
      } finally {
        lock.release();
      }
    });
}
