import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';

/**
 * How an endpoint takes files in a multipart/form-data request. Each file is handed to `receive` as
 * it streams in (nothing is buffered whole); what `receive` returns becomes that field's parameter
 * value, beside the text fields. Before the reply is sent (or when the client gives up), `release`
 * gets each received file back, whatever happened in between, to drop what the handler did not keep.
 */
export interface FileUploads<Received = any> {
  /** No file may be larger than this; `receive` can enforce finer limits. */
  maxFileBytes: number;
  receive(file: MultipartFile, deps: Deps): Promise<Received>;
  release(received: Received, deps: Deps): Promise<void>;
}

const MAX_FIELD_BYTES = 64 * 1024;

/** Makes the routes of `scope` (an encapsulated plugin) accept multipart requests, handled by `uploads`. */
export async function acceptUploads(scope: FastifyInstance, uploads: FileUploads, deps: Deps): Promise<void> {
  const received = new WeakMap<FastifyRequest, unknown[]>();
  await scope.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: uploads.maxFileBytes, files: 1, fields: 50, fieldSize: MAX_FIELD_BYTES },
    async onFile(this: FastifyRequest, part: MultipartFile & { value?: unknown }) {
      part.value = await uploads.receive(part, deps);
      received.set(this, [...(received.get(this) ?? []), part.value]);
    },
  });
  const release = async (request: FastifyRequest) => {
    const files = received.get(request) ?? [];
    received.delete(request);
    for (const file of files) {
      await uploads.release(file, deps).catch((error: unknown) => request.log.error({ err: error }, 'could not release an upload'));
    }
  };
  // Before the reply leaves, so a client that is told "no" finds nothing kept; or when it gave up.
  scope.addHook('onSend', async (request, _reply, payload) => {
    await release(request);
    return payload;
  });
  scope.addHook('onRequestAbort', release);
}

/**
 * Registers each route with `route`; one that takes files (`uploads`) in an encapsulated scope of its
 * own that accepts multipart requests, so multipart parsing happens only where files are expected.
 */
export function registerWithUploads<Route extends { uploads?: FileUploads }>(
  app: FastifyInstance,
  routes: Route[],
  deps: Deps,
  route: (scope: FastifyInstance, definition: Route) => void,
): void {
  for (const definition of routes) {
    const { uploads } = definition;
    if (!uploads) {
      route(app, definition);
      continue;
    }
    app.register(async (scope) => {
      await acceptUploads(scope, uploads, deps);
      route(scope, definition);
    });
  }
}
