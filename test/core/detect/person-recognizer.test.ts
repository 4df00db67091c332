import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PersonRecognizer } from '../../../functions/core/detect/person-recognizer.ts';
import { textFeatures } from '../../../functions/core/detect/recognizer.ts';
import type { Span } from '../../../functions/core/types.ts';

const rec = new PersonRecognizer();

/** Names the recognizer reports at the scanner's default threshold. */
function names(text: string, minScore = 0.5): string[] {
  const out: Span[] = [];
  rec.analyze(text, { region: 'GB', features: textFeatures(text), minScore }, out);
  return out.filter((s) => s.score >= minScore).map((s) => text.slice(s.start, s.end));
}

describe('PersonRecognizer', () => {
  it.each([
    ['Spoke with Maria Schmidt about the refund.', ['Maria Schmidt']],
    ['Mr Smith called again.', ['Smith']],
    ['Mr. Smith called again.', ['Smith']],
    ['Frau Müller ist zufrieden.', ['Müller']],
    ['Dear Antti, thanks.', ['Antti']],
    ['Sr. García llamó ayer.', ['García']],
    ['Hablé con la Sra. Pérez ayer.', ['Pérez']],
    ['Tom I. Holzman wrote back.', ['Tom I. Holzman']],
    ['Refund approved for Emma Stone after the second complaint.', ['Emma Stone']],
    ["Jean-Pierre's order is late.", ['Jean-Pierre']],
    ['Ambrosiano Di Domenico called.', ['Ambrosiano Di Domenico']],
    ['my name is nina', ['nina']],
    ['Kónya, Becker and Vasquez joined the call.', ['Kónya', 'Becker', 'Vasquez']],
    // Names no lexicon knows, found from the sentence around them.
    ['Escalated to the supervisor, Zorbina was not happy with the answer.', ['Zorbina']],
    ['An die Teamleitung eskaliert, Zorbina war mit der Antwort nicht zufrieden.', ['Zorbina']],
    ['Przekazano do kierownika, Zorbina nie była zadowolona.', ['Zorbina']],
    ['Direct debit set up, confirmed by Quindalia.', ['Quindalia']],
    ['Lastschrift eingerichtet, von Quindalia bestätigt.', ['Quindalia']],
    ['Incasso ingesteld, bevestigd door Quindalia.', ['Quindalia']],
    ['Dear Domingo Pacocha-Brown, thanks for your patience.', ['Domingo Pacocha-Brown']],
    ['Remember me, Zorbina?', ['Zorbina']],
    ['Ubul: What a wife.\nZorbina: Remember me?', ['Ubul', 'Zorbina']],
    ['I want to add Charlotte Mathiassen as a beneficiary.', ['Charlotte Mathiassen']],
    ['mr. elliott flew to oslo on friday.', ['elliott']],
  ])('finds the names in %j', (text, expected) => {
    expect(names(text)).toEqual(expected);
  });

  it.each([
    'Will you send it? May I ask?',
    'Der Koch hat das Essen gebracht.',
    'Customer asked about the Ergonomic Steel Chair.',
    'Parcel left the London warehouse.',
    'Order 48213 shipped on 2024-03-01, tracking number XK3J9QWE7Z1A.',
    'Send it to maria.schmidt@example.com or https://Example.org/Anna',
    'Victor Hugo 49, Paris',
    'Baker Street is closed.',
    'ACME GmbH confirmed the ORDER.',
    'Hi, my name is nina', // a text that starts with a capital writes names with capitals
    'Le client a demandé des nouvelles du produit Poulet Sans marque en Plastique.',
    'Please send the replacement to 91365 Jeff Valleys, 14142-4722 West Dax before Friday.',
    'Albert\n\nPersonal Info:\nPhone:\n467 3395\n\nE-mail:\nx@example.com',
    'Planetecosystems is the brainchild of our founders.',
    'Bestellung versandt, Sendungsnummer XM3BBXFIPIQH.',
    'Parcel left the Vanceworth warehouse this morning.',
  ])('finds no name in %j', (text) => {
    expect(names(text)).toEqual([]);
  });

  it('reports spans inside the text, never inside another word (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('Anna', 'Smith', 'the', 'Mr', 'x1', '@', '.', ' ', ', ', 'Dear', 'O’Neil', 'ß', 'É'), { maxLength: 30 }),
        (parts) => {
          const text = parts.join(' ');
          const out: Span[] = [];
          rec.analyze(text, { region: 'GB', features: textFeatures(text), minScore: 0 }, out);
          for (const s of out) {
            expect(s.start).toBeGreaterThanOrEqual(0);
            expect(s.end).toBeLessThanOrEqual(text.length);
            expect(s.end).toBeGreaterThan(s.start);
            expect(/[\p{L}\p{N}]/u.test(text[s.start - 1] ?? ' ')).toBe(false);
          }
        },
      ),
    );
  });

  it('stays linear on adversarial input', () => {
    const texts = ['A'.repeat(60_000), 'Ab '.repeat(20_000), `${'a-'.repeat(30_000)}B`, 'Mr '.repeat(20_000), "O'".repeat(30_000)];
    for (const t of texts) expect(() => names(t)).not.toThrow();
  });
});
