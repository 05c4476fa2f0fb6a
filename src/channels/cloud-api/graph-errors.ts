/**
 * What a failed Graph API call means for us. The Cloud API answers errors as
 * `{"error":{"message","type","code","error_subcode","error_data":{"messaging_product","details"},"fbtrace_id"}}`;
 * Meta advises building on `code` (and `details`), not on HTTP status, subcode or message text.
 */

/** The Graph error object, as much of it as was present. */
export interface GraphErrorBody {
  code: number | null;
  subcode: number | null;
  type: string | null;
  /** Meta's message, e.g. `(#131047) Re-engagement message`. */
  message: string | null;
  details: string | null;
  fbtraceId: string | null;
}

/** Window closed: more than 24 hours since the customer's last message (also arrives later as a `failed` status). */
export const CODE_REENGAGEMENT = 131047;
/** Cloud API throughput reached. */
export const CODE_RATE_LIMIT = 130429;
/** Too many messages to the same recipient in a short time (business/consumer pair rate limit). */
export const CODE_PAIR_RATE_LIMIT = 131056;
/** The access token is invalid, expired or revoked. */
export const CODE_ACCESS_TOKEN = 190;

export type FailureAction =
  /** The message failed and the conversation window is closed. */
  | 'window_closed'
  /** Nothing was sent; send it again later from a durable job, with backoff. */
  | 'retry_later'
  /** The channel's token is no good: mark the channel disconnected, fail the message. */
  | 'disconnect'
  /** The message failed; keep the code and title on it. */
  | 'fail'
  /**
   * The request may or may not have reached Meta (timed out or dropped after it was written). It is
   * never sent again blindly: the outcome becomes known through the status webhook, which carries
   * our message id as `biz_opaque_callback_data`.
   */
  | 'outcome_unknown';

export interface ChannelFailure {
  action: FailureAction;
  /** Meta's error code, or null for transport failures. */
  code: number | null;
  /** A short human title: Meta's message without its `(#code)` prefix, or our description. */
  title: string;
  details: string | null;
  /** For 'disconnect': why, in words an operator understands. */
  reason?: string;
}

/** `(#131047) Re-engagement message` → `Re-engagement message`. */
export function titleOf(message: string | null, code: number | null): string {
  const text = (message ?? '').replace(/^\(#\d+\)\s*/, '').trim();
  if (text) return text;
  return code === null ? 'WhatsApp request failed' : `WhatsApp error ${code}`;
}

/** Reads the Graph error object out of any response body; null when there is none. */
export function parseGraphErrorBody(body: unknown): GraphErrorBody | null {
  if (!body || typeof body !== 'object' || !('error' in body)) return null;
  const error = (body as { error: unknown }).error;
  if (!error || typeof error !== 'object') return null;
  const e = error as Record<string, unknown>;
  const data = e.error_data && typeof e.error_data === 'object' ? (e.error_data as Record<string, unknown>) : {};
  const int = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null);
  const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  return {
    code: int(e.code),
    subcode: int(e.error_subcode),
    type: str(e.type),
    message: str(e.message),
    details: str(data.details),
    fbtraceId: str(e.fbtrace_id),
  };
}

/** How a Graph error answer maps onto our message and channel states. */
export function classifyGraphError(error: GraphErrorBody, httpStatus: number): ChannelFailure {
  const title = titleOf(error.message, error.code);
  const base = { code: error.code, title, details: error.details };
  switch (error.code) {
    case CODE_REENGAGEMENT:
      return { ...base, action: 'window_closed' };
    case CODE_RATE_LIMIT:
    case CODE_PAIR_RATE_LIMIT:
      return { ...base, action: 'retry_later' };
    case CODE_ACCESS_TOKEN:
      return { ...base, action: 'disconnect', reason: `access token rejected by WhatsApp (code 190): ${error.details ?? title}` };
    default:
      // A 401 without a code is still a token problem; anything else is kept on the message.
      if (error.code === null && httpStatus === 401) {
        return { ...base, action: 'disconnect', reason: `access token rejected by WhatsApp (HTTP 401): ${title}` };
      }
      return { ...base, action: 'fail' };
  }
}

/** Same mapping for the `errors[]` of a `failed` status webhook (only window and fail apply there). */
export function classifyStatusError(error: { code: number | null; title: string | null; message: string | null; details: string | null }): ChannelFailure {
  const title = titleOf(error.title ?? error.message, error.code);
  return { action: error.code === CODE_REENGAGEMENT ? 'window_closed' : 'fail', code: error.code, title, details: error.details };
}
