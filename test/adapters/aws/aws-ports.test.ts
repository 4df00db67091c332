import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsPorts, parseAwsEnv, REQUIRED_ENV } from '../../../functions/adapters/aws/aws-ports.ts';
import { S3ContractStore } from '../../../functions/adapters/aws/s3-contract-store.ts';
import { S3ObjectStore } from '../../../functions/adapters/aws/s3-object-store.ts';
import { UsageError } from '../../../functions/core/errors.ts';
import { type S3Emulator, startS3rver } from '../../support/emulators.ts';

const FULL_ENV: Record<string, string> = {
  INGEST_BUCKET_NAME: 'ingest-b',
  CURATED_BUCKET_NAME: 'curated-b',
  QUARANTINE_BUCKET_NAME: 'quarantine-b',
  AGGREGATES_BUCKET_NAME: 'aggregates-b',
  LINEAGE_TABLE_NAME: 'lineage-t',
  BUDGET_TABLE_NAME: 'budget-t',
  CONTROL_TABLE_NAME: 'control-t',
  DATA_KEY_ID: 'arn:aws:kms:eu-west-1:111111111111:key/data',
  TOKEN_KEY_ID: 'arn:aws:kms:eu-west-1:111111111111:key/token',
};

describe('parseAwsEnv', () => {
  it('parses a complete environment into a frozen object with defaults', () => {
    const env = parseAwsEnv(FULL_ENV);
    expect(env).toEqual({
      buckets: { ingest: 'ingest-b', curated: 'curated-b', quarantine: 'quarantine-b', aggregates: 'aggregates-b' },
      tables: { lineage: 'lineage-t', budget: 'budget-t', control: 'control-t' },
      dataKeyId: FULL_ENV.DATA_KEY_ID,
      tokenKeyId: FULL_ENV.TOKEN_KEY_ID,
      logLevel: 'INFO',
      stage: 'dev',
      serviceName: 'privacy-pipeline',
      metricsNamespace: 'PrivacyPipeline',
    });
    expect(Object.isFrozen(env)).toBe(true);
    expect(Object.isFrozen(env.buckets)).toBe(true);
  });

  it('takes the optional settings', () => {
    const env = parseAwsEnv({
      ...FULL_ENV,
      ERASURE_TABLE_NAME: 'erasure-t',
      LOG_LEVEL: 'debug',
      STAGE: 'prod',
      POWERTOOLS_SERVICE_NAME: 'pp',
    });
    expect(env.tables.erasure).toBe('erasure-t');
    expect(env.logLevel).toBe('DEBUG');
    expect(env.stage).toBe('prod');
    expect(env.serviceName).toBe('pp');
  });

  it('reports every missing variable in one error', () => {
    const err = (() => {
      try {
        parseAwsEnv({ CURATED_BUCKET_NAME: 'c', DATA_KEY_ID: '  ', LOG_LEVEL: 'LOUD' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    for (const name of REQUIRED_ENV.filter((n) => n !== 'CURATED_BUCKET_NAME')) expect(message).toContain(`${name} is not set`);
    expect(message).not.toContain('CURATED_BUCKET_NAME');
    expect(message).toContain('LOG_LEVEL must be one of');
  });

  it.each(REQUIRED_ENV.map((n) => [n]))('near miss: only %s missing', (name) => {
    const env = { ...FULL_ENV };
    delete env[name];
    expect(() => parseAwsEnv(env)).toThrow(new RegExp(`^invalid function environment: ${name} is not set$`));
  });
});

describe('createAwsPorts and S3ContractStore (s3rver)', () => {
  let s3: S3Emulator;

  beforeAll(async () => {
    s3 = await startS3rver(['ingest-b', 'curated-b', 'quarantine-b', 'aggregates-b']);
  });
  afterAll(async () => {
    await s3.close();
  });

  it('composes every port over the given clients', () => {
    const ports = createAwsPorts(parseAwsEnv(FULL_ENV), { clients: { s3: s3.client, kms: {} as never, doc: {} as never } });
    expect(ports.objects).toBeInstanceOf(S3ObjectStore);
    expect(ports.contracts).toBeInstanceOf(S3ContractStore);
    expect(ports.random.bytes(16)).toHaveLength(16);
    expect(ports.clock.now()).toBeInstanceOf(Date);
  });

  it('keeps contracts under _contracts/ in the ingest bucket; one per dataset', async () => {
    const objects = new S3ObjectStore({ client: s3.client, buckets: parseAwsEnv(FULL_ENV).buckets });
    const contracts = new S3ContractStore({ objects, ingestBucketName: 'ingest-b' });
    expect(await contracts.get('customers')).toBeUndefined();
    await contracts.put('customers', 'dataset: customers\ncolumns: []\n');
    expect(await contracts.get('customers')).toEqual({
      text: 'dataset: customers\ncolumns: []\n',
      source: 's3://ingest-b/_contracts/customers.contract.yaml',
    });
    await contracts.put('customers', '{"dataset":"customers","columns":[]}');
    expect(await contracts.get('customers')).toEqual({
      text: '{"dataset":"customers","columns":[]}',
      source: 's3://ingest-b/_contracts/customers.contract.json',
    });
    expect(await objects.head('ingest', '_contracts/customers.contract.yaml')).toBeUndefined();
  });

  it.each([['../etc'], ['Customers'], ['a/b'], ['']])('refuses the dataset name %j', async (name) => {
    const objects = new S3ObjectStore({ client: s3.client, buckets: parseAwsEnv(FULL_ENV).buckets });
    await expect(new S3ContractStore({ objects, ingestBucketName: 'ingest-b' }).get(name)).rejects.toBeInstanceOf(UsageError);
  });
});
