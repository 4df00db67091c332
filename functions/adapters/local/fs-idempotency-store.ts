/**
 * Idempotency claims in `<home>/idempotency/<sha256(key)>.json`, with Powertools semantics:
 * the first caller claims; while the claim is in progress and not expired others get
 * `in-progress`; an expired claim is taken over; a completed claim answers with its result.
 * Every transition is a read-check-write under the record's lock, so it is atomic across
 * processes. The same owner claiming again (a retried invocation) renews its own claim. An
 * in-progress claim whose holder was a process of this host that has died (a killed CLI run) is
 * taken over at once rather than after its expiry, so re-running a crashed command just works.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ConflictError, UsageError } from '../../core/errors.ts';
import type { ClaimResult, Clock, IdempotencyStore } from '../../core/ports.ts';
import {
  atomicWriteFile,
  isDeadLocalProcess,
  type LockOptions,
  processIdentity,
  readFileIfExists,
  removeFile,
  withFileLock,
} from './fs-utils.ts';

type ClaimRecord =
  | {
      readonly key: string;
      readonly status: 'in-progress';
      readonly owner: string;
      readonly expiresAt: string;
      /** The claiming process, for takeover when it died. */
      readonly pid?: number;
      readonly host?: string;
    }
  | {
      readonly key: string;
      readonly status: 'completed';
      readonly owner: string;
      readonly completedAt: string;
      readonly result: Readonly<Record<string, unknown>>;
    };

const systemClock: Clock = { now: () => new Date() };

/** File-backed idempotency store; atomic across processes. */
export class FsIdempotencyStore implements IdempotencyStore {
  readonly dir: string;

  constructor(
    home: string,
    private readonly clock: Clock = systemClock,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.dir = path.join(home, 'idempotency');
  }

  async claim(key: string, owner: string, ttlMs: number): Promise<ClaimResult> {
    checkArgs(key, owner);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new UsageError('claim ttl must be a positive number of milliseconds', { rule: 'claim-ttl' });
    return this.locked(key, async (file, current) => {
      const now = this.clock.now();
      if (current?.status === 'completed') return { status: 'completed', result: current.result };
      if (
        current?.status === 'in-progress' &&
        current.owner !== owner &&
        Date.parse(current.expiresAt) > now.getTime() &&
        !isDeadLocalProcess(current.pid, current.host)
      ) {
        return { status: 'in-progress', owner: current.owner, expiresAt: current.expiresAt };
      }
      const record: ClaimRecord = {
        key,
        status: 'in-progress',
        owner,
        expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
        ...processIdentity(),
      };
      await atomicWriteFile(file, JSON.stringify(record));
      return { status: 'claimed' };
    });
  }

  async complete(key: string, owner: string, result: Readonly<Record<string, unknown>>): Promise<void> {
    checkArgs(key, owner);
    const text = JSON.stringify(result);
    if (text === undefined || typeof result !== 'object' || result === null)
      throw new UsageError('claim result must be a JSON object', { rule: 'claim-result' });
    await this.locked(key, async (file, current) => {
      if (current?.status === 'completed' && current.owner === owner) return; // repeated complete
      if (current?.status !== 'in-progress' || current.owner !== owner) {
        // Our claim expired and someone else took it over (or it was never ours).
        throw new ConflictError('idempotency claim is not held by this owner', { rule: 'claim-owner' });
      }
      const record: ClaimRecord = {
        key,
        status: 'completed',
        owner,
        completedAt: this.clock.now().toISOString(),
        result: JSON.parse(text) as Record<string, unknown>,
      };
      await atomicWriteFile(file, JSON.stringify(record));
    });
  }

  async release(key: string, owner: string): Promise<void> {
    checkArgs(key, owner);
    await this.locked(key, async (file, current) => {
      if (current?.status === 'in-progress' && current.owner === owner) await removeFile(file);
    });
  }

  private async locked<T>(key: string, fn: (file: string, current: ClaimRecord | undefined) => Promise<T>): Promise<T> {
    const name = createHash('sha256').update(key, 'utf8').digest('hex');
    const file = path.join(this.dir, `${name}.json`);
    return withFileLock(
      path.join(this.dir, `${name}.lock`),
      async () => {
        const text = await readFileIfExists(file);
        const current = text === undefined ? undefined : (JSON.parse(text.toString('utf8')) as ClaimRecord);
        if (current !== undefined && current.key !== key)
          throw new ConflictError('idempotency record belongs to another key', { rule: 'claim-key' });
        return fn(file, current);
      },
      this.lockOptions,
    );
  }
}

function checkArgs(key: string, owner: string): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new UsageError('idempotency key must be a non-empty string', { rule: 'claim-key' });
  if (typeof owner !== 'string' || owner.length === 0)
    throw new UsageError('claim owner must be a non-empty string', { rule: 'claim-owner' });
}
