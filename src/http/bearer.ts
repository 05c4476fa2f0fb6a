import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether an `Authorization: Bearer <token>` header carries `expected`. The scheme name is
 * case-insensitive (RFC 9110 §11.1). Compared as equal-length digests in constant time, so neither
 * the token's content nor its length leaks through timing.
 */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = /^Bearer +(.+)$/i.exec(header ?? '')?.[1] ?? '';
  if (!given) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
