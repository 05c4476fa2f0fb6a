import { z } from 'zod';
import { defineAppRoute } from '../../http/app-route.js';
import { NOT_SIGNED_IN, sessionTokenOf, viewerOfSession } from '../auth/sessions.service.js';
import { LIVE_UNAVAILABLE } from './hub.js';
import { LiveStream } from './live-stream.js';

/** Response headers of a stream: never cached, never buffered by a proxy (nginx honours X-Accel-Buffering). */
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** GET /app/api/events: the signed-in person's live events (docs/inbox.md, "Live events"). */
export const liveAppRoutes = [
  defineAppRoute({
    method: 'GET',
    path: '/app/api/events',
    access: 'person',
    summary: 'Live events (Server-Sent Events)',
    description:
      'A `text/event-stream` of what changes in the conversations the signed-in person may see: `id: <event id>`, ' +
      '`event: <type>`, `data: {"type", "customer_id", "at", …}`. Send `Last-Event-ID` (or `?last_event_id=`) to resume ' +
      'after a disconnection: the events after it are replayed (kept at least 10 minutes), or a `reset` event says to reload. ' +
      'A `ready` event follows the replay; a `: ping` comment keeps the connection open; `signed_out` ends the stream when ' +
      'the session ends. See docs/inbox.md.',
    query: z.object({ last_event_id: z.string().max(32).optional() }),
    output: z.string().describe('text/event-stream'),
    produces: 'text/event-stream',
    errors: [
      { status: 401, message: NOT_SIGNED_IN },
      { status: 503, message: LIVE_UNAVAILABLE },
    ],
    handler: async ({ query }, { deps, viewer, request, reply }) => {
      const token = sessionTokenOf(request) ?? '';
      const header = request.headers['last-event-id'];
      const stream = new LiveStream({
        database: deps.database,
        hub: deps.live,
        viewer,
        reloadViewer: () => viewerOfSession(deps, token, { touch: false }),
        lastEventId: (Array.isArray(header) ? header[0] : header) ?? query.last_event_id,
        heartbeatMs: deps.config.LIVE_HEARTBEAT_INTERVAL,
        sessionCheckMs: deps.config.LIVE_SESSION_CHECK_INTERVAL,
        onEnd: (reason, error) => {
          deps.metrics.liveConnections.dec();
          if (reason === 'error') request.log.warn({ err: error }, 'live events: a stream failed');
          // A taken-over reply has no access-log line of its own when the client leaves.
          else request.log.info({ reason, seconds: Math.round(reply.elapsedTime / 1000) }, 'live events: stream ended');
        },
      });
      deps.metrics.liveConnections.inc();
      try {
        // Before the reply is taken over: a hub that cannot listen answers 503, in the envelope.
        await stream.subscribe();
      } catch (error) {
        deps.metrics.liveConnections.dec();
        throw error;
      }
      // The stream is ours from here: no onSend hooks (nothing to make durable: a stream reports
      // events, each made durable before the hub hands it over) and no serializer.
      reply.hijack();
      try {
        reply.raw.writeHead(200, STREAM_HEADERS);
        reply.raw.flushHeaders();
      } catch (error) {
        stream.end('error', error);
        reply.raw.destroy();
        return reply;
      }
      await stream.start(reply.raw);
      return reply;
    },
  }),
];
