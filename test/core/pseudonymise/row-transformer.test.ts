import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SCAN_LENGTH } from '../../../functions/core/detect/text-scanner.ts';
import { SanitisationError } from '../../../functions/core/errors.ts';
import type { SecretKey } from '../../../functions/core/ports.ts';
import { DEFAULT_POLICY } from '../../../functions/core/pseudonymise/policy.ts';
import {
  ADAPTIVE_SKIP,
  ADAPTIVE_WINDOW,
  createRowTransformer,
  type RowTransformer,
} from '../../../functions/core/pseudonymise/row-transformer.ts';
import { identifierTokens } from '../../../functions/core/pseudonymise/token.ts';
import type { Cell, ColumnDecision } from '../../../functions/core/types.ts';

const key = (fill: number, purpose: 'token-hmac' | 'token-siv'): SecretKey => ({
  material: new Uint8Array(32).fill(fill),
  ref: { keyId: 'k', version: '1', purpose },
});
/** Vault keys of `encrypt` values, as the pipeline fetches them before a row (see fetchKeys). */
const vault = new Map<string, Uint8Array>();
const ctx = {
  hmacKey: key(1, 'token-hmac'),
  sivKey: key(2, 'token-siv'),
  policy: DEFAULT_POLICY,
  defaultRegion: 'GB',
  reversibleKey: (ref: string) => vault.get(ref),
};
/** What process-chunk does before transforming: fetch the refs the row needs; returns them. */
function fetchKeys(t: RowTransformer, cells: readonly Cell[]): string[] {
  const refs: string[] = [];
  t.reversibleRefs(cells, refs);
  for (const r of refs) if (!vault.has(r)) vault.set(r, new Uint8Array(randomBytes(32)));
  return refs;
}
const d = (
  column: string,
  entity: ColumnDecision['entity'],
  operator: ColumnDecision['operator'],
  extra: Partial<ColumnDecision> = {},
): ColumnDecision => ({
  column,
  entity,
  operator,
  confidence: 1,
  source: 'contract',
  freeText: false,
  identifiesSubject: false,
  ...extra,
});

const columns = ['id', 'email', 'phone', 'dob', 'secret', 'country', 'note', 'amount'];
const plan: ColumnDecision[] = [
  d('id', 'SUBJECT_ID', 'token', { identifiesSubject: true }),
  d('email', 'EMAIL_ADDRESS', 'token', { identifiesSubject: true }),
  d('phone', 'PHONE_NUMBER', 'encrypt', { identifiesSubject: true }),
  d('dob', 'DATE_OF_BIRTH', 'generalize', { options: { to: 'year' } }),
  d('secret', 'API_TOKEN', 'drop'),
  d('country', 'COUNTRY', 'keep'),
  d('note', 'FREE_TEXT', 'keep', { freeText: true }),
  d('amount', null, 'keep'),
];

