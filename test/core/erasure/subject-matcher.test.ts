import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CuratedTokens,
  createCuratedJudge,
  createErasureScanner,
  createQuarantineRowsJudge,
  createRawJudge,
  ERASED,
  type MatchContext,
  SubjectClosure,
  Tokeniser,
} from '../../../functions/core/erasure/subject-matcher.ts';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import type { SecretKey } from '../../../functions/core/ports.ts';
import { DEFAULT_POLICY } from '../../../functions/core/pseudonymise/policy.ts';
import { encryptToken } from '../../../functions/core/pseudonymise/reversible.ts';
import { createRowTransformer } from '../../../functions/core/pseudonymise/row-transformer.ts';
import { identifierTokens } from '../../../functions/core/pseudonymise/token.ts';
import type { Cell, ColumnDecision, EntityType, OperatorName } from '../../../functions/core/types.ts';

const key = (purpose: 'token-hmac' | 'token-siv'): SecretKey => ({
  material: new Uint8Array(randomBytes(32)),
  ref: { keyId: 'test', version: '1', purpose },
});

function context(): MatchContext {
  const hmacKey = key('token-hmac');
  const sivKey = key('token-siv');
  const tokeniser = new Tokeniser(hmacKey.material, DEFAULT_POLICY.tokenLength);
  return {
    closure: new SubjectClosure(),
    tokeniser,
    curated: new CuratedTokens(tokeniser),
    hmacKey,
    sivKey,
    policy: DEFAULT_POLICY,
    scanner: createErasureScanner(DEFAULT_POLICY, 'GB'),
    learn: true,
  };
}

const decision = (
  column: string,
  entity: EntityType | null,
  operator: OperatorName,
  extra: Partial<ColumnDecision> = {},
): ColumnDecision => ({
  column,
  entity,
  operator,
  confidence: 1,
  source: 'contract',
  freeText: false,
  identifiesSubject: entity !== null && entity !== 'FREE_TEXT',
  ...extra,
});

const CUSTOMERS: ColumnDecision[] = [
  decision('customer_id', 'SUBJECT_ID', 'token'),
  decision('email', 'EMAIL_ADDRESS', 'token'),
  decision('name', 'PERSON', 'token'),
  decision('notes', 'FREE_TEXT', 'keep', { freeText: true, identifiesSubject: false }),
];
const COLUMNS = CUSTOMERS.map((d) => d.column);

const run = (plan: readonly ColumnDecision[]): RunRecord =>
  ({
    id: 'run-1',
    plan,
    contract: { hash: '', source: 'test', inferred: false },
    input: { key: 'd/f.csv', format: 'csv' },
  }) as unknown as RunRecord;

function seed(ctx: MatchContext, email: string): void {
  for (const t of identifierTokens(email, 'email', ctx.hmacKey.material, { tokenLength: DEFAULT_POLICY.tokenLength }))
    ctx.closure.addToken(t, 'row');
  ctx.closure.addLiteral(email, 'strong');
}

describe('SubjectClosure literals', () => {
  const closure = new SubjectClosure();
  closure.addLiteral('CUST-4711', 'strong');
  closure.addLiteral('Jane Doe', 'weak');
  closure.addLiteral('10001', 'strong'); // not distinctive: only weak
  closure.addLiteral('Ann', 'weak'); // too short: ignored

  it.each([
    ['ref CUST-4711.', true],
    ['ref cust-4711', true],
    ['ref CUST-47110', false],
    ['XCUST-4711', false],
    ['CUST-471', false],
  ])('strong value in %j → %s', (text, expected) => {
    expect(closure.containsStrong(text)).toBe(expected);
  });

  it.each([
    ['Spoke with Jane Doe today', 'Spoke with [ERASED] today', 1],
    ['spoke with JANE DOE and Jane Doe', 'spoke with [ERASED] and [ERASED]', 2],
    ['Janet Doe called', 'Janet Doe called', 0],
    ['order 10001 shipped', 'order [ERASED] shipped', 1],
    ['order 100012 shipped', 'order 100012 shipped', 0],
    ['Ann was here', 'Ann was here', 0],
  ])('redacts %j', (text, out, count) => {
    expect(closure.redactLiterals(text)).toEqual({ text: out, count });
  });

  it('only distinctive strong values claim a whole cell', () => {
    expect(closure.isStrongValue(' cust-4711 ')).toBe(true);
    expect(closure.isStrongValue('10001')).toBe(false);
    expect(closure.isStrongValue(10001)).toBe(false);
  });

  it('grows its generation only on new facts and keeps the probe list append-only', () => {
    const c = new SubjectClosure();
    const g0 = c.generation;
    expect(c.addToken('EMAIL_1', 'row')).toBe(true);
    expect(c.addToken('EMAIL_1', 'row')).toBe(false);
    expect(c.addToken('PERSON_1', 'mention')).toBe(true);
    expect(c.generation).toBe(g0 + 2);
    expect(c.probe()).toEqual(['EMAIL_1', 'PERSON_1']);
    expect([...c.rowTokens]).toEqual(['EMAIL_1']);
  });
});

