import { describe, expect, it } from 'vitest';
import { createTextScanner, MAX_SCAN_LENGTH } from '../../../functions/core/detect/text-scanner.ts';
import { SanitisationError } from '../../../functions/core/errors.ts';
import type { EntityType } from '../../../functions/core/types.ts';

const scanner = createTextScanner({ defaultRegion: 'GB', minScore: 0.5 });
const found = (text: string) => scanner.scan(text).map((s) => [s.entity, text.slice(s.start, s.end)] as [EntityType, string]);

/** [text, entity, exact value expected as a span] */
const positives: [string, EntityType, string][] = [
  ['write to maria.schmidt+orders@mail.example.co.uk today', 'EMAIL_ADDRESS', 'maria.schmidt+orders@mail.example.co.uk'],
  ['unicode local part: jürgen.müller@beispiel.de', 'EMAIL_ADDRESS', 'jürgen.müller@beispiel.de'],
  ['call me on +44 20 7946 0958 tomorrow', 'PHONE_NUMBER', '+44 20 7946 0958'],
  ['Tel. 020 7946 0958', 'PHONE_NUMBER', '020 7946 0958'],
  ['Rückruf unter +49 30 901820 bitte', 'PHONE_NUMBER', '+49 30 901820'],
  ['card 4111 1111 1111 1111 was declined', 'CREDIT_CARD', '4111 1111 1111 1111'],
  ['card 4111-1111-1111-1111 was declined', 'CREDIT_CARD', '4111-1111-1111-1111'],
  ['IBAN GB82 WEST 1234 5698 7654 32 and nothing else', 'IBAN_CODE', 'GB82 WEST 1234 5698 7654 32'],
  ['Konto DE89370400440532013000.', 'IBAN_CODE', 'DE89370400440532013000'],
  ['SSN 536-22-1234 on file', 'US_SSN', '536-22-1234'],
  ['my social security number is 536221234', 'US_SSN', '536221234'],
  ['NI number AB 12 34 56 C', 'UK_NINO', 'AB 12 34 56 C'],
  ['NHS number 943 476 5919', 'UK_NHS', '943 476 5919'],
  ['DNI 12345678Z del cliente', 'ES_NIF', '12345678Z'],
  ['NIE X1234567L', 'ES_NIF', 'X1234567L'],
  ['codice fiscale RSSMRA85T10A562S', 'IT_FISCAL_CODE', 'RSSMRA85T10A562S'],
  ['PESEL 44051401359', 'PL_PESEL', '44051401359'],
  ['Aadhaar 2341 2341 2346', 'IN_AADHAAR', '2341 2341 2346'],
  ['Steuer-ID 86095742719', 'DE_TAX_ID', '86095742719'],
  ['login from 192.168.10.25 blocked', 'IP_ADDRESS', '192.168.10.25'],
  ['ipv6 2001:db8:85a3::8a2e:370:7334 seen', 'IP_ADDRESS', '2001:db8:85a3::8a2e:370:7334'],
  ['device 00:1A:2B:3C:4D:5E registered', 'MAC_ADDRESS', '00:1A:2B:3C:4D:5E'],
  ['profile at https://example.com/u/4411?ref=mail.', 'URL', 'https://example.com/u/4411?ref=mail'],
  ['born on 12.03.1985 in Köln', 'DATE_OF_BIRTH', '12.03.1985'],
  ['Date of birth: 1985-03-12', 'DATE_OF_BIRTH', '1985-03-12'],
  ['née le 3 mars 1985', 'DATE_OF_BIRTH', '3 mars 1985'],
  ['Geburtsdatum 03.04.1972', 'DATE_OF_BIRTH', '03.04.1972'],
  ['zip code 90210', 'POSTCODE', '90210'],
  ['London SW1A 1AA', 'POSTCODE', 'SW1A 1AA'],
  ['key AKIAIOSFODNN7EXAMPLE leaked', 'AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
  ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['token sk_live_4eC39HqLyjWDarjtT1zdp7dc in logs', 'API_TOKEN', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
  ['ghp_abcdefghijklmnopqrstuvwxyz0123456789 pushed', 'API_TOKEN', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
  ['password: Hunter2Summer# for the admin', 'API_TOKEN', 'Hunter2Summer#'],
  [
    'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok',
    'JWT',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  ],
  ['Hauptstraße 5 wohnt er', 'STREET_ADDRESS', 'Hauptstraße 5'],
  ['Le client habite 12 rue de la Paix.', 'STREET_ADDRESS', '12 rue de la Paix'],
  ['Vive en Calle Mayor 3 desde enero', 'STREET_ADDRESS', 'Calle Mayor 3'],
  ['Mieszka przy ul. Długa 5 od roku', 'STREET_ADDRESS', 'ul. Długa 5'],
  ['Abita in Via Roma 12 da sempre', 'STREET_ADDRESS', 'Via Roma 12'],
  ['Mora na Rua Augusta 10 há anos', 'STREET_ADDRESS', 'Rua Augusta 10'],
  ['Woont op Kerkstraat 12 in het centrum', 'STREET_ADDRESS', 'Kerkstraat 12'],
  ['Meet me at 221B Baker Street tonight', 'STREET_ADDRESS', '221B Baker Street'],
  // The street line and each locality segment are separate spans; the separators stay as written.
  ['ship to 10 Downing St, London SW1A 2AA.', 'STREET_ADDRESS', '10 Downing St'],
  ['ship to 10 Downing St, London SW1A 2AA.', 'STREET_ADDRESS', 'London SW1A 2AA'],
  ['Spoke with Maria Schmidt about the refund.', 'PERSON', 'Maria Schmidt'],
  ['Mr Smith called again.', 'PERSON', 'Smith'],
  ['Frau Müller ist zufrieden.', 'PERSON', 'Müller'],
  ['Dear Antti, thanks.', 'PERSON', 'Antti'],
  ['Sr. García llamó ayer.', 'PERSON', 'García'],
  ['Rozmawiałem z Pani Kowalska wczoraj.', 'PERSON', 'Kowalska'],
  ['my name is nina', 'PERSON', 'nina'],
];

/** Look-alikes that must not be flagged (as that entity). */
const negatives: [string, EntityType][] = [
  ['card 4111 1111 1111 1112 was declined', 'CREDIT_CARD'],
  ['IBAN GB82 WEST 1234 5698 7654 33', 'IBAN_CODE'],
  ['order number 10023456 shipped', 'PHONE_NUMBER'],
  ['invoice 020 7946 0958 paid', 'PHONE_NUMBER'],
  ['signup date 2024-01-15, plan basic', 'DATE_OF_BIRTH'],
  ['delivered on 12.03.2024 at noon', 'DATE_OF_BIRTH'],
  ['SSN-like 666-12-3456', 'US_SSN'],
  ['version 1.2.3.4 released', 'IP_ADDRESS'],
  ['meeting at 10:30:00 sharp', 'IP_ADDRESS'],
  ['we sold 12345 units', 'POSTCODE'],
  ['total 1.234,56 EUR', 'PHONE_NUMBER'],
  ['Will you send it? May I ask?', 'PERSON'],
  ['Der Koch hat das Essen gebracht.', 'PERSON'],
  ['Customer asked about the Ergonomic Steel Chair.', 'PERSON'],
  ['Parcel left the London warehouse.', 'PERSON'],
  ['I have 3 cats on the street', 'STREET_ADDRESS'],
];

describe('text scanner', () => {
  it.each(positives)('finds in %j: %s', (text, entity, value) => {
    expect(found(text)).toContainEqual([entity, value]);
  });

  it.each(negatives)('does not flag %j as %s', (text, entity) => {
    expect(found(text).filter(([e]) => e === entity)).toEqual([]);
  });

  it('returns sorted, non-overlapping spans', () => {
    const text = 'Maria Schmidt, maria@example.com, +44 20 7946 0958, 4111 1111 1111 1111, GB82WEST12345698765432';
    const spans = scanner.scan(text);
    expect(spans.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
  });

  it('restricts to the requested entities', () => {
    const only = createTextScanner({ entities: ['EMAIL_ADDRESS'] });
    const spans = only.scan('Maria Schmidt maria@example.com +44 20 7946 0958');
    expect(spans.map((s) => s.entity)).toEqual(['EMAIL_ADDRESS']);
  });

  it('uses the default region for national phone numbers', () => {
    expect(
      createTextScanner({ defaultRegion: 'DE' })
        .scan('Telefon 030 901820 bitte')
        .map((s) => s.entity),
    ).toContain('PHONE_NUMBER');
  });

  it('flags a PEM private key block whole', () => {
    const pem =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----';
    const text = `key:\n${pem}\nend`;
    expect(found(text)).toContainEqual(['PRIVATE_KEY', pem]);
  });

  it('refuses texts above the scan limit (the row transformer fails closed on them)', () => {
    expect(() => scanner.scan('a'.repeat(MAX_SCAN_LENGTH + 1))).toThrow(SanitisationError);
  });

  // Linear-time patterns: adversarial inputs must finish (no timing assertion, the default test
  // timeout is the bound).
  it.each([
    ['letters then !', `${'a'.repeat(50_000)}!`],
    ['digit-space pairs', '1 '.repeat(30_000)],
    ['at signs', '@'.repeat(60_000)],
    ['dots and digits', '1.'.repeat(30_000)],
    ['capitalised words', 'Aa '.repeat(20_000)],
    ['upper case run', 'A'.repeat(60_000)],
    ['hex and colons', 'a:'.repeat(30_000)],
    ['email-like', `${'a.'.repeat(20_000)}@${'b.'.repeat(10_000)}`],
    ['PEM header without end', `-----BEGIN PRIVATE KEY-----${'A'.repeat(60_000)}`],
    ['JWT-like', `eyJ${'a'.repeat(30_000)}.eyJ${'b'.repeat(30_000)}`],
    ['street-like', 'Via Roma '.repeat(7000)],
    ['phone separators', '+1 (2) '.repeat(9000)],
  ])('finishes on adversarial input: %s', (_name, text) => {
    const spans = scanner.scan(text.slice(0, MAX_SCAN_LENGTH));
    expect(Array.isArray(spans)).toBe(true);
  });
});