describe('row transformer', () => {
  const tr = createRowTransformer(columns, plan, ctx);

  it('drops dropped columns from the output', () => {
    expect(tr.outputColumns).toEqual(['id', 'email', 'phone', 'dob', 'country', 'note', 'amount']);
  });

  it('applies the plan and collects subject tokens', () => {
    const tokens: string[] = [];
    const row = [
      'C-1',
      'Alice@Example.com',
      '020 7946 0958',
      '1985-03-12',
      'sk_live_x',
      'GB',
      'Call Maria Schmidt on +44 20 7946 0958.',
      12.5,
    ];
    expect(tr.reversible).toBe(true);
    fetchKeys(tr, row);
    const out = tr.transform(row, tokens);
    expect(out[0]).toMatch(/^ID_[0-9a-f]{16}$/);
    expect(out[1]).toMatch(/^EMAIL_[0-9a-f]{16}$/);
    expect(out[2]).toMatch(/^ENC_PHONE_/);
    expect(out[3]).toBe('1985');
    expect(out[4]).toBe('GB');
    expect(out[5]).toMatch(/^Call PERSON_[0-9a-f]{16} on PHONE_[0-9a-f]{16}\.$/);
    expect(out[6]).toBe(12.5);
    // id, email, phone (HMAC token although the column is encrypted), plus name and phone from the note.
    expect(tokens).toHaveLength(5);
    expect(tokens).toContain(identifierTokens('alice@example.com', 'email', ctx.hmacKey.material, { tokenLength: 16 })[0]);
    const phoneToken = identifierTokens('+442079460958', 'phone', ctx.hmacKey.material, { tokenLength: 16, region: 'GB' })[0];
    expect(tokens.filter((t) => t === phoneToken)).toHaveLength(2);
  });

  it('keeps nulls and empty cells as they are', () => {
    const out = tr.transform([null, '', null, null, null, null, null, null]);
    expect(out).toEqual([null, '', null, null, null, null, null]);
  });

  it('leaves text outside spans byte-identical', () => {
    const email = 'bob@example.org';
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z ,.;]{0,40}$/), fc.stringMatching(/^[a-z ,.;]{0,40}$/), (before, after) => {
        const note = `${before} ${email} ${after}`;
        const out = String(tr.transform([null, null, null, null, null, null, note, null])[5]);
        const token = out.slice(before.length + 1, out.length - after.length - 1);
        expect(out.startsWith(`${before} `)).toBe(true);
        expect(out.endsWith(` ${after}`)).toBe(true);
        expect(token).toMatch(/^EMAIL_[0-9a-f]{16}$/);
      }),
      { numRuns: 200 },
    );
  });

  it('returns a note without PII unchanged', () => {
    const note = 'Parcel left the warehouse on Monday; refund of 12.50 EUR for order 100234 approved.';
    expect(tr.transform([null, null, null, null, null, null, note, null])[5]).toBe(note);
  });

  it('fails closed with column and rule, never the value', () => {
    const bad = () => tr.transform(['C-1', 'a@b.example', null, 'sometime in spring', null, null, null, null]);
    expect(bad).toThrow(SanitisationError);
    try {
      bad();
    } catch (err) {
      expect((err as SanitisationError).context).toMatchObject({ column: 'dob', rule: 'generalize-date' });
      expect((err as Error).message).not.toContain('spring');
    }
    expect(() => tr.transform([null, null, null, null, null, null, 'x'.repeat(MAX_SCAN_LENGTH + 1), null])).toThrow(
      expect.objectContaining({ context: expect.objectContaining({ column: 'note', rule: 'cell-too-long' }) }),
    );
  });

  it('caches repeated values of expensive operators (phone parsing)', () => {
    const t2 = createRowTransformer(['phone'], [d('phone', 'PHONE_NUMBER', 'token', { identifiesSubject: true })], ctx);
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) t2.transform(['020 7946 0958'], tokens);
    expect(t2.stats().cacheHits).toBe(9);
    expect(t2.stats().cellsTransformed).toBe(10);
    expect(new Set(tokens).size).toBe(1);
  });

  it('caches token columns whose values repeat, and computes distinct ones (ids) without the cache', () => {
    const cols2 = ['id', 'email'];
    const plan2 = [
      d('id', 'SUBJECT_ID', 'token', { identifiesSubject: true }),
      d('email', 'EMAIL_ADDRESS', 'token', { identifiesSubject: true }),
    ];
    const adaptive = createRowTransformer(cols2, plan2, ctx);
    const rows = 3 * ADAPTIVE_WINDOW;
    const expected = (v: string, type: 'subject-id' | 'email') => identifierTokens(v, type, ctx.hmacKey.material, { tokenLength: 16 })[0];
    for (let i = 0; i < rows; i++) {
      const id = `E-${i}`; // never repeats
      const email = `user${i % 50}@example.com`; // 50 customers
      const tokens: string[] = [];
      const out = adaptive.transform([id, email], tokens);
      // Cached or not, the tokens are the ones computed from scratch.
      expect(out).toEqual([expected(id, 'subject-id'), expected(email, 'email')]);
      expect(tokens).toEqual(out);
    }
    const st = adaptive.stats();
    // The email column hit all along; the id column stopped looking after its first window of misses.
    expect(st.cacheHits).toBe(rows - 50);
    expect(st.cacheMisses).toBe(50 + ADAPTIVE_WINDOW);
    expect(st.uncached).toBe(Math.min(ADAPTIVE_SKIP, rows - ADAPTIVE_WINDOW));
  });

  it("takes each row's region from the region column", () => {
    const t3 = createRowTransformer(
      ['phone', 'cc'],
      [d('phone', 'PHONE_NUMBER', 'token', { identifiesSubject: true }), d('cc', 'COUNTRY', 'keep')],
      { ...ctx, regionColumn: 'cc' },
    );
    const de = t3.transform(['030 901820', 'DE'])[0];
    const intl = t3.transform(['+49 30 901820', 'GB'])[0];
    expect(de).toBe(intl);
  });

  it('counts spans per entity', () => {
    const t4 = createRowTransformer(['note'], [d('note', 'FREE_TEXT', 'keep', { freeText: true })], ctx);
    t4.transform(['mail a@b.example or c@d.example']);
    expect(t4.stats().spans.EMAIL_ADDRESS).toBe(2);
  });
});

