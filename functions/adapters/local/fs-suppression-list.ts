/**
 * The erasure keep-out list in `<home>/suppression/suppression.jsonl`. Tokens are pseudonyms of
 * erased people, still personal data under GDPR, so each line holds them encrypted by the key
 * service (context `{ purpose: 'suppression-list', requestId }`); the request id and time stay
 * readable for audits. Appends happen under a lock and are fsynced; readers take complete lines.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError, UsageError } from '../../core/errors.ts';
import type { Clock, KeyService, SuppressionList } from '../../core/ports.ts';
import { ensureDir, errorCode, type LockOptions, withFileLock } from './fs-utils.ts';

/** Plaintext bytes per encrypted line (KeyService.encrypt takes at most 4 KiB). */
const CHUNK_BYTES = 3500;
const systemClock: Clock = { now: () => new Date() };

interface SuppressionLine {
  readonly requestId: string;
  readonly at: string;
  readonly count: number;
  /** base64 of KeyService.encrypt(JSON array of tokens). */
  readonly sealed: string;
}

/** File-backed suppression list; tokens encrypted at rest. */
export class FsSuppressionList implements SuppressionList {
  readonly file: string;
  private readonly lockPath: string;

  constructor(
    home: string,
    private readonly keys: KeyService,
    private readonly clock: Clock = systemClock,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.file = path.join(home, 'suppression', 'suppression.jsonl');
    this.lockPath = path.join(home, 'suppression', '.suppression.lock');
  }

  async add(tokens: readonly string[], requestId: string): Promise<void> {
    if (typeof requestId !== 'string' || requestId.length === 0)
      throw new UsageError('requestId must be a non-empty string', { rule: 'request-id' });
    const lines: string[] = [];
    const at = this.clock.now().toISOString();
    for (const chunk of chunkTokens(tokens)) {
      const sealed = await this.keys.encrypt(Buffer.from(JSON.stringify(chunk), 'utf8'), context(requestId));
      const line: SuppressionLine = { requestId, at, count: chunk.length, sealed: Buffer.from(sealed).toString('base64') };
      lines.push(`${JSON.stringify(line)}\n`);
    }
    if (lines.length === 0) return;
    await ensureDir(path.dirname(this.file));
    await withFileLock(
      this.lockPath,
      async () => {
        const fh = await open(this.file, 'a+', 0o600);
        try {
          const size = (await fh.stat()).size;
          if (size > 0) {
            // A writer that died mid-line left a tail without newline: start on a fresh line.
            const last = Buffer.alloc(1);
            await fh.read(last, 0, 1, size - 1);
            if (last[0] !== 0x0a) lines.unshift('\n');
          }
          await fh.writeFile(lines.join(''));
          await fh.sync();
        } finally {
          await fh.close();
        }
      },
      this.lockOptions,
    );
  }

  async all(): Promise<ReadonlySet<string>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return new Set();
      throw err;
    }
    const out = new Set<string>();
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const raw of complete.split('\n')) {
      let line: SuppressionLine;
      try {
        line = JSON.parse(raw) as SuppressionLine;
      } catch {
        continue; // empty line or the torn tail of a writer that died
      }
      const plain = await this.keys.decrypt(Buffer.from(line.sealed, 'base64'), context(line.requestId));
      const tokens = JSON.parse(Buffer.from(plain).toString('utf8')) as unknown;
      if (!Array.isArray(tokens) || tokens.length !== line.count)
        throw new IntegrityError('suppression list line is corrupt', { file: this.file, rule: 'suppression-line' });
      for (const token of tokens) out.add(String(token));
    }
    return out;
  }
}

function context(requestId: string): Record<string, string> {
  return { purpose: 'suppression-list', requestId };
}

function* chunkTokens(tokens: readonly string[]): Iterable<string[]> {
  let chunk: string[] = [];
  let bytes = 2;
  for (const token of tokens) {
    if (typeof token !== 'string' || token.length === 0)
      throw new UsageError('suppression tokens must be non-empty strings', { rule: 'suppression-token' });
    const size = Buffer.byteLength(JSON.stringify(token)) + 1;
    if (size + 2 > CHUNK_BYTES) throw new UsageError('suppression token is too long', { rule: 'suppression-token' });
    if (bytes + size > CHUNK_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 2;
    }
    chunk.push(token);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
