/**
 * Protocol emulators for tests, started in-process on 127.0.0.1 with random ports:
 * s3rver (S3), dynalite (DynamoDB), and a fake KMS (aws-sdk-client-mock with real AES-GCM, so
 * wrong encryption contexts and tampered blobs fail the way KMS fails). Tables are created from
 * functions/adapters/aws/table-layout.ts, the same definitions the CDK stack deploys.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import S3rver from 's3rver';
import { documentClient } from '../../functions/adapters/aws/aws-ports.ts';
import { TABLES, type TableDefinition } from '../../functions/adapters/aws/table-layout.ts';

const require = createRequire(import.meta.url);
// dynalite ships no types; its factory returns a plain http.Server.
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const TEST_REGION = 'eu-west-1';

// ---------------------------------------------------------------- S3

export interface S3Emulator {
  readonly endpoint: string;
  readonly client: S3Client;
  /** S3 event notifications s3rver emitted, oldest first. */
  readonly events: S3Event[];
  createBuckets(names: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** An S3 client with the settings s3rver needs (TOOLCHAIN: checksums WHEN_REQUIRED, path style). */
export function s3ClientFor(endpoint: string): S3Client {
  return new S3Client({
    region: TEST_REGION,
    endpoint,
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function startS3rver(buckets: readonly string[] = []): Promise<S3Emulator> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, resetOnClose: true });
  const events: S3Event[] = [];
  (server as unknown as EventEmitter).on('event', (e: S3Event) => events.push(e));
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = s3ClientFor(endpoint);
  const emulator: S3Emulator = {
    endpoint,
    client,
    events,
    async createBuckets(names) {
      for (const Bucket of names) await client.send(new CreateBucketCommand({ Bucket }));
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
  await emulator.createBuckets(buckets);
  return emulator;
}

/** Encodes an object key the way S3 does in event notifications (s3rver sends it raw). */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

// ---------------------------------------------------------------- DynamoDB

export interface DynamoEmulator {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<DynamoEmulator> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ region: TEST_REGION, endpoint, credentials: CREDENTIALS });
  return {
    endpoint,
    client,
    doc: documentClient(client),
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** CreateTable input for one of the stack's tables, from the shared layout. */
export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N' | 'B'>();
  const keys = [
    definition.partitionKey,
    definition.sortKey,
    ...definition.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ];
  for (const k of keys) if (k) attributes.set(k.name, k.type);
  const schema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: schema(definition.partitionKey, definition.sortKey),
    ...(definition.globalSecondaryIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((g) => ({
            IndexName: g.indexName,
            KeySchema: schema(g.partitionKey, g.sortKey),
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

export type TableNames = Readonly<Record<TableDefinition['envVar'], string>>;

/** Creates the stack's four tables with fresh names; returns the names by environment variable. */
export async function createStackTables(client: DynamoDBClient, prefix = `t${randomBytes(3).toString('hex')}`): Promise<TableNames> {
  const names = {} as Record<TableDefinition['envVar'], string>;
  for (const definition of TABLES) {
    const name = `${prefix}-${definition.id}`;
    await client.send(new CreateTableCommand(createTableInput(definition, name)));
    names[definition.envVar] = name;
  }
  return names;
}

// ---------------------------------------------------------------- KMS

export interface FakeKms {
  readonly mock: AwsClientStub<KMSClient>;
  /** ARN of a key id or alias known to the fake. */
  arnOf(keyId: string): string;
  /** Makes the next call of an operation fail with `error` (throttling, outages). */
  failNext(operation: FakeKmsOperation, error: Error): void;
  restore(): void;
}

/**
 * A KMS stand-in behind aws-sdk-client-mock: GenerateDataKey / Encrypt / Decrypt / DescribeKey
 * with AES-256-GCM under one master secret per key id, the encryption context bound as AAD.
 * Fresh Uint8Arrays are returned every time (callers may zero them).
 */
export type FakeKmsOperation = 'GenerateDataKey' | 'Encrypt' | 'Decrypt' | 'DescribeKey';

export function installFakeKms(keyIds: readonly string[]): FakeKms {
  const masters = new Map(keyIds.map((id) => [id, randomBytes(32)]));
  const failures: { operation: FakeKmsOperation; error: Error }[] = [];
  const maybeFail = (operation: FakeKmsOperation) => {
    const i = failures.findIndex((f) => f.operation === operation);
    if (i >= 0) throw failures.splice(i, 1)[0]?.error;
  };
  const arnOf = (keyId: string) => (keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${TEST_REGION}:111111111111:key/${keyId}`);
  const master = (keyId: string | undefined) => {
    const m = keyId ? masters.get(keyId) : undefined;
    if (!m) throw new NotFoundException({ message: 'Key not found', $metadata: { httpStatusCode: 400 } });
    return m;
  };
  const aad = (keyId: string, context: Record<string, string> | undefined) =>
    Buffer.from(JSON.stringify([keyId, Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))]));
  const seal = (keyId: string, plaintext: Uint8Array, context: Record<string, string> | undefined): Uint8Array => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master(keyId), iv);
    cipher.setAAD(aad(keyId, context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(keyId);
    return new Uint8Array(Buffer.concat([Buffer.from([id.length]), id, iv, cipher.getAuthTag(), body]));
  };
  const open = (blob: Uint8Array, expectedKeyId: string | undefined, context: Record<string, string> | undefined) => {
    const buf = Buffer.from(blob);
    const idLength = buf[0] ?? 0;
    const keyId = buf.subarray(1, 1 + idLength).toString();
    if (expectedKeyId && expectedKeyId !== keyId && arnOf(expectedKeyId) !== arnOf(keyId)) {
      throw new IncorrectKeyException({
        message: 'The key ID in the request does not identify the key that encrypted the ciphertext',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const rest = buf.subarray(1 + idLength);
    try {
      const decipher = createDecipheriv('aes-256-gcm', master(keyId), rest.subarray(0, 12));
      decipher.setAAD(aad(keyId, context));
      decipher.setAuthTag(rest.subarray(12, 28));
      return { keyId, plaintext: new Uint8Array(Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()])) };
    } catch {
      throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: { httpStatusCode: 400 } });
    }
  };
  const mock = mockClient(KMSClient);
  mock.on(GenerateDataKeyCommand).callsFake((input: { KeyId?: string; EncryptionContext?: Record<string, string> }) => {
    maybeFail('GenerateDataKey');
    const keyId = input.KeyId ?? '';
    const plaintext = randomBytes(32);
    return {
      KeyId: arnOf(keyId),
      KeyMaterialId: 'material-1',
      Plaintext: new Uint8Array(plaintext),
      CiphertextBlob: seal(keyId, plaintext, input.EncryptionContext),
    };
  });
  mock.on(EncryptCommand).callsFake((input: { KeyId?: string; Plaintext?: Uint8Array; EncryptionContext?: Record<string, string> }) => {
    maybeFail('Encrypt');
    const keyId = input.KeyId ?? '';
    return { KeyId: arnOf(keyId), CiphertextBlob: seal(keyId, input.Plaintext ?? new Uint8Array(), input.EncryptionContext) };
  });
  mock
    .on(DecryptCommand)
    .callsFake((input: { KeyId?: string; CiphertextBlob?: Uint8Array; EncryptionContext?: Record<string, string> }) => {
      maybeFail('Decrypt');
      const { keyId, plaintext } = open(input.CiphertextBlob ?? new Uint8Array(), input.KeyId, input.EncryptionContext);
      return { KeyId: arnOf(keyId), Plaintext: plaintext };
    });
  mock.on(DescribeKeyCommand).callsFake((input: { KeyId?: string }) => {
    maybeFail('DescribeKey');
    master(input.KeyId);
    return { KeyMetadata: { KeyId: input.KeyId, Arn: arnOf(input.KeyId ?? ''), CurrentKeyMaterialId: 'material-1' } };
  });
  return { mock, arnOf, failNext: (operation, error) => failures.push({ operation, error }), restore: () => mock.restore() };
}
