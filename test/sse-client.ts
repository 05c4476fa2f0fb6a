import { until } from './helpers.js';

/** A Server-Sent Events client over fetch, as a browser's EventSource reads a stream (for the live-events suites). */

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, any>;
}

export interface SseStream {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** Comment lines (`: ping`), without the colon. */
  comments: string[];
  retry: number | undefined;
  /** The server ended the stream. */
  ended: boolean;
  /** The first event (received already, or within `limitMs`) that matches. */
  next(matches: (event: SseEvent) => boolean, what: string, limitMs?: number): Promise<SseEvent>;
  /** The events of `type` received so far. */
  ofType(type: string): SseEvent[];
  close(): void;
}

function parseBlock(block: string, stream: SseStream): void {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
    else if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    else if (line.startsWith('retry:')) stream.retry = Number(line.slice(6));
  }
  if (data.length > 0) stream.events.push({ id, event, data: JSON.parse(data.join('\n')) as Record<string, any> });
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const stream: SseStream = {
    status: response.status,
    headers: response.headers,
    events: [],
    comments: [],
    retry: undefined,
    ended: false,
    next: async (matches, what, limitMs = 5_000) => {
      await until(() => stream.events.some(matches) || stream.ended, what, { limitMs });
      const found = stream.events.find(matches);
      if (!found) throw new Error(`the stream ended before ${what}`);
      return found;
    },
    ofType: (type) => stream.events.filter((event) => event.event === type),
    close: () => controller.abort(),
  };
  if (!response.ok || !response.body) {
    stream.ended = true;
    return stream;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          parseBlock(buffered.slice(0, end), stream);
          buffered = buffered.slice(end + 2);
        }
      }
    } catch {
      // Aborted by close(), or the connection dropped.
    } finally {
      stream.ended = true;
    }
  })();
  return stream;
}
