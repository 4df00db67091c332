/**
 * The `encrypt` operator: reversible deterministic tokens. AES-SIV (RFC 5297, @noble/ciphers)
 * under a 512-bit key derived from the KMS-held `token-siv` key, with the entity type as
 * associated data: the same value gives the same token (so it still joins), a token cannot be
 * moved to another entity type, and any change to it fails authentication.
 *
 * Token format: `ENC_<PREFIX>_<base64url(SIV ‖ ciphertext)>`, e.g. `ENC_EMAIL_q3J…`.
 */
import { hkdfSync } from 'node:crypto';
import { aessiv } from '@noble/ciphers/aes.js';
import { ReidentificationError, UsageError } from '../errors.ts';
import type { EntityType } from '../types.ts';
import { TOKEN_PREFIX } from './token.ts';

const ENTITY_BY_PREFIX = new Map<string, EntityType>(Object.entries(TOKEN_PREFIX).map(([e, p]) => [p, e as EntityType]));
const HKDF_SALT = new TextEncoder().encode('privacy-pipeline/siv/v1');
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const sivKeys = new WeakMap<Uint8Array, Uint8Array>();

function sivKeyOf(material: Uint8Array): Uint8Array {
  if (material.length < 16) throw new UsageError('token-siv key must be at least 128 bits', { rule: 'key-length' });
  let k = sivKeys.get(material);
  if (!k) {
    // 64 bytes: AES-SIV with AES-256 (one half for S2V/CMAC, one for CTR).
    k = new Uint8Array(hkdfSync('sha256', material, HKDF_SALT, 'aes-siv-512', 64));
    sivKeys.set(material, k);
  }
  return k;
}

/** A deterministic, authenticated, reversible token of a canonical value. */
export function encryptToken(entity: EntityType, canonical: string, sivKey: Uint8Array): string {
  const ct = aessiv(sivKeyOf(sivKey), encoder.encode(entity)).encrypt(encoder.encode(canonical));
  return `ENC_${TOKEN_PREFIX[entity]}_${Buffer.from(ct).toString('base64url')}`;
}

/** True when a string has the shape of an encrypt token. */
export function isEncryptedToken(token: string): boolean {
  return /^ENC_[A-Z]+_[A-Za-z0-9_-]{22,}$/.test(token);
}

/**
 * Reverses an encrypt token. Throws ReidentificationError when the token is malformed, was made
 * under another key, or was altered; the message never contains the token or its plaintext.
 */
export function decryptToken(token: string, sivKey: Uint8Array): { entity: EntityType; value: string } {
  const m = /^ENC_([A-Z]+)_([A-Za-z0-9_-]+)$/.exec(token);
  const entity = m ? ENTITY_BY_PREFIX.get(m[1] as string) : undefined;
  if (!m || !entity) throw new ReidentificationError('not an encrypt token', { rule: 'token-format' });
  const bytes = new Uint8Array(Buffer.from(m[2] as string, 'base64url'));
  let plain: Uint8Array;
  try {
    plain = aessiv(sivKeyOf(sivKey), encoder.encode(entity)).decrypt(bytes);
  } catch {
    throw new ReidentificationError('token failed authentication (altered, or made under another key)', { rule: 'token-auth' });
  }
  try {
    return { entity, value: decoder.decode(plain) };
  } catch {
    throw new ReidentificationError('token plaintext is not UTF-8', { rule: 'token-format' });
  }
}
