import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileContext } from '../../../functions/core/detect/context-words.ts';
import { textFeatures } from '../../../functions/core/detect/recognizer.ts';
import { registerWordList, wordListsIn, wordNear, wordStartsIn } from '../../../functions/core/detect/word-lists.ts';

const WORDS = ['phone*', 'tel', 'tel.', 'date of birth', 'e-mail', 'né', 'Straße', 'ss#'];
const BIT = registerWordList(WORDS);
const OTHER = registerWordList(['order*']);
const re = compileContext(WORDS);

/** A copy of the string, so the lists are rebuilt for it rather than taken from the last pass. */
const fresh = (s: string) => ` ${s}`.slice(1);

describe('word lists', () => {
  it.each([
    ['call my phone', true],
    ['Telephone', false],
    ['telephones', false],
    ['PHONEs', true],
    ['tel 0207', true],
    ['hotel 0207', false],
    ['tel.0207', true],
    ['her Date of Birth was', true],
    ['date of births', false],
    ['E-Mail me', true],
    ['email me', false],
    ['il est né', true],
    ['née', false],
    ['Hauptstraße 5', false],
    ['STRASSE', false],
    ['Berliner Straße 5', true],
    ['ss# 123', true],
    ['', false],
  ])('finds the words of a list as compileContext does: %j', (text, expected) => {
    expect((wordListsIn(fresh(text)) & BIT) !== 0).toBe(expected);
    expect(re.test(text)).toBe(expected);
  });

  it('agrees with compileContext on random texts, whether built alone or by the features pass', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^(?:phone|tel|\.|e|-|mail|né|ss|#| |x|1|date of birth|Straße|ORDER){0,12}$/), (text) => {
        const expected = re.test(text);
        expect((wordListsIn(fresh(text)) & BIT) !== 0).toBe(expected);
        const copy = fresh(text);
        textFeatures(copy);
        expect((wordListsIn(copy) & BIT) !== 0).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('tells the lists apart', () => {
    const text = fresh('order 123 by phone');
    expect(wordListsIn(text) & (BIT | OTHER)).toBe(BIT | OTHER);
    expect(wordListsIn(fresh('ordering')) & OTHER).toBe(OTHER);
    expect(wordListsIn(fresh('reorder')) & OTHER).toBe(0);
  });

  it('finds a word within the window before or after a span, whole words only', () => {
    const text = fresh('call tel 555 1234 now');
    const start = text.indexOf('555');
    const end = start + '555 1234'.length;
    expect(wordNear(text, BIT, start, end, 5, 0)).toBe(true);
    expect(wordNear(text, BIT, start, end, 3, 0)).toBe(false); // "tel" not wholly inside 3 characters
    expect(wordNear(text, BIT, start, end, 0, 10)).toBe(false);
    const radial = fresh('Radial 0207 946');
    // "dial" inside "Radial" is no word of its own.
    expect(wordNear(radial, registerWordList(['dial*']), 7, 15, 40, 0)).toBe(false);
  });

  it('counts a word glued to the start of the span ("v" in "v1.2.3.4")', () => {
    const bit = registerWordList(['v', 'version']);
    const text = fresh('release v1.2.3.4');
    expect(wordNear(text, bit, text.indexOf('1'), text.length, 24, 0)).toBe(true);
  });

  it('finds where list words start', () => {
    const text = fresh('ship to tel now');
    expect(wordStartsIn(text, BIT, 8, 8)).toBe(true);
    expect(wordStartsIn(text, BIT, 9, 20)).toBe(false);
  });
});
