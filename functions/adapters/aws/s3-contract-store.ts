/**
 * ContractStore in the ingest bucket: `_contracts/<dataset>.contract.yaml` (or `.json`). The
 * leading underscore keeps contracts out of ingestion (reserved keys are skipped) and out of
 * the raw-data lifecycle rule (only objects tagged as processed expire).
 */
import { ObjectNotFoundError, UsageError } from '../../core/errors.ts';
import { isValidDatasetName } from '../../core/pipeline/object-keys.ts';
import type { ContractStore, ObjectStore } from '../../core/ports.ts';

export interface S3ContractStoreOptions {
  readonly objects: ObjectStore;
  /** Physical ingest bucket name, for the `source` recorded in lineage. */
  readonly ingestBucketName: string;
}

export const CONTRACTS_PREFIX = '_contracts/';
const EXTENSIONS = ['yaml', 'yml', 'json'] as const;
const MAX_CONTRACT_BYTES = 1024 * 1024;

export class S3ContractStore implements ContractStore {
  constructor(private readonly options: S3ContractStoreOptions) {}

  async get(dataset: string): Promise<{ text: string; source: string } | undefined> {
    checkDataset(dataset);
    for (const ext of EXTENSIONS) {
      const key = `${CONTRACTS_PREFIX}${dataset}.contract.${ext}`;
      let object: Awaited<ReturnType<ObjectStore['get']>>;
      try {
        object = await this.options.objects.get('ingest', key);
      } catch (err) {
        if (err instanceof ObjectNotFoundError) continue;
        throw err;
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of object.body) {
        size += chunk.byteLength;
        if (size > MAX_CONTRACT_BYTES) throw new UsageError(`${key}: a contract is at most 1 MiB`, { file: key, rule: 'contract-size' });
        chunks.push(chunk);
      }
      return { text: Buffer.concat(chunks).toString('utf8'), source: `s3://${this.options.ingestBucketName}/${key}` };
    }
    return undefined;
  }

  async put(dataset: string, text: string): Promise<void> {
    checkDataset(dataset);
    const json = text.trimStart().startsWith('{');
    const ext = json ? 'json' : 'yaml';
    await this.options.objects.put('ingest', `${CONTRACTS_PREFIX}${dataset}.contract.${ext}`, new TextEncoder().encode(text), {
      contentType: json ? 'application/json' : 'application/yaml',
      encryptionContext: { dataset },
    });
    // One contract per dataset: a stale one under another extension would shadow this one.
    for (const other of EXTENSIONS) {
      if (other === ext) continue;
      const key = `${CONTRACTS_PREFIX}${dataset}.contract.${other}`;
      if (await this.options.objects.head('ingest', key)) await this.options.objects.delete('ingest', key);
    }
  }
}

function checkDataset(dataset: string): void {
  if (!isValidDatasetName(dataset))
    throw new UsageError('invalid dataset name (lower case letters, digits, - and _)', { rule: 'dataset-name' });
}
