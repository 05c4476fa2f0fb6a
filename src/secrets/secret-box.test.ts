import { describe, expect, it } from 'vitest';
import { SecretKeyMissingError, TokenCipher, TokenDecryptionError, tokenCipherFor } from './token-crypto.js';

const SECRET = 'a-passphrase-that-is-long-enough-for-the-rule';

describe('TokenCipher', () => {
  it('round-trips a token and never stores it in clear', () => {
    const cipher = new TokenCipher(SECRET);
    const stored = cipher.encrypt('EAAG-secret-token', 'account-1');
    expect(stored).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(stored).not.toContain('EAAG');
    expect(cipher.decrypt(stored, 'account-1')).toBe('EAAG-secret-token');
  });

  it('uses a fresh IV each time', () => {
    const cipher = new TokenCipher(SECRET);
    expect(cipher.encrypt('same', 'a')).not.toBe(cipher.encrypt('same', 'a'));
  });

  it('refuses another context, another key and tampered text', () => {
    const cipher = new TokenCipher(SECRET);
    const stored = cipher.encrypt('token', 'account-1');
    expect(() => cipher.decrypt(stored, 'account-2')).toThrow(TokenDecryptionError);
    expect(() => new TokenCipher(`${SECRET}-other`).decrypt(stored, 'account-1')).toThrow(TokenDecryptionError);
    const parts = stored.split('.');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'account-1')).toThrow(TokenDecryptionError);
    expect(() => cipher.decrypt('garbage', 'account-1')).toThrow(TokenDecryptionError);
  });

  it('accepts any secret of 32+ characters (hex, base64, passphrase) and names the purpose when missing', () => {
    expect(() => new TokenCipher('f'.repeat(64))).not.toThrow();
    expect(() => new TokenCipher('short')).toThrow(SecretKeyMissingError);
    expect(() => tokenCipherFor(undefined, 'store a WhatsApp access token')).toThrow(
      'OPENMUMBLE_SECRET_KEY must be set (at least 32 characters) to store a WhatsApp access token',
    );
  });
});
