import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Channel access tokens at rest: AES-256-GCM with a key derived by HKDF-SHA256 from
 * OPENMUMBLE_SECRET_KEY (any string of at least 32 characters, so hex, base64 and passphrases all
 * work). The stored form is `v1.<iv>.<ciphertext>.<tag>` in base64url. The account id is bound in
 * as additional authenticated data, so a token copied onto another account's row does not decrypt.
 */
const FORMAT = 'v1';
const IV_BYTES = 12;
const MIN_SECRET_LENGTH = 32;

export class SecretKeyMissingError extends Error {
  constructor(purpose: string) {
    super(`OPENMUMBLE_SECRET_KEY must be set (at least ${MIN_SECRET_LENGTH} characters) to ${purpose}`);
    this.name = 'SecretKeyMissingError';
  }
}

export class TokenDecryptionError extends Error {
  constructor() {
    super('the stored access token cannot be decrypted (was OPENMUMBLE_SECRET_KEY changed?)');
    this.name = 'TokenDecryptionError';
  }
}

export class TokenCipher {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < MIN_SECRET_LENGTH) throw new SecretKeyMissingError('encrypt channel access tokens');
    this.key = Buffer.from(hkdfSync('sha256', secret, 'openmumble', 'openmumble channel access token v1', 32));
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
    if (format !== FORMAT || !iv || ciphertext === undefined || !tag) throw new TokenDecryptionError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenDecryptionError();
    }
  }
}

/** The cipher for the configured key; a clear error naming the purpose when none is configured. */
export function tokenCipherFor(secret: string | undefined, purpose: string): TokenCipher {
  if (!secret) throw new SecretKeyMissingError(purpose);
  return new TokenCipher(secret);
}
