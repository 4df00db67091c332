import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyStore } from '../../../functions/adapters/aws/dynamodb-idempotency-store.ts';
import { DynamoDbSuppressionList } from '../../../functions/adapters/aws/dynamodb-suppression-list.ts';
import { ConflictError } from '../../../functions/core/errors.ts';
import { createStackTables, type DynamoEmulator, startDynalite, type TableNames } from '../../support/emulators.ts';

/** A clock the test moves by hand. */
function manualClock(start = Date.UTC(2026, 10, 22, 10)) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

describe('DynamoDbIdempotencyStore against dynalite (Powertools semantics)', () => {
  let db: DynamoEmulator;
  let tables: TableNames;

  beforeAll(async () => {
    db = await startDynalite();
    tables = await createStackTables(db.client);
  });
  afterAll(async () => {
    await db.close();
  });

  const store = (clock = manualClock()) =>
    new DynamoDbIdempotencyStore({ doc: db.doc, tableName: tables.CONTROL_TABLE_NAME, clock, completedTtlMs: 3600_000 });

  it('claims once; a second claim sees in-progress until the claim expires, then takes over', async () => {
    const clock = manualClock();
    const s = store(clock);
    expect(await s.claim('k1', 'a', 60_000)).toEqual({ status: 'claimed' });
    expect(await s.claim('k1', 'b', 60_000)).toEqual({ status: 'in-progress', owner: 'a', expiresAt: '2026-11-22T10:01:00.000Z' });
    // The same owner is NOT re-entrant: owners derived from the input may run twice at once.
    expect((await s.claim('k1', 'a', 60_000)).status).toBe('in-progress');
    clock.advance(60_001);
    expect(await s.claim('k1', 'b', 60_000)).toEqual({ status: 'claimed' });
  });

  it('answers with the result once completed, until the completed record expires', async () => {
    const clock = manualClock();
    const s = store(clock);
    await s.claim('k2', 'a', 60_000);
    await s.complete('k2', 'a', { runId: 'run-1', status: 'COMPLETE' });
    expect(await s.claim('k2', 'b', 60_000)).toEqual({ status: 'completed', result: { runId: 'run-1', status: 'COMPLETE' } });
    clock.advance(3600_001);
    expect(await s.claim('k2', 'b', 60_000)).toEqual({ status: 'claimed' });
  });

  it('release lets a retry run at once; a stranger cannot release', async () => {
    const s = store();
    await s.claim('k3', 'a', 60_000);
    await s.release('k3', 'b');
    expect((await s.claim('k3', 'c', 60_000)).status).toBe('in-progress');
    await s.release('k3', 'a');
    expect(await s.claim('k3', 'c', 60_000)).toEqual({ status: 'claimed' });
  });

  it('complete by an owner whose claim was taken over is a ConflictError', async () => {
    const clock = manualClock();
    const s = store(clock);
    await s.claim('k4', 'a', 1000);
    clock.advance(1001);
    await s.claim('k4', 'b', 1000);
    await expect(s.complete('k4', 'a', { runId: 'x' })).rejects.toBeInstanceOf(ConflictError);
    await s.complete('k4', 'b', { runId: 'y' });
    expect(await s.claim('k4', 'c', 1000)).toEqual({ status: 'completed', result: { runId: 'y' } });
  });

  it('of 20 concurrent claims exactly one wins', async () => {
    const s = store();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.claim('k5', `o${i}`, 60_000)));
    expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'in-progress')).toHaveLength(19);
  });
});

describe('DynamoDbSuppressionList against dynalite', () => {
  let db: DynamoEmulator;
  let tables: TableNames;

  beforeAll(async () => {
    db = await startDynalite();
    tables = await createStackTables(db.client);
  });
  afterAll(async () => {
    await db.close();
  });

  it('starts empty, adds in batches (duplicates included) and returns the full set', async () => {
    const list = new DynamoDbSuppressionList({ doc: db.doc, tableName: tables.CONTROL_TABLE_NAME, clock: manualClock() });
    expect((await list.all()).size).toBe(0);
    const tokens = Array.from({ length: 60 }, (_, i) => `tok_${i.toString(16).padStart(8, '0')}`);
    await list.add([...tokens, tokens[0] as string, tokens[1] as string], 'req-1');
    await list.add(['tok_extra'], 'req-2');
    const all = await list.all();
    expect(all.size).toBe(61);
    expect(all.has('tok_0000003b')).toBe(true);
    expect(all.has('tok_extra')).toBe(true);
    expect(all.has('tok_missing')).toBe(false);
  });
});
