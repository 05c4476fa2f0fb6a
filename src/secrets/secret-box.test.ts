import { describe, expect, it } from 'vitest';
import { KeyRing, SecretKeyMissingError, TokenCipher, TokenDecryptionError, WEBHOOK_SECRET, isSealed, tokenCipherFor } from './secret-box.js';

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
    expect(() => tokenCipherFor({}, 'store a WhatsApp access token')).toThrow(
      'OPENMUMBLE_SECRET_KEY must be set (at least 32 characters) to store a WhatsApp access token',
    );
  });
});

describe('KeyRing', () => {
  const OLD = 'the-old-key-the-old-key-the-old-key!';
  const NEW = 'the-new-key-the-new-key-the-new-key!';

  it('opens what the previous key sealed during a rotation, and seals with the new key', () => {
    const before = new KeyRing({ OPENMUMBLE_SECRET_KEY: OLD }, WEBHOOK_SECRET, 'x').encrypt('whsec_abc', 'acct');
    const rotating = new KeyRing({ OPENMUMBLE_SECRET_KEY: NEW, OPENMUMBLE_SECRET_KEY_PREVIOUS: OLD }, WEBHOOK_SECRET, 'x');
    expect(rotating.decrypt(before, 'acct')).toBe('whsec_abc');
    const resealed = rotating.reseal(before, 'acct');
    expect(new KeyRing({ OPENMUMBLE_SECRET_KEY: NEW }, WEBHOOK_SECRET, 'x').decrypt(resealed, 'acct')).toBe('whsec_abc');
    expect(() => new KeyRing({ OPENMUMBLE_SECRET_KEY: NEW }, WEBHOOK_SECRET, 'x').decrypt(before, 'acct')).toThrow(TokenDecryptionError);
  });

  it('seals a secret kept in clear, and keeps purposes apart', () => {
    const ring = new KeyRing({ OPENMUMBLE_SECRET_KEY: NEW }, WEBHOOK_SECRET, 'x');
    const sealed = ring.reseal('whsec_plain', 'acct');
    expect(isSealed(sealed)).toBe(true);
    expect(isSealed('whsec_plain')).toBe(false);
    expect(ring.decrypt(sealed, 'acct')).toBe('whsec_plain');
    expect(() => tokenCipherFor({ OPENMUMBLE_SECRET_KEY: NEW }, 'x').decrypt(sealed, 'acct')).toThrow(TokenDecryptionError);
  });
});
