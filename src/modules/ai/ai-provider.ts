import type OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import type { Deps } from '../../deps.js';
import type { EffectiveAi } from './ai.service.js';

/**
 * One provider interface: OpenAI-compatible Chat Completions with tool calling (OpenAI, Azure
 * OpenAI, OpenRouter, Groq, vLLM, llama.cpp's server, Ollama), through the official `openai` client.
 * It retries 429s, 5xx and dropped connections itself (with backoff, up to twice): a retried request
 * has sent nobody anything, as the answer is only sent once it is back.
 */

export type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
export type ChatTool = OpenAI.Chat.Completions.ChatCompletionTool;

export interface ChatAnswer {
  content: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

const MAX_RETRIES = 2;

/**
 * Outside AI_ALLOW_PRIVATE_BASE_URL every connection goes through the public-address-only
 * dispatcher (the SSRF guard): a name that resolves to a private address is refused.
 */
async function clientFor(deps: Deps, ai: EffectiveAi): Promise<OpenAI> {
  const guarded = !deps.config.AI_ALLOW_PRIVATE_BASE_URL;
  // Loaded on first use: most servers never call a model, and the client is a large module to start with.
  const { default: OpenAIClient } = await import('openai');
  return new OpenAIClient({
    baseURL: ai.baseUrl,
    // Local servers (Ollama, llama.cpp) take any key; the client insists on one.
    apiKey: ai.apiKey ?? 'none',
    timeout: deps.config.AI_TIMEOUT,
    maxRetries: MAX_RETRIES,
    ...(guarded && {
      fetch: ((url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher: deps.whatsapp.publicDispatcher } as never)) as never,
    }),
  });
}

export async function complete(deps: Deps, ai: EffectiveAi, messages: ChatMessage[], tools: ChatTool[]): Promise<ChatAnswer> {
  const client = await clientFor(deps, ai);
  const completion = await client.chat.completions.create({
    model: ai.model,
    messages,
    ...(tools.length > 0 && { tools }),
    ...(ai.temperature !== null && { temperature: ai.temperature }),
  });
  const message = completion.choices[0]?.message;
  return {
    content: message?.content ?? null,
    toolCalls: (message?.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [])),
    model: completion.model || ai.model,
    promptTokens: completion.usage?.prompt_tokens ?? 0,
    completionTokens: completion.usage?.completion_tokens ?? 0,
  };
}