describe('row transformer: encrypt values need their vault keys first', () => {
  const cols = ['email', 'note', 'tier'];
  const encPlan = [
    d('email', 'EMAIL_ADDRESS', 'encrypt', { identifiesSubject: true }),
    d('note', 'FREE_TEXT', 'keep', { freeText: true }),
    d('tier', null, 'keep'),
  ];
  const ref = (v: string) => identifierTokens(v, 'email', ctx.hmacKey.material, { tokenLength: 16 })[0] as string;

  it('lists the refs of uncached values (the ordinary pseudonyms), then none once cached', () => {
    const t = createRowTransformer(cols, encPlan, ctx);
    const row = ['Dana@Example.com', 'no pii here', 'gold'];
    expect(fetchKeys(t, row)).toEqual([ref('dana@example.com')]);
    const out = t.transform(row);
    expect(out[0]).toMatch(new RegExp(`^ENC_${ref('dana@example.com')}_`));
    // Cached by the transformer: no vault round trip for a repeated value.
    expect(fetchKeys(t, row)).toEqual([]);
    expect(fetchKeys(t, [null, '', 'gold'])).toEqual([]);
  });

  it('fails closed, naming the column and rule, when a key was not fetched', () => {
    const t = createRowTransformer(cols, encPlan, ctx);
    const err = (() => {
      try {
        t.transform(['never.fetched@example.com', null, null]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SanitisationError);
    expect((err as SanitisationError).context).toEqual({ column: 'email', rule: 'subject-key-missing' });
    expect(String((err as Error).message)).not.toContain('never.fetched');
    // Near miss: without encrypt columns or encrypt spans, nothing is ever listed.
    const plain = createRowTransformer(
      cols,
      [d('email', 'EMAIL_ADDRESS', 'token', { identifiesSubject: true }), encPlan[1] as ColumnDecision],
      ctx,
    );
    expect(plain.reversible).toBe(false);
    expect(fetchKeys(plain, ['a@b.example', 'mail c@d.example', null])).toEqual([]);
  });

  it('covers free-text spans when the policy encrypts their entity', () => {
    const policy = { ...DEFAULT_POLICY, entities: { ...DEFAULT_POLICY.entities, EMAIL_ADDRESS: { operator: 'encrypt' as const } } };
    const t = createRowTransformer(['note'], [encPlan[1] as ColumnDecision], { ...ctx, policy });
    expect(t.reversible).toBe(true);
    const row = ['write to erin@example.org or call'];
    expect(fetchKeys(t, row)).toEqual([ref('erin@example.org')]);
    const tokens: string[] = [];
    const [note] = t.transform(row, tokens);
    expect(note).toMatch(new RegExp(`^write to ENC_${ref('erin@example.org')}_[A-Za-z0-9_-]+ or call$`));
    // The subject token is the HMAC token all the same (erasure and suppression find it).
    expect(tokens).toEqual([ref('erin@example.org')]);
  });
});