describe('CuratedTokens', () => {
  const ctx = context();
  const t = ctx.tokeniser.token('EMAIL_ADDRESS', 'Jane.Doe@Example.com') as string;
  const hex = t.slice('EMAIL_'.length);
  const vaultKey = new Uint8Array(randomBytes(32));
  const enc = (ref: string, k = vaultKey) => encryptToken('EMAIL_ADDRESS', 'jane.doe@example.com', ref, ctx.sivKey.material, k);

  it.each([
    ['the policy form', t, t],
    ['a column prefix', `CUSTOMER_${hex}`, t],
    ['the email shape', `${t}@example.invalid`, t],
    ['a longer token', `EMAIL_${hex}0123abcd`, t],
    ['a shorter token', `EMAIL_${hex.slice(0, 8)}`, undefined],
    ['clear text', 'jane.doe@example.com', undefined],
    // Reversible tokens are read by the pseudonym they carry: no key needed, before or after shredding.
    ['a reversible token', enc(t), t],
    ['a reversible token under another vault key', enc(t, new Uint8Array(randomBytes(32))), t],
    ['a reversible token with a longer ref', enc(`EMAIL_${hex}0123abcd`), t],
    ['a reversible token with a shorter ref', enc(`EMAIL_${hex.slice(0, 8)}`), undefined],
    ['a malformed reversible token', `ENC_EMAIL_${hex}_tooShort`, undefined],
  ])('reads %s', (_name, cell, expected) => {
    expect(ctx.curated.cellToken(cell, 'EMAIL_ADDRESS')).toBe(expected);
  });

  it('finds plain and reversible tokens inside text, not inside longer words', () => {
    const text = `mail ${t}, again (${enc(t)}) but not X${t} or ${t}00`;
    expect(ctx.curated.find(text).map((f) => f.token)).toEqual([t, t]);
  });
});

describe('raw judge', () => {
  it("drops the subject's rows, follows unique identifiers, and redacts mentions in others' free text", () => {
    const ctx = context();
    seed(ctx, 'jane.doe@example.com');
    const judge = createRawJudge(ctx, run(CUSTOMERS), COLUMNS);
    // Learn from the subject's row: customer_id follows, the name only gets redacted.
    expect(judge.judge(['CUST-4711', 'Jane.Doe@example.com ', 'Jane Doe', 'VIP'])).toEqual({ action: 'drop' });
    const orders = createRawJudge(
      ctx,
      run([
        decision('order_id', null, 'keep', { identifiesSubject: false }),
        decision('customer_id', 'SUBJECT_ID', 'token'),
        decision('note', 'FREE_TEXT', 'keep', { freeText: true, identifiesSubject: false }),
      ]),
      ['order_id', 'customer_id', 'note'],
    );
    expect(orders.judge(['O-1', 'CUST-4711', 'gift wrap'])).toEqual({ action: 'drop' });
    expect(orders.judge(['O-2', 'CUST-9999', 'gift wrap'])).toEqual({ action: 'keep' });
    // A namesake keeps their row.
    expect(judge.judge(['CUST-5000', 'jane.d@other.example', 'Jane Doe', ''])).toEqual({ action: 'keep' });
    // Another customer whose note mentions the subject.
    const v = judge.judge(['CUST-5001', 'bob@example.org', 'Bob Roe', 'Referred by jane.doe@example.com (Jane Doe), account CUST-4711']);
    expect(v.action).toBe('replace');
    if (v.action !== 'replace') return;
    expect(v.cells[3]).toBe(`Referred by ${ERASED} (${ERASED}), account ${ERASED}`);
    expect(v.spans).toBe(3);
    expect(v.cells.slice(0, 3)).toEqual(['CUST-5001', 'bob@example.org', 'Bob Roe']);
  });

  it('does not learn when learning is off (verification)', () => {
    const ctx = context();
    seed(ctx, 'jane.doe@example.com');
    ctx.learn = false;
    const judge = createRawJudge(ctx, run(CUSTOMERS), COLUMNS);
    const before = ctx.closure.generation;
    expect(judge.judge(['CUST-4711', 'jane.doe@example.com', 'Jane Doe', ''])).toEqual({ action: 'drop' });
    expect(ctx.closure.generation).toBe(before);
  });

  it("drops exactly the rows whose email is the subject's, whatever the case and spacing (property)", () => {
    const ctx = context();
    seed(ctx, 'subject@example.com');
    const judge = createRawJudge(ctx, run([decision('email', 'EMAIL_ADDRESS', 'token')]), ['email']);
    ctx.learn = false;
    fc.assert(
      fc.property(fc.emailAddress(), fc.boolean(), fc.boolean(), (other, useSubject, upper) => {
        const base = useSubject ? 'subject@example.com' : other;
        const cell = upper ? ` ${base.toUpperCase()} ` : base;
        const v = judge.judge([cell]);
        expect(v.action === 'drop').toBe(base.toLowerCase() === 'subject@example.com');
      }),
      { numRuns: 300 },
    );
  });

  it("without a plan, tries every cell as the closure's entity types", () => {
    const ctx = context();
    seed(ctx, 'jane.doe@example.com');
    ctx.closure.entities.add('EMAIL_ADDRESS');
    const judge = createRawJudge(ctx, run([]), ['a', 'b']);
    expect(judge.judge(['x', 'JANE.DOE@EXAMPLE.COM'])).toEqual({ action: 'drop' });
    expect(judge.judge(['x', 'mail jane.doe@example.com please'])).toMatchObject({
      action: 'replace',
      cells: ['x', `mail ${ERASED} please`],
    });
    expect(judge.judge(['x', 'bob@example.org'])).toEqual({ action: 'keep' });
  });
});

