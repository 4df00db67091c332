/**
 * Re-identification: reverses `encrypt` tokens (AES-SIV, reversible.ts) for an authorised caller
 * who states why. The audit record goes to lineage BEFORE any value is returned: when lineage
 * cannot be written, nothing is revealed.
 *
 * Erased subjects stay erased, cryptographically: an encrypt token is sealed under its value's own
 * key in the SubjectKeyVault (reversible.ts), found through the ref the token carries, and erasure
 * shreds the keys of the subject's tokens. A token whose key is gone refuses the whole request
 * (rule `subject-erased`), and no one can decrypt it any more, wherever it was copied. As a second
 * line, every decrypted value is re-tokenised with the keyed HMAC that erasure puts on the
 * suppression list (a subject erased before its key existed, or a key restored from a backup).
 *
 * The audit record holds who, why, when, how many and which entity types, and a sha256 prefix of
 * each token (to match a request with a token later), never a value. The reason is scrubbed of
 * PII spans and of the revealed values before it is stored.
 */

import { createTextScanner } from '../detect/text-scanner.ts';
import { ReidentificationError, UsageError } from '../errors.ts';
import { sha256Hex } from '../pipeline/digest.ts';
import type { LineageRecord, Ports } from '../ports.ts';
import type { EntityType } from '../types.ts';
import { DEFAULT_POLICY, type Policy } from './policy.ts';
import { decryptToken, parseEncryptedToken } from './reversible.ts';
import { deriveEntityKey, pseudonymToken } from './token.ts';

export interface ReidentifyRequest {
  readonly tokens: readonly string[];
  /** Why the values are needed; at least MIN_REASON_LENGTH characters. */
  readonly reason: string;
  /** Who asks (user name, or the IAM principal ARN on AWS). */
  readonly requestedBy: string;
  /** The dataset the tokens come from, for lineage; '*' when not given. */
  readonly dataset?: string;
}

/** One revealed value. */
export interface Reidentified {
  readonly token: string;
  readonly entity: EntityType;
  readonly value: string;
}

export interface ReidentifyOptions {
  /** The policy whose token length the suppression list uses. @default DEFAULT_POLICY */
  readonly policy?: Policy;
}

/** The lineage record of one re-identification. */
export interface ReidentificationRecord extends LineageRecord {
  readonly kind: 'reidentification';
  readonly requestedBy: string;
  readonly reason: string;
  readonly tokenCount: number;
  /** sha256(token) prefixes, in request order. */
  readonly tokenHashes: readonly string[];
  /** Entity types revealed, sorted, distinct. */
  readonly entities: readonly EntityType[];
}

export const MIN_REASON_LENGTH = 10;
export const MAX_REASON_LENGTH = 500;
export const MAX_TOKENS = 1000;
const MAX_TOKEN_LENGTH = 4096;
const DATASET = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const REDACTED = '[REDACTED]';

/** A sha256 prefix of a token, as recorded in lineage. */
export function tokenHash(token: string): string {
  return sha256Hex(token).slice(0, 16);
}

/**
 * Decrypts `encrypt` tokens after checking the request and writing its audit record. Throws
 * ReidentificationError (and reveals nothing) for a missing or short reason, a malformed,
 * altered or foreign token, or a token of an erased subject.
 */
