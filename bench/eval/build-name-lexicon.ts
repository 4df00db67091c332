/**
 * Builds functions/core/detect/name-lexicon-data.ts from @faker-js/faker's locale definitions:
 * first names and surnames of every locale written in a cased script, with flags for names that
 * are also common words or place names (those need more evidence before they count as a name).
 * Common words come from faker's word lists and, when installed, the lower-case entries of the
 * Debian word lists wamerican and wngerman; words of the other languages' lists (wfrench, wspanish,
 * witalian, wdutch, wpolish, wportuguese, wbrazilian) get a weaker flag.
 * The evaluation removes a hash-based eighth of these names (holdout.ts) from the lexicon it
 * scans with, to measure recall on names the detector has never seen.
 *
 * Run: npx tsx bench/eval/build-name-lexicon.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allLocales } from '@faker-js/faker';
import { bloomHashes } from '../../functions/core/detect/bloom-hash.ts';

const FIRST = 1;
const LAST = 2;
const COMMON = 4;
const PLACE = 8;
const FOREIGN_WORD = 16;

const PARTICLES = new Set([
  'van',
  'von',
  'de',
  'der',
  'den',
  'du',
  'da',
  'di',
  'del',
  'della',
  'dos',
  'das',
  'le',
  'la',
  'ten',
  'ter',
  'zu',
  'y',
  'bin',
  'al',
  'el',
  'st',
  'mc',
  'mac',
]);

function flat(x: unknown): string[] {
  if (x == null) return [];
  if (typeof x === 'string') return [x];
  if (Array.isArray(x)) return x.flatMap(flat);
  if (typeof x === 'object') return Object.values(x as Record<string, unknown>).flatMap(flat);
  return [];
}

/** Name tokens of a (possibly multi-word or hyphenated) name, lowercased. */
function tokens(name: string): string[] {
  const out = new Set<string>();
  const cleaned = name.normalize('NFC').trim();
  // Keep only names written in a script with letter case: the scanner looks for capitalised words.
  if (!/^\p{Lu}/u.test(cleaned) && !/^(van|von|de|du|da|di|le|la|ten|ter)\s/u.test(cleaned)) return [];
  for (const word of cleaned.split(/\s+/)) {
    const w = word.replace(/[.,]$/u, '');
    if (!/^[\p{L}\p{M}'’-]{2,}$/u.test(w)) continue;
    const lower = w.toLowerCase();
    if (PARTICLES.has(lower)) continue;
    out.add(lower);
    if (lower.includes('-')) for (const part of lower.split('-')) if (part.length >= 2) out.add(part);
  }
  return [...out];
}

const flags = new Map<string, number>();
const add = (token: string, bit: number) => {
  flags.set(token, (flags.get(token) ?? 0) | bit);
};

for (const def of Object.values(allLocales)) {
  const person = (def as { person?: Record<string, unknown> }).person ?? {};
  for (const n of [...flat(person.first_name), ...flat(person.middle_name)]) for (const t of tokens(n)) add(t, FIRST);
  for (const n of flat(person.last_name)) for (const t of tokens(n)) add(t, LAST);
}

// Common words (faker's word lists of the locales that have them) and place names: a name that
// is also one of these needs a second name token or a context cue.
const wordLocales = ['en', 'de', 'fr', 'pt_BR', 'pt_PT', 'da', 'nb_NO'] as const;
for (const loc of wordLocales) {
  const def = allLocales[loc] as { word?: Record<string, unknown> } | undefined;
  for (const w of flat(def?.word)) {
    const lower = w.toLowerCase();
    const f = flags.get(lower);
    if (f !== undefined) flags.set(lower, f | COMMON);
  }
}
// Lower-case entries of system word lists (Debian wamerican, wngerman), when installed: in English
// and German lower case marks a common word (proper nouns are capitalised there). The word
// lists of the other languages mix in lower-cased first names, so they are not used.
for (const file of ['/usr/share/dict/american-english', '/usr/share/dict/ngerman']) {
  if (!existsSync(file)) {
    console.warn(`${file} not found (apt-get install wamerican wngerman): common-word flags will be thinner`);
    continue;
  }
  for (const w of readFileSync(file, 'utf8').split('\n')) {
    if (!w || w !== w.toLowerCase()) continue;
    const f = flags.get(w);
    if (f !== undefined) flags.set(w, f | COMMON);
  }
}
// The word lists of the other languages mix in lower-cased first names, so a hit there only
// marks a word that needs more evidence at the start of a sentence ("Vive en ...").
for (const file of ['french', 'spanish', 'italian', 'dutch', 'polish', 'portuguese', 'brazilian'].map((f) => `/usr/share/dict/${f}`)) {
  if (!existsSync(file)) {
    console.warn(`${file} not found: foreign-word flags will be thinner`);
    continue;
  }
  for (const w of readFileSync(file, 'utf8').split('\n')) {
    if (!w || w !== w.toLowerCase()) continue;
    const f = flags.get(w);
    if (f !== undefined) flags.set(w, f | FOREIGN_WORD);
  }
}
for (const def of Object.values(allLocales)) {
  const loc = (def as { location?: Record<string, unknown> }).location ?? {};
  // Whole one-word place names only: words of longer names (Port Elizabeth, St. James) are not places.
  for (const p of [...flat(loc.country), ...flat(loc.city_name), ...flat(loc.state), ...flat(loc.county)]) {
    const lower = p.trim().toLowerCase();
    if (/\s/.test(lower)) continue;
    const f = flags.get(lower);
    if (f !== undefined) flags.set(lower, f | PLACE);
  }
}

const entries = [...flags.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const body = entries.map(([name, f]) => `${name}${f.toString(32)}`).join('|');
const header = `/**
 * GENERATED by bench/eval/build-name-lexicon.ts from @faker-js/faker ${'10.6.0'} locale data: do not edit.
 * ${entries.length} name tokens, lowercased, each followed by one base-32 digit of flags (1 first
 * name, 2 surname, 4 a common word, 8 a place name, 16 a word in a fr/es/it/nl/pl/pt word list),
 * joined by '|'.
 */
`;
// A gazetteer of places (whole names): countries in every locale's language, states, and the
// real city lists some locales carry. "Czech Republic" or "Los Angeles" is not a person.
const places = new Set<string>();
for (const def of Object.values(allLocales)) {
  const loc = (def as { location?: Record<string, unknown> }).location ?? {};
  for (const p of [...flat(loc.country), ...flat(loc.city_name), ...flat(loc.state), ...flat(loc.county)]) {
    const lower = p.normalize('NFC').trim().toLowerCase();
    if (/^\p{Ll}/u.test(lower) && lower.length >= 3 && !lower.includes('|')) places.add(lower);
  }
}
const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', '..', 'functions', 'core', 'detect', 'name-lexicon-data.ts');
writeFileSync(target, `${header}export const NAME_LEXICON_DATA = ${JSON.stringify(body)};\n`);
console.log(`wrote ${target}: ${entries.length} tokens, ${body.length} chars`);
const placeBody = [...places].sort().join('|');

// Common words as a Bloom filter (1% false positives): the lower-case words of the English word
// list and the capitalised entries (nouns) of the German one, minus names. The person recognizer
// asks it about capitalised words the name lexicon does not know ("Plastic", "Lieferung").
const common = new Set<string>();
const addWords = (file: string, pick: (w: string) => boolean) => {
  if (!existsSync(file)) {
    console.warn(`${file} not found: the common-word filter will be thinner`);
    return;
  }
  for (const w of readFileSync(file, 'utf8').split('\n')) {
    if (w.length < 3 || w.includes("'") || !pick(w)) continue;
    const lower = w.toLowerCase();
    if (!flags.has(lower)) common.add(lower);
  }
};
addWords('/usr/share/dict/american-english', (w) => w === w.toLowerCase());
addWords('/usr/share/dict/ngerman', (w) => /^\p{Lu}\p{Ll}/u.test(w));
const n = common.size;
const m = Math.ceil((-n * Math.log(0.01)) / (Math.LN2 * Math.LN2));
const k = 7;
const bits = new Uint8Array(Math.ceil(m / 8));
for (const w of common) {
  const [h1, h2] = bloomHashes(w);
  for (let i = 0; i < k; i++) {
    const b = (h1 + i * h2) % m;
    bits[b >>> 3]! |= 1 << (b & 7);
  }
}
const commonTarget = join(here, '..', '..', 'functions', 'core', 'detect', 'common-words-data.ts');
writeFileSync(
  commonTarget,
  `/**\n * GENERATED by bench/eval/build-name-lexicon.ts from the Debian word lists wamerican and wngerman: do not edit.\n * A Bloom filter (m bits, k hashes, about 1% false positives) of ${n} common words, lowercased.\n */\nexport const COMMON_WORDS_BLOOM = { m: ${m}, k: ${k}, bits: ${JSON.stringify(Buffer.from(bits).toString('base64'))} } as const;\n`,
);
console.log(`wrote ${commonTarget}: ${n} words, ${bits.length} bytes`);
const placeTarget = join(here, '..', '..', 'functions', 'core', 'detect', 'place-names-data.ts');
writeFileSync(
  placeTarget,
  `/**\n * GENERATED by bench/eval/build-name-lexicon.ts from @faker-js/faker 10.6.0 locale data: do not edit.\n * ${places.size} place names (countries, states, cities), lowercased, joined by '|'.\n */\nexport const PLACE_NAMES_DATA = ${JSON.stringify(placeBody)};\n`,
);
console.log(`wrote ${placeTarget}: ${places.size} places, ${placeBody.length} chars`);
