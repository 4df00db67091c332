/**
 * The `encrypt` operator: reversible deterministic tokens that erasure can crypto-shred.
 *
 * Every value has its own 256-bit key in the SubjectKeyVault, filed under the value's `ref`: its
 * ordinary keyed pseudonym, the very string the `token` operator would publish for it with the
 * policy's token length (`EMAIL_3f9a1c2b7d4e5f60`). Erasure computes exactly these tokens for a
 * subject and shreds their vault keys. The AES-SIV key (RFC 5297, @noble/ciphers, 512 bits) is
 * HKDF-SHA-256 over the KMS-held `token-siv` key ‖ the vault key, so neither a stolen vault nor the
 * `token-siv` key alone decrypts anything, and once a vault key is shredded nobody can reverse
 * that value's tokens, the pipeline included. The entity type and the ref are associated data.
 *
 * Deterministic (the vault creates a value's key once, atomically): the same value gives the same
 * token, so it still joins.
 *
 * Token format (v2): `ENC_<PREFIX>_<ref hex>_<base64url(SIV ‖ ciphertext)>`, e.g.
 * `ENC_EMAIL_3f9a1c2b7d4e5f60_q3J…`. The ref is a keyed pseudonym (what a `token` column of the
 * same value shows), so it reveals nothing more, and it lets re-identification find the key.
 * Version 1 tokens (`ENC_<PREFIX>_<base64url>` under one pipeline-wide key) are neither produced
 * nor reversed: they could not be shredded.
 */
import { hkdfSync } from 'node:crypto';
import { aessiv } from '@noble/ciphers/aes.js';
import { ReidentificationError, UsageError } from '../errors.ts';
import type { EntityType } from '../types.ts';
import { TOKEN_PREFIX } from './token.ts';

const ENTITY_BY_PREFIX = new Map<string, EntityType>(Object.entries(TOKEN_PREFIX).map(([e, p]) => [p, e as EntityType]));
const HKDF_SALT = new TextEncoder().encode('privacy-pipeline/siv-subject/v2');
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
/** `ENC_<PREFIX>_<hex>_<base64url>`: hex has no `_`, so the first `_` after it ends the ref. */
const TOKEN = /^ENC_([A-Z]+)_([0-9a-f]{8,64})_([A-Za-z0-9_-]{22,})$/;
const REF = /^([A-Z]+)_([0-9a-f]{8,64})$/;

/** Derived AES-SIV keys, per vault key object (the ingest key cache hands out the same object per ref). */
const derived = new WeakMap<Uint8Array, { siv: Uint8Array; key: Uint8Array }>();

function sivKeyOf(sivKey: Uint8Array, vaultKey: Uint8Array): Uint8Array {
  if (sivKey.length < 16) throw new UsageError('token-siv key must be at least 128 bits', { rule: 'key-length' });
  if (vaultKey.length < 16) throw new UsageError('subject key must be at least 128 bits', { rule: 'key-length' });
  const hit = derived.get(vaultKey);
  if (hit && hit.siv === sivKey) return hit.key;
  const ikm = new Uint8Array(sivKey.length + vaultKey.length);
  ikm.set(sivKey);
  ikm.set(vaultKey, sivKey.length);
  // 64 bytes: AES-SIV with AES-256 (one half for S2V/CMAC, one for CTR).
  const key = new Uint8Array(hkdfSync('sha256', ikm, HKDF_SALT, 'aes-siv-512', 64));
  ikm.fill(0);
  derived.set(vaultKey, { siv: sivKey, key });
  return key;
}

function associatedData(entity: EntityType, ref: string): Uint8Array {
  return encoder.encode(`${entity}\u0000${ref}`);
}

/**
 * A deterministic, authenticated, reversible token of a canonical value. `ref` is the value's
 * pseudonym (`<PREFIX>_<hex>`, the vault entry of `vaultKey`).
 */
export function encryptToken(entity: EntityType, canonical: string, ref: string, sivKey: Uint8Array, vaultKey: Uint8Array): string {
  const m = REF.exec(ref);
  if (!m || m[1] !== TOKEN_PREFIX[entity])
    throw new UsageError('the vault reference does not name a token of this entity type', { rule: 'token-ref' });
  const ct = aessiv(sivKeyOf(sivKey, vaultKey), associatedData(entity, ref)).encrypt(encoder.encode(canonical));
  return `ENC_${m[1]}_${m[2]}_${Buffer.from(ct).toString('base64url')}`;
}

/** True when a string has the shape of an encrypt token. */
export function isEncryptedToken(token: string): boolean {
  return parseEncryptedToken(token) !== undefined;
}

/** The vault reference and entity type an encrypt token carries; undefined when it is not one. */
export function parseEncryptedToken(token: string): { entity: EntityType; ref: string; body: string } | undefined {
  const m = TOKEN.exec(token);
  const entity = m ? ENTITY_BY_PREFIX.get(m[1] as string) : undefined;
  if (!m || !entity) return undefined;
  return { entity, ref: `${m[1]}_${m[2]}`, body: m[3] as string };
}

/**
 * Reverses an encrypt token with the `token-siv` key AND the vault key of its ref: without the
 * vault key (shredded by an erasure) it cannot be reversed. Throws ReidentificationError when the
 * token is malformed, was made under other keys, or was altered; the message never contains the
 * token or its plaintext.
 */
export function decryptToken(token: string, sivKey: Uint8Array, vaultKey: Uint8Array): { entity: EntityType; value: string } {
  const parsed = parseEncryptedToken(token);
  if (!parsed) throw new ReidentificationError('not an encrypt token', { rule: 'token-format' });
  const { entity, ref, body } = parsed;
  let plain: Uint8Array;
  try {
    plain = aessiv(sivKeyOf(sivKey, vaultKey), associatedData(entity, ref)).decrypt(new Uint8Array(Buffer.from(body, 'base64url')));
  } catch {
    throw new ReidentificationError('token failed authentication (altered, or made under other keys)', { rule: 'token-auth' });
  }
  try {
    return { entity, value: decoder.decode(plain) };
  } catch {
    throw new ReidentificationError('token plaintext is not UTF-8', { rule: 'token-format' });
  }
}
