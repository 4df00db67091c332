import {
  DecryptCommand,
  DependencyTimeoutException,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KeyUnavailableException,
  KMSClient,
  KMSInternalException,
} from '@aws-sdk/client-kms';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbSubjectKeyVault } from '../../../functions/adapters/aws/dynamodb-subject-key-vault.ts';
import { KmsKeyService } from '../../../functions/adapters/aws/kms-key-service.ts';
import { KeyError, TransientError, UsageError } from '../../../functions/core/errors.ts';
import {
  createStackTables,
  type DynamoEmulator,
  type FakeKms,
  installFakeKms,
  startDynalite,
  type TableNames,
} from '../../support/emulators.ts';

const clock = { now: () => new Date('2026-11-22T10:00:00Z') };
const DATA_KEY = 'data-key';
const TOKEN_KEY = 'token-key';

function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

describe('KmsKeyService and DynamoDbSubjectKeyVault (fake KMS + dynalite)', () => {
  let db: DynamoEmulator;
  let tables: TableNames;
  let kms: FakeKms;
  const client = new KMSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

  const service = () =>
    new KmsKeyService({
      kms: client,
      dataKeyId: DATA_KEY,
      tokenKeyId: TOKEN_KEY,
      doc: db.doc,
      controlTableName: tables.CONTROL_TABLE_NAME,
      clock,
    });

  beforeAll(async () => {
    db = await startDynalite();
  });
  beforeEach(async () => {
    tables = await createStackTables(db.client);
    kms = installFakeKms([DATA_KEY, TOKEN_KEY]);
  });
  afterEach(() => kms.restore());
  afterAll(async () => {
    await db.close();
  });

  it('generates data keys bound to their encryption context', async () => {
    const keys = service();
    const dk = await keys.generateDataKey({ dataset: 'customers' });
    expect(dk.plaintext).toHaveLength(32);
    expect(dk.ref).toEqual({ keyId: kms.arnOf(DATA_KEY), version: 'material-1', purpose: 'data' });
    expect(await keys.decryptDataKey(dk.wrapped, { dataset: 'customers' })).toEqual(dk.plaintext);
    const wrongContext = await keys.decryptDataKey(dk.wrapped, { dataset: 'orders' }).catch((e: unknown) => e);
    expect(wrongContext).toBeInstanceOf(KeyError);
    expect(String((wrongContext as Error).message)).toBe('KMS Decrypt failed (InvalidCiphertextException)');
    expect(kms.mock).toHaveReceivedCommandWith(GenerateDataKeyCommand, {
      KeyId: DATA_KEY,
      KeySpec: 'AES_256',
      EncryptionContext: { dataset: 'customers' },
    });
  });

  it('encrypts small payloads and refuses ones over 4 KiB', async () => {
    const keys = service();
    const secret = new TextEncoder().encode('a small secret');
    const ct = await keys.encrypt(secret, { purpose: 'test' });
    expect(await keys.decrypt(ct, { purpose: 'test' })).toEqual(secret);
    await expect(keys.encrypt(new Uint8Array(4097), {})).rejects.toBeInstanceOf(UsageError);
  });

  it('creates the pseudonymisation key once, stores it wrapped, and unwraps it once per container', async () => {
    const a = service();
    const k1 = await a.pseudonymKey('token-hmac');
    const k1again = await a.pseudonymKey('token-hmac');
    expect(k1again).toBe(k1);
    expect(k1.material).toHaveLength(32);
    expect(k1.ref).toEqual({ keyId: kms.arnOf(TOKEN_KEY), version: '1', purpose: 'token-hmac' });
    // Another container reads the same stored key: pseudonyms agree across functions.
    const b = service();
    expect((await b.pseudonymKey('token-hmac')).material).toEqual(k1.material);
    // token-siv is a different secret.
    expect((await b.pseudonymKey('token-siv')).material).not.toEqual(k1.material);
    expect(kms.mock.commandCalls(GenerateDataKeyCommand).filter((c) => c.args[0].input.KeyId === TOKEN_KEY)).toHaveLength(2);
    // One Decrypt per container and purpose: a (hmac), b (hmac), b (siv).
    expect(kms.mock.commandCalls(DecryptCommand)).toHaveLength(3);
  });

  it('first writer wins when containers create the key at the same time', async () => {
    const containers = Array.from({ length: 8 }, () => service());
    const keys = await Promise.all(containers.map((c) => c.pseudonymKey('token-hmac')));
    for (const k of keys) expect(k.material).toEqual(keys[0]?.material);
  });

  it('a pseudonymisation key cannot be unwrapped for another purpose', async () => {
    await service().pseudonymKey('token-hmac');
    // Copy the wrapped token-hmac blob into the token-siv slot: the encryption context refuses it.
    const item = (await db.doc.send(new GetCommand({ TableName: tables.CONTROL_TABLE_NAME, Key: { pk: 'KEY#token-hmac', sk: 'KEY' } })))
      .Item;
    await db.doc.send(new PutCommand({ TableName: tables.CONTROL_TABLE_NAME, Item: { ...item, pk: 'KEY#token-siv' } }));
    await expect(service().pseudonymKey('token-siv')).rejects.toBeInstanceOf(KeyError);
  });

  it('describes the data key for lineage (id and version, no material)', async () => {
    expect(await service().describeDataKey()).toEqual({ keyId: kms.arnOf(DATA_KEY), version: 'material-1', purpose: 'data' });
    expect(kms.mock).toHaveReceivedCommandTimes(DescribeKeyCommand, 1);
  });

  it('subject keys: created once, shared, shredded for good', async () => {
    const vault = new DynamoDbSubjectKeyVault({ doc: db.doc, tableName: tables.CONTROL_TABLE_NAME, kms: client, keyId: TOKEN_KEY, clock });
    const other = new DynamoDbSubjectKeyVault({ doc: db.doc, tableName: tables.CONTROL_TABLE_NAME, kms: client, keyId: TOKEN_KEY, clock });
    expect(await vault.get('tok_subject_1')).toBeUndefined();
    const k = await vault.getOrCreate('tok_subject_1');
    expect(k).toHaveLength(32);
    expect(await vault.getOrCreate('tok_subject_1')).toEqual(k);
    expect(await other.get('tok_subject_1')).toEqual(k);
    expect(await other.getOrCreate('tok_subject_2')).not.toEqual(k);
    // The subject reference itself is never stored.
    const all = JSON.stringify((await db.doc.send(new ScanCommand({ TableName: tables.CONTROL_TABLE_NAME }))).Items);
    expect(all).not.toContain('tok_subject_1');
    expect(await other.shred('tok_subject_1')).toBe(true);
    expect(await other.shred('tok_subject_1')).toBe(false);
    expect(await vault.get('tok_subject_1')).toBeUndefined();
    // A new key after a shred is a different key: old reversible tokens stay unreadable.
    expect(await other.getOrCreate('tok_subject_1')).not.toEqual(k);
  });

  it('subject keys: concurrent creation converges on one key', async () => {
    const vaults = Array.from(
      { length: 6 },
      () => new DynamoDbSubjectKeyVault({ doc: db.doc, tableName: tables.CONTROL_TABLE_NAME, kms: client, keyId: TOKEN_KEY, clock }),
    );
    const keys = await Promise.all(vaults.map((v) => v.getOrCreate('tok_race')));
    for (const k of keys) expect(k).toEqual(keys[0]);
  });
});

