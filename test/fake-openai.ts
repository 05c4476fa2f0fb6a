import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible Chat Completions server on 127.0.0.1 that answers from a script: each request
 * takes the next scripted reply (text, tool calls, an HTTP error, or a delay first). It records every
 * request it saw, with its headers, for the tests to read.
 */
export type ScriptedReply =
  | { content: string; delayMs?: number }
  | { toolCalls: Array<{ name: string; arguments: Record<string, unknown> }>; content?: string; delayMs?: number }
  | { status: number; delayMs?: number };

export interface SeenRequest {
  authorization: string | undefined;
  body: { model: string; messages: Array<{ role: string; content: string | null }>; tools?: Array<{ function: { name: string } }> };
}

export interface FakeOpenAi {
  /** The base URL to configure (`…/v1`). */
  url: string;
  requests: SeenRequest[];
  script(...replies: ScriptedReply[]): void;
  /** Resolves when the server has received `count` requests in all. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function completion(model: string, reply: Exclude<ScriptedReply, { status: number }>) {
  const toolCalls = 'toolCalls' in reply ? reply.toolCalls.map((call, index) => ({ id: `call_${index}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } })) : undefined;
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, finish_reason: toolCalls ? 'tool_calls' : 'stop', message: { role: 'assistant', content: reply.content ?? null, ...(toolCalls && { tool_calls: toolCalls }) } }],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
  };
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const queue: ScriptedReply[] = [];
  const requests: SeenRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request)) as SeenRequest['body'];
    requests.push({ authorization: request.headers.authorization, body });
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve();
    const reply = queue.shift() ?? { content: 'Scripted reply missing' };
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if ('status' in reply) {
      response.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(body.model, reply)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...replies) => queue.push(...replies),
    received: (count) => (requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
