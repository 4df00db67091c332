/**
 * Composition of the AWS adapters into the core's Ports. Environment variables are parsed ONCE
 * into a frozen AwsEnv; SDK clients and the Powertools logger are created once per container
 * and reused by every invocation. Endpoints follow the SDK's own environment variables
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_KMS, …), so the same code
 * runs against any S3- or DynamoDB-compatible endpoint.
 */
import { randomBytes } from 'node:crypto';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UsageError } from '../../core/errors.ts';
import type { Clock, Logger, Ports, RandomSource } from '../../core/ports.ts';
import type { BucketRole } from '../../core/types.ts';
import { DynamoDbBudgetLedger } from './dynamodb-budget-ledger.ts';
import { DynamoDbIdempotencyStore } from './dynamodb-idempotency-store.ts';
import { DynamoDbLineageStore } from './dynamodb-lineage-store.ts';
import { DynamoDbSubjectKeyVault } from './dynamodb-subject-key-vault.ts';
import { DynamoDbSuppressionList } from './dynamodb-suppression-list.ts';
import { KmsKeyService } from './kms-key-service.ts';
import { toCoreLogger } from './powertools-logger.ts';
import { S3ContractStore } from './s3-contract-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** Everything the AWS entry points read from the environment, parsed once. */
export interface AwsEnv {
  readonly buckets: Readonly<Record<BucketRole, string>>;
  readonly tables: { readonly lineage: string; readonly budget: string; readonly control: string; readonly erasure?: string };
  /** Data CMK: SSE-KMS on every object, data keys, small payloads. */
  readonly dataKeyId: string;
  /** Pseudonymisation CMK: wraps the token secrets and the subject keys. */
  readonly tokenKeyId: string;
  readonly logLevel: LogLevel;
  readonly stage: string;
  readonly serviceName: string;
  readonly metricsNamespace: string;
}

/** The environment variables the functions need, by what they hold. */
export const REQUIRED_ENV = [
  'INGEST_BUCKET_NAME',
  'CURATED_BUCKET_NAME',
  'QUARANTINE_BUCKET_NAME',
  'AGGREGATES_BUCKET_NAME',
  'LINEAGE_TABLE_NAME',
  'BUDGET_TABLE_NAME',
  'CONTROL_TABLE_NAME',
  'DATA_KEY_ID',
  'TOKEN_KEY_ID',
] as const;

/** Parses and checks the environment; one error lists every missing or invalid variable. */
export function parseAwsEnv(env: Record<string, string | undefined>): AwsEnv {
  const problems: string[] = [];
  const value = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) {
      problems.push(`${name} is not set`);
      return '';
    }
    return v;
  };
  const required = Object.fromEntries(REQUIRED_ENV.map((name) => [name, value(name)])) as Record<(typeof REQUIRED_ENV)[number], string>;
  const rawLevel = (env.LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  if (!LOG_LEVELS.includes(rawLevel as LogLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  if (problems.length > 0) {
    throw new UsageError(`invalid function environment: ${problems.join('; ')}`, { rule: 'environment' });
  }
  const erasure = env.ERASURE_TABLE_NAME?.trim();
  return Object.freeze({
    buckets: Object.freeze({
      ingest: required.INGEST_BUCKET_NAME,
      curated: required.CURATED_BUCKET_NAME,
      quarantine: required.QUARANTINE_BUCKET_NAME,
      aggregates: required.AGGREGATES_BUCKET_NAME,
    }),
    tables: Object.freeze({
      lineage: required.LINEAGE_TABLE_NAME,
      budget: required.BUDGET_TABLE_NAME,
      control: required.CONTROL_TABLE_NAME,
      ...(erasure ? { erasure } : {}),
    }),
    dataKeyId: required.DATA_KEY_ID,
    tokenKeyId: required.TOKEN_KEY_ID,
    logLevel: rawLevel as LogLevel,
    stage: env.STAGE?.trim() || 'dev',
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || 'privacy-pipeline',
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || 'PrivacyPipeline',
  });
}

export interface AwsClients {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly dynamodb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
}

let containerClients: AwsClients | undefined;

/** The container's SDK clients, created on first use and then shared. */
export function awsClients(): AwsClients {
  if (!containerClients) {
    const dynamodb = new DynamoDBClient({});
    containerClients = {
      s3: new S3Client({}),
      kms: new KMSClient({}),
      dynamodb,
      doc: documentClient(dynamodb),
    };
  }
  return containerClients;
}

/** The document client every DynamoDB adapter uses (undefined attributes are dropped). */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

let containerLogger: { level: LogLevel; logger: PowertoolsLogger } | undefined;

/** The container's Powertools logger. */
export function powertoolsLogger(env: AwsEnv): PowertoolsLogger {
  if (!containerLogger || containerLogger.level !== env.logLevel) {
    containerLogger = {
      level: env.logLevel,
      logger: new PowertoolsLogger({ serviceName: env.serviceName, logLevel: env.logLevel, persistentKeys: { stage: env.stage } }),
    };
  }
  return containerLogger.logger;
}

/** Ports whose object store is the S3 adapter (handlers use its extra `putTags`). */
export type AwsPorts = Ports & { readonly objects: S3ObjectStore };

export interface AwsPortsOverrides {
  readonly clients?: Partial<AwsClients>;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: RandomSource;
}

export const systemClock: Clock = { now: () => new Date() };
export const cryptoRandom: RandomSource = { bytes: (n) => randomBytes(n) };

/** Composes the AWS adapters. Overrides are for tests and local tools. */
export function createAwsPorts(env: AwsEnv, overrides: AwsPortsOverrides = {}): AwsPorts {
  const given = overrides.clients ?? {};
  const base = given.s3 && given.kms && given.doc ? undefined : awsClients();
  const s3 = given.s3 ?? (base as AwsClients).s3;
  const kms = given.kms ?? (base as AwsClients).kms;
  const doc = given.doc ?? (given.dynamodb ? documentClient(given.dynamodb) : (base as AwsClients).doc);
  const clock = overrides.clock ?? systemClock;
  const objects = new S3ObjectStore({ client: s3, buckets: env.buckets, kmsKeyId: env.dataKeyId });
  return {
    objects,
    keys: new KmsKeyService({
      kms,
      dataKeyId: env.dataKeyId,
      tokenKeyId: env.tokenKeyId,
      doc,
      controlTableName: env.tables.control,
      clock,
    }),
    subjectKeys: new DynamoDbSubjectKeyVault({ doc, tableName: env.tables.control, kms, keyId: env.tokenKeyId, clock }),
    lineage: new DynamoDbLineageStore({ doc, tableName: env.tables.lineage }),
    idempotency: new DynamoDbIdempotencyStore({ doc, tableName: env.tables.control, clock }),
    budget: new DynamoDbBudgetLedger({ doc, tableName: env.tables.budget, clock }),
    suppression: new DynamoDbSuppressionList({ doc, tableName: env.tables.control, clock }),
    contracts: new S3ContractStore({ objects, ingestBucketName: env.buckets.ingest }),
    random: overrides.random ?? cryptoRandom,
    clock,
    logger: overrides.logger ?? toCoreLogger(powertoolsLogger(env)),
  };
}