describe('KmsKeyService error mapping (mocked KMS)', () => {
  const client = new KMSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const mock = mockClient(client);
  const keys = new KmsKeyService({
    kms: client,
    dataKeyId: DATA_KEY,
    tokenKeyId: TOKEN_KEY,
    doc: {} as never,
    controlTableName: 'control',
    clock,
  });

  beforeEach(() => mock.reset());

  it.each([
    ['ThrottlingException', throttling()],
    ['KMSInternalException', new KMSInternalException({ message: 'internal', $metadata: { httpStatusCode: 500 } })],
    ['DependencyTimeoutException', new DependencyTimeoutException({ message: 'timeout', $metadata: { httpStatusCode: 503 } })],
    ['KeyUnavailableException', new KeyUnavailableException({ message: 'unavailable', $metadata: { httpStatusCode: 500 } })],
  ])('maps %s to TransientError and keeps the cause', async (_name, err) => {
    mock.on(GenerateDataKeyCommand).rejects(err);
    const failure = await keys.generateDataKey({ dataset: 'd' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientError);
    expect((failure as Error).cause).toBe(err);
  });

  it('never puts key material or ciphertext into errors', async () => {
    mock.on(DecryptCommand).rejects(throttling());
    const wrapped = new Uint8Array(Buffer.from('CIPHERTEXT-BYTES-MARKER'));
    const failure = (await keys.decryptDataKey(wrapped, { dataset: 'd' }).catch((e: unknown) => e)) as Error;
    expect(`${failure.message} ${JSON.stringify((failure as KeyError).context)}`).not.toContain('MARKER');
  });

  it('a failed first load is retried on the next call (no poisoned cache)', async () => {
    mock.on(EncryptCommand).rejects(throttling());
    mock
      .on(DescribeKeyCommand)
      .rejectsOnce(throttling())
      .resolves({ KeyMetadata: { KeyId: 'k', Arn: 'arn:k', CurrentKeyMaterialId: 'm2' } });
    await expect(keys.describeDataKey()).rejects.toBeInstanceOf(TransientError);
    expect(await keys.describeDataKey()).toEqual({ keyId: 'arn:k', version: 'm2', purpose: 'data' });
  });
});
