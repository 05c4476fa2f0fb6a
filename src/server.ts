import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { startBackgroundWork } from './background.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrateToLatest } from './db/database.js';
import { closeDeps, createDeps, type Deps } from './deps.js';
import { ensureDefaultAccount } from './modules/accounts/accounts.service.js';
import { sealPlainWebhookSecrets } from './modules/secrets/secrets.service.js';
import { checkSecretKeyForStoredChannels } from './modules/whatsapp/whatsapp.service.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  url: string;
  stop(): Promise<void>;
}

/** The first start's welcome: the default key, shown once, and a request to try it with. */
function printFirstStartKey(url: string, key: string, out: NodeJS.WritableStream): void {
  out.write(
    [
      '',
      'openmumble created a default account. Its API key is shown only this once; keep it safe:',
      '',
      `  ${key}`,
      '',
      'Try it:',
      '',
      `  curl -s -X POST ${url}/mumbleapi/add-new-customer -H 'Mumble-Api-Key: ${key}' -H 'Content-Type: application/json' -d '{"customer_phone":"972501234567","name":"John Doe"}'`,
      '',
      '',
    ].join('\n'),
  );
}

/** Opens the database, migrates it, creates the default account on first start, and listens. */
export async function startServer(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<RunningServer> {
  const deps = createDeps(config);
  await migrateToLatest(deps.database.db);
  // Connected WhatsApp numbers whose tokens cannot be decrypted: stop now, not at the first send.
  const missingKey = await checkSecretKeyForStoredChannels(deps);
  if (missingKey) {
    await closeDeps(deps);
    throw new ConfigError(missingKey);
  }
  await sealPlainWebhookSecrets(deps);
  const created = await ensureDefaultAccount(deps, config.OPENMUMBLE_API_KEY);
  // The key is about to be shown: it must survive a power cut.
  await deps.database.durable();
  const app = await buildApp(deps);
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const url = address.replace('[::1]', 'localhost');
  const background = startBackgroundWork(deps);
  if (created && !config.OPENMUMBLE_API_KEY) printFirstStartKey(url, created.key.key, out);
  if (created && config.OPENMUMBLE_API_KEY) deps.logger.info('created the default account with the key from OPENMUMBLE_API_KEY');
  return {
    app,
    deps,
    url,
    stop: async () => {
      await app.close();
      await background.stop();
      await closeDeps(deps);
    },
  };
}

/** Stops taking connections on SIGTERM/SIGINT, lets requests in flight finish, then exits. */
export function stopOnSignals(server: RunningServer): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.deps.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.deps.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** `npm start` and `openmumble serve`: configuration from the environment; a wrong value stops start-up. */
export async function serve(): Promise<void> {
  try {
    stopOnSignals(await startServer(loadConfig()));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `openmumble failed to start: ${(error as Error).message}`}\n`);
    process.exit(1);
  }
}
