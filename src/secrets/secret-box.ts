import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (WhatsApp access tokens, outbound webhook signing secrets): AES-256-GCM with a key
 * derived by HKDF-SHA256 from OPENMUMBLE_SECRET_KEY (any string of at least 32 characters, so hex,
 * base64 and passphrases all work), one derived key per purpose. The stored form is
 * `v1.<iv>.<ciphertext>.<tag>` in base64url. A context (the row's account) is bound in as additional
 * authenticated data, so a secret copied onto another account's row does not decrypt.
 *
 * Rotation (docs/operations.md): with OPENMUMBLE_SECRET_KEY_PREVIOUS set, what the old key sealed
 * still opens, and `openmumble secrets rotate` seals every stored secret again with the new key.
 */
const FORMAT = 'v1';
const IV_BYTES = 12;
const MIN_SECRET_LENGTH = 32;

/** What a derived key is for: a key of one purpose never opens a secret of another. */
export const CHANNEL_TOKEN = 'openmumble channel access token v1';
export const WEBHOOK_SECRET = 'openmumble webhook signing secret v1';
export const AI_PROVIDER_KEY = 'openmumble AI provider key v1';
export type SecretPurpose = typeof CHANNEL_TOKEN | typeof WEBHOOK_SECRET | typeof AI_PROVIDER_KEY;

export class SecretKeyMissingError extends Error {
  constructor(purpose: string) {
    super(`OPENMUMBLE_SECRET_KEY must be set (at least ${MIN_SECRET_LENGTH} characters) to ${purpose}`);
    this.name = 'SecretKeyMissingError';
  }
}

const NOUN: Record<SecretPurpose, string> = { [CHANNEL_TOKEN]: 'access token', [WEBHOOK_SECRET]: 'webhook signing secret', [AI_PROVIDER_KEY]: 'AI provider key' };

export class TokenDecryptionError extends Error {
  constructor(purpose: SecretPurpose = CHANNEL_TOKEN) {
    super(`the stored ${NOUN[purpose]} cannot be decrypted (was OPENMUMBLE_SECRET_KEY changed?)`);
    this.name = 'TokenDecryptionError';
  }
}

/** Whether a stored value is sealed (rather than a secret kept in clear before a key was configured). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(`${FORMAT}.`);
}

export class TokenCipher {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly purpose: SecretPurpose = CHANNEL_TOKEN,
  ) {
    if (secret.length < MIN_SECRET_LENGTH) throw new SecretKeyMissingError('encrypt secrets at rest');
    this.key = Buffer.from(hkdfSync('sha256', secret, 'openmumble', purpose, 32));
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(stored: string, context: string): string {
    const [format, iv, ciphertext, tag] = stored.split('.');
    if (format !== FORMAT || !iv || ciphertext === undefined || !tag) throw new TokenDecryptionError(this.purpose);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenDecryptionError(this.purpose);
    }
  }
}

export interface SecretKeys {
  OPENMUMBLE_SECRET_KEY?: string;
  OPENMUMBLE_SECRET_KEY_PREVIOUS?: string;
}

/** The configured key and, during a rotation, the previous one: seals with the first, opens with either. */
export class KeyRing {
  private readonly current: TokenCipher;
  private readonly previous: TokenCipher | undefined;

  constructor(keys: SecretKeys, purpose: SecretPurpose, what: string) {
    if (!keys.OPENMUMBLE_SECRET_KEY) throw new SecretKeyMissingError(what);
    this.current = new TokenCipher(keys.OPENMUMBLE_SECRET_KEY, purpose);
    this.previous = keys.OPENMUMBLE_SECRET_KEY_PREVIOUS ? new TokenCipher(keys.OPENMUMBLE_SECRET_KEY_PREVIOUS, purpose) : undefined;
  }

  encrypt(plaintext: string, context: string): string {
    return this.current.encrypt(plaintext, context);
  }

  decrypt(stored: string, context: string): string {
    try {
      return this.current.decrypt(stored, context);
    } catch (error) {
      if (!this.previous) throw error;
      return this.previous.decrypt(stored, context);
    }
  }

  /** The stored value sealed again with the current key (from the previous key, or from clear text). */
  reseal(stored: string, context: string): string {
    return this.encrypt(isSealed(stored) ? this.decrypt(stored, context) : stored, context);
  }
}

/** The channel-token cipher for the configured key; a clear error naming the purpose when none is configured. */
export function tokenCipherFor(keys: SecretKeys, purpose: string): KeyRing {
  return new KeyRing(keys, CHANNEL_TOKEN, purpose);
}