describe('curated judge', () => {
  it("matches tokens ingest wrote (plain and reversible) and erases the subject's tokens in others' text", () => {
    const ctx = context();
    seed(ctx, 'jane.doe@example.com');
    const plan = [...CUSTOMERS.slice(0, 2), decision('name', 'PERSON', 'encrypt'), CUSTOMERS[3] as ColumnDecision];
    const vaultKey = new Uint8Array(randomBytes(32));
    const t = createRowTransformer(COLUMNS, plan, {
      hmacKey: ctx.hmacKey,
      sivKey: ctx.sivKey,
      policy: DEFAULT_POLICY,
      reversibleKey: () => vaultKey,
    });
    const rows: Cell[][] = [
      ['CUST-4711', 'jane.doe@example.com', 'Jane Doe', 'VIP'],
      ['CUST-5001', 'bob@example.org', 'Bob Roe', 'Referred by jane.doe@example.com'],
      ['CUST-5002', 'jane.d@other.example', 'Jane Doe', 'namesake'],
    ];
    const curated = rows.map((r) => t.transform(r));
    expect(String(curated[0]?.[2])).toMatch(/^ENC_PERSON_/);
    const judge = createCuratedJudge(ctx, run(plan), t.outputColumns);
    expect(judge.judge(curated[0] as Cell[])).toEqual({ action: 'drop' });
    // The subject's customer_id token joined the closure, their name only as a mention.
    const idToken = ctx.tokeniser.token('SUBJECT_ID', 'CUST-4711') as string;
    const nameToken = ctx.tokeniser.token('PERSON', 'Jane Doe') as string;
    expect(ctx.closure.rowTokens.has(idToken)).toBe(true);
    expect(ctx.closure.rowTokens.has(nameToken)).toBe(false);
    expect(ctx.closure.allTokens.has(nameToken)).toBe(true);
    const other = judge.judge(curated[1] as Cell[]);
    expect(other).toMatchObject({ action: 'replace', spans: 1 });
    if (other.action === 'replace') expect(other.cells[3]).toBe(`Referred by ${ERASED}`);
    expect(judge.judge(curated[2] as Cell[])).toEqual({ action: 'keep' });
    // The rebuilt index gets what ingest indexed for kept rows.
    const tokens: string[] = [];
    judge.indexTokens?.(curated[2] as Cell[], tokens);
    const ingest: string[] = [];
    t.transform(rows[2] as Cell[], ingest);
    expect(new Set(tokens)).toEqual(new Set(ingest));
  });
});

describe('quarantine rows judge', () => {
  it('judges _cells rows with the plan and _raw records as text', () => {
    const ctx = context();
    seed(ctx, 'jane.doe@example.com');
    const judge = createQuarantineRowsJudge(ctx, run(CUSTOMERS));
    const line = (cells: Record<string, Cell>) => JSON.stringify({ _row: 3, _rules: ['enum'], _cells: cells });
    expect(judge.judge(line({ customer_id: 'CUST-4711', email: 'jane.doe@example.com', name: 'Jane Doe', notes: '' }))).toEqual({
      action: 'drop',
    });
    expect(
      judge.judge(line({ customer_id: 'C-2', email: 'b@example.org', name: 'Bob', notes: 'x', _extra_1: 'jane.doe@example.com' })),
    ).toEqual({ action: 'drop' });
    const mention = judge.judge(line({ customer_id: 'C-3', email: 'c@example.org', name: 'Cy', notes: 'cc jane.doe@example.com' }));
    expect(mention.action).toBe('replace');
    if (mention.action === 'replace') expect(JSON.parse(mention.line)._cells.notes).toBe(`cc ${ERASED}`);
    expect(judge.judge(JSON.stringify({ _row: 4, _rules: ['field-count'], _raw: 'CUST-4711,jane.doe@example.com,"Jane' }))).toEqual({
      action: 'drop',
    });
    expect(judge.judge(JSON.stringify({ _row: 5, _rules: ['field-count'], _raw: 'C-9,z@example.org' }))).toEqual({ action: 'keep' });
  });
});
