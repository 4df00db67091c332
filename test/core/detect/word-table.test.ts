import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldKey, lowerCode, WordTable } from '../../../functions/core/detect/word-table.ts';

describe('WordTable', () => {
  it('looks keys up by a range of a text, case-sensitive', () => {
    const t = new WordTable(false);
    t.set('Anna', 1);
    t.set('Ann', 2);
    expect(t.get('Dear Anna,', 5, 9)).toBe(1);
    expect(t.get('Dear Ann,', 5, 8)).toBe(2);
    expect(t.get('Dear anna,', 5, 9)).toBe(-1);
    expect(t.get('Dear Annabel', 5, 9)).toBe(1);
    expect(t.get('Anna')).toBe(1);
    expect(t.get('', 0, 0)).toBe(-1);
  });

  it('folds case (accents too) when asked', () => {
    const t = new WordTable(true);
    t.set('Müller', 3);
    t.or('müller', 4);
    expect(t.get('Herr MÜLLER ruft', 5, 11)).toBe(7);
    expect(t.get('Herr Muller', 5, 11)).toBe(-1);
    expect(t.size).toBe(1);
  });

  it('grows and clears', () => {
    const t = new WordTable(false, 4);
    for (let i = 0; i < 1000; i++) t.set(`w${i}`, i);
    expect(t.size).toBe(1000);
    for (let i = 0; i < 1000; i++) expect(t.get(`x w${i} y`, 2, 3 + String(i).length)).toBe(i);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get('w5')).toBe(-1);
  });

  it('agrees with a Map on random words (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.nat(1000)), { maxLength: 40 }),
        fc.string({ maxLength: 8 }),
        (entries, probe) => {
          const t = new WordTable(false);
          const m = new Map<string, number>();
          for (const [k, v] of entries) {
            t.set(k, v);
            m.set(k, v);
          }
          for (const [k] of entries) expect(t.get(`<${k}>`, 1, 1 + k.length)).toBe(m.get(k));
          expect(t.get(probe)).toBe(m.get(probe) ?? -1);
        },
      ),
    );
  });

  it('lowercases code units like toLowerCase when the length stays', () => {
    expect(String.fromCharCode(lowerCode(0x41))).toBe('a');
    expect(String.fromCharCode(lowerCode(0xc9))).toBe('é');
    expect(String.fromCharCode(lowerCode(0x141))).toBe('ł');
    expect(lowerCode(0x130)).toBe(0x130); // İ lowercases to two code units: kept
    expect(foldKey('ŻÓŁW')).toBe('żółw');
  });
});