export async function reidentify(ports: Ports, req: ReidentifyRequest, opts: ReidentifyOptions = {}): Promise<Reidentified[]> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
  if (reason.length < MIN_REASON_LENGTH) {
    throw new ReidentificationError(`re-identification needs a reason of at least ${MIN_REASON_LENGTH} characters`, {
      rule: 'reason-required',
    });
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new ReidentificationError(`the reason must be at most ${MAX_REASON_LENGTH} characters`, { rule: 'reason-length' });
  }
  const requestedBy = typeof req.requestedBy === 'string' ? req.requestedBy.trim() : '';
  if (requestedBy === '')
    throw new ReidentificationError('re-identification needs the identity of the requester', { rule: 'requester-required' });
  if (req.dataset !== undefined && !DATASET.test(req.dataset)) throw new UsageError('invalid dataset name', { rule: 'dataset' });
  if (!Array.isArray(req.tokens) || req.tokens.length === 0) throw new UsageError('give at least one token', { rule: 'tokens' });
  if (req.tokens.length > MAX_TOKENS) throw new UsageError(`at most ${MAX_TOKENS} tokens per request`, { rule: 'tokens' });

  const sivKey = await ports.keys.pseudonymKey('token-siv');
  const revealed: Reidentified[] = [];
  for (const [i, raw] of req.tokens.entries()) {
    const token = typeof raw === 'string' ? raw.trim() : '';
    if (token.length > MAX_TOKEN_LENGTH)
      throw new ReidentificationError(`token ${i + 1} is too long`, { rule: 'token-format', token: i + 1 });
    if (!isCanonicalToken(token)) {
      // Base64 ignores the spare bits of the last character: two spellings of one token would
      // decrypt alike but hash apart in the audit trail.
      throw new ReidentificationError(`token ${i + 1} of ${req.tokens.length}: not an encrypt token`, {
        rule: 'token-format',
        token: i + 1,
      });
    }
    const parsed = parseEncryptedToken(token);
    if (!parsed) {
      throw new ReidentificationError(`token ${i + 1} of ${req.tokens.length}: not an encrypt token`, {
        rule: 'token-format',
        token: i + 1,
      });
    }
    // The vault is read, never a cache: a key shredded a moment ago is gone for good.
    const vaultKey = await ports.subjectKeys.get(parsed.ref);
    if (vaultKey === undefined) {
      throw new ReidentificationError(
        `token ${i + 1} of ${req.tokens.length}: the subject's key was destroyed by an erasure (or the token was not issued here)`,
        { rule: 'subject-erased', token: i + 1 },
      );
    }
    try {
      const { entity, value } = decryptToken(token, sivKey.material, vaultKey);
      revealed.push({ token, entity, value });
    } catch (err) {
      // Names the position only: the token itself may be a value pasted by mistake.
      if (err instanceof ReidentificationError) {
        throw new ReidentificationError(`token ${i + 1} of ${req.tokens.length}: ${err.message}`, { ...err.context, token: i + 1 });
      }
      throw err;
    }
  }

  const suppressed = await ports.suppression.all();
  if (suppressed.size > 0) {
    const hmacKey = await ports.keys.pseudonymKey('token-hmac');
    const entityKeys = new Map<EntityType, Uint8Array>();
    for (const [i, r] of revealed.entries()) {
      let key = entityKeys.get(r.entity);
      if (!key) {
        key = deriveEntityKey(hmacKey.material, r.entity);
        entityKeys.set(r.entity, key);
      }
      if (suppressed.has(pseudonymToken(r.entity, r.value, key, policy.tokenLength))) {
        throw new ReidentificationError(`token ${i + 1} of ${req.tokens.length} belongs to an erased data subject`, {
          rule: 'subject-erased',
          token: i + 1,
        });
      }
    }
  }

  const at = ports.clock.now();
  const record: ReidentificationRecord = {
    id: `reid-${at.toISOString().replace(/[-:.]/g, '')}-${Buffer.from(ports.random.bytes(6)).toString('hex')}`,
    kind: 'reidentification',
    dataset: req.dataset ?? '*',
    at: at.toISOString(),
    requestedBy: requestedBy.slice(0, 256),
    reason: scrubReason(reason, revealed),
    tokenCount: revealed.length,
    tokenHashes: revealed.map((r) => tokenHash(r.token)),
    entities: [...new Set(revealed.map((r) => r.entity))].sort(),
  };
  // No audit record, no values: a failed append throws before anything is returned.
  await ports.lineage.append(record);
  ports.logger.info('re-identification', {
    id: record.id,
    dataset: record.dataset,
    tokenCount: record.tokenCount,
    entities: record.entities,
  });
  return revealed;
}

/** True unless the token's base64url body is a non-canonical spelling (set spare bits, padding). */
function isCanonicalToken(token: string): boolean {
  const body = parseEncryptedToken(token)?.body;
  if (body === undefined) return true; // named as a format problem next
  return Buffer.from(body, 'base64url').toString('base64url') === body;
}

let reasonScanner: ReturnType<typeof createTextScanner> | undefined;

/** The reason as stored: the revealed values and any PII span the scanner finds become [REDACTED]. */
function scrubReason(reason: string, revealed: readonly Reidentified[]): string {
  let text = reason;
  for (const r of revealed) if (r.value.length >= 3) text = text.split(r.value).join(REDACTED);
  reasonScanner ??= createTextScanner({ minScore: DEFAULT_POLICY.minSpanScore });
  const spans = reasonScanner.scan(text).sort((a, b) => b.start - a.start);
  for (const s of spans) text = `${text.slice(0, s.start)}${REDACTED}${text.slice(s.end)}`;
  return text;
}
