import { Algorithm, hash, verify } from '@node-rs/argon2';

/** Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 20 ms a hash here. */
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A hash of no one's password: checked when the email is unknown, so both failures take as long. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` is the one `stored` was made from. Without a stored hash (unknown email, no
 * password set yet) a decoy hash is checked all the same, so the answer's time tells nothing.
 */
export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hashPassword('decoy password, never matched');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
