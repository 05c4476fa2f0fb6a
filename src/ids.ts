import { randomBytes, randomUUID } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}

/** base64url of `bytes` random bytes: URL- and header-safe. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
