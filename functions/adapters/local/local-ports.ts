/**
 * Composition of the embedded local mode: every port backed by a home folder.
 *
 * Home folder layout (created on first use, directories 0700):
 *   keyring.json            master key versions + wrapped pseudonym keys (0600)   LocalKeyService
 *   store/<bucket>/...      versioned, envelope-encrypted objects                 FsObjectStore
 *   lineage/lineage.jsonl   append-only lineage records                           FsLineageStore
 *   idempotency/            one claim file per idempotency key                    FsIdempotencyStore
 *   budget/                 one privacy-budget ledger per dataset                 FsBudgetLedger
 *   suppression/            encrypted tokens of erased subjects                   FsSuppressionList
 *   contracts/              <dataset>.contract.yaml|json, plain text              FsContractStore
 *   subject-keys/           wrapped per-subject keys for crypto-shredding         LocalSubjectKeyVault
 * Concurrency: each mutation is a read-check-write under a lock file (fs-utils.withFileLock)
 * or an exclusive create, and every replace is an atomic rename, so several CLI processes can
 * share one home.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Clock, Logger, Ports, RandomSource } from '../../core/ports.ts';
import { FsBudgetLedger } from './fs-budget-ledger.ts';
import { FsContractStore } from './fs-contract-store.ts';
import { FsIdempotencyStore } from './fs-idempotency-store.ts';
import { FsLineageStore } from './fs-lineage-store.ts';
import { FsObjectStore } from './fs-object-store.ts';
import { FsSuppressionList } from './fs-suppression-list.ts';
import { ensureDir } from './fs-utils.ts';
import { JsonLinesLogger, type LogLevel } from './json-lines-logger.ts';
import { LocalKeyService } from './local-key-service.ts';
import { LocalSubjectKeyVault } from './local-subject-key-vault.ts';

/** Default home folder, relative to the working directory. */
export const DEFAULT_HOME = './.privacy-pipeline';

/** Cryptographically strong randomness from node:crypto. */
export const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };

/** Options of createLocalPorts. */
export interface LocalPortsOptions {
  /** @default node:crypto randomBytes */
  readonly random?: RandomSource;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default a JsonLinesLogger on stderr at `logLevel` */
  readonly logger?: Logger;
  /** Threshold of the default logger. @default 'warn' */
  readonly logLevel?: LogLevel | string;
}

/** All ports over the home folder `home` (created if missing). */
export async function createLocalPorts(
  home: string,
  opts: LocalPortsOptions = {},
): Promise<Ports & { keys: LocalKeyService; home: string }> {
  const root = path.resolve(home);
  await ensureDir(root);
  const clock = opts.clock ?? systemClock;
  const keys = new LocalKeyService(root);
  return {
    home: root,
    keys,
    objects: new FsObjectStore(root, keys, { clock }),
    subjectKeys: new LocalSubjectKeyVault(root, keys),
    lineage: new FsLineageStore(root),
    idempotency: new FsIdempotencyStore(root, clock),
    budget: new FsBudgetLedger(root, clock),
    suppression: new FsSuppressionList(root, keys, clock),
    contracts: new FsContractStore(root),
    random: opts.random ?? cryptoRandom,
    clock,
    logger: opts.logger ?? new JsonLinesLogger(opts.logLevel ?? 'warn'),
  };
}

/**
 * The home folder: the explicit flag, else PRIVACY_PIPELINE_HOME, else `./.privacy-pipeline`.
 * Returned as given (possibly relative); callers resolve it against their working directory.
 */
export function resolveHome(explicit?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (explicit !== undefined && explicit.trim() !== '') return explicit;
  const fromEnv = env.PRIVACY_PIPELINE_HOME;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return DEFAULT_HOME;
}
