import type { Dispatcher } from 'undici';
import type { Config } from '../../config.js';
import { createPublicDispatcher } from '../../net/public-address.js';
import { GraphClient } from './graph-client.js';

/**
 * What the Cloud API channel shares across requests in a process: one Graph API client (its
 * keep-alive pool) and the public-address-only dispatcher for fetching anything from a host that is
 * not the configured Graph API (Meta's media CDN, a template's header sample).
 */
export interface CloudApiRuntime {
  graph: GraphClient;
  publicDispatcher: Dispatcher;
  close(): Promise<void>;
}

/** `publicDispatcher` replaces the public-address-only one (tests answer the public web with a mock). */
export function createCloudApiRuntime(
  config: Config,
  publicDispatcher: Dispatcher = createPublicDispatcher({ connectTimeoutMs: config.WHATSAPP_GRAPH_TIMEOUT_MS }),
): CloudApiRuntime {
  const graph = new GraphClient({ baseUrl: config.WHATSAPP_GRAPH_URL, version: config.WHATSAPP_GRAPH_VERSION, timeoutMs: config.WHATSAPP_GRAPH_TIMEOUT_MS });
  return {
    graph,
    publicDispatcher,
    close: async () => {
      await graph.close();
      await publicDispatcher.close();
    },
  };
}
