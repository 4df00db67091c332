/**
 * Dataset contracts as plain files in `<home>/contracts/`: `<dataset>.contract.yaml` (also read:
 * `.contract.yml`, `.contract.json`). Contracts hold no personal data, so they stay readable and
 * editable by hand. A dataset name that is not a plain file name is percent-encoded.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../core/errors.ts';
import type { ContractStore } from '../../core/ports.ts';
import { atomicWriteFile, encodeName, errorCode, type LockOptions, removeFile, withFileLock } from './fs-utils.ts';

const EXTENSIONS = ['.contract.yaml', '.contract.yml', '.contract.json'] as const;
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Contracts in the home folder's `contracts/` directory. */
export class FsContractStore implements ContractStore {
  readonly dir: string;

  constructor(
    home: string,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.dir = path.join(home, 'contracts');
  }

  async get(dataset: string): Promise<{ text: string; source: string } | undefined> {
    const base = this.base(dataset);
    for (const ext of EXTENSIONS) {
      const source = `${base}${ext}`;
      try {
        return { text: await readFile(source, 'utf8'), source };
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
    }
    return undefined;
  }

  /** Writes JSON text to `.contract.json`, anything else to `.contract.yaml`, and drops the other variants. */
  async put(dataset: string, text: string): Promise<void> {
    if (typeof text !== 'string') throw new UsageError('contract text must be a string', { dataset, rule: 'contract' });
    const base = this.base(dataset);
    const ext = looksLikeJson(text) ? '.contract.json' : '.contract.yaml';
    await withFileLock(
      `${base}.lock`,
      async () => {
        await atomicWriteFile(`${base}${ext}`, text, { mode: 0o644 });
        for (const other of EXTENSIONS) if (other !== ext) await removeFile(`${base}${other}`);
      },
      this.lockOptions,
    );
  }

  private base(dataset: string): string {
    if (typeof dataset !== 'string' || dataset.length === 0)
      throw new UsageError('dataset name must be a non-empty string', { rule: 'dataset' });
    return path.join(this.dir, PLAIN_NAME.test(dataset) ? dataset : encodeName(dataset));
  }
}

function looksLikeJson(text: string): boolean {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{')) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
