/**
 * STREET_ADDRESS: street lines of many countries, then the unit and locality lines that follow.
 *
 * - number first, street type last (EN): "221B Baker Street", "10 Downing St"
 * - number first, street type first (FR): "12 rue de la Paix"
 * - street type first, number last (ES, IT, PT, PL, RO): "Calle Mayor 3", "Via Roma 12", "Rua Augusta, 10", "ul. Długa 5"
 * - compound street names, number last (DE, NL, Nordic, Baltic, Finnish): "Hauptstraße 5", "Kerkstraat 12", "Storgatan 3"
 * - post boxes and US military addresses
 * - weak shapes ("Kuuse 53", "6750 Koskikatu 25") that need an address context word or a unit / locality line
 *
 * After a street line, a unit ("Apt. 4", "Suite 300", "2º B") and locality segments ("10115 Berlin",
 * "Springfield, IL 62704", "SW1A 1AA", a country) are taken into the span when they follow on the
 * same line after a comma or on the next lines: the whole address is one span.
 */
import type { Span } from '../types.ts';
import { CONTEXT_WORDS } from './context-words.ts';
import { STOP_WORDS } from './name-lexicon.ts';
import { DIGIT_RUN_END, DIGIT_RUN_START, digitRuns, F_DIGIT, F_LETTER, type Recognizer, type ScanEnv, sharedList } from './recognizer.ts';
import { lowerWord, registerWordList, wordListsIn, wordNear, wordStartsIn } from './word-lists.ts';

// Local aliases of imported functions: an imported binding is reloaded (and hole-checked) on every use.
const lowerWord_ = lowerWord;
const wordStartsIn_ = wordStartsIn;
const wordListsIn_ = wordListsIn;
const wordNear_ = wordNear;
const digitRuns_ = digitRuns;
const RUN_START = DIGIT_RUN_START;
const RUN_END = DIGIT_RUN_END;

/** Makes the first letter of each alternative match either case ("rue" and "Rue"). */
function anyCaseFirst(list: readonly string[]): string {
  return list
    .map((w) => {
      const esc = w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const c = w[0] as string;
      return c.toLowerCase() !== c.toUpperCase() ? `[${c.toUpperCase()}${c.toLowerCase()}]${esc.slice(1)}` : esc;
    })
    .sort((a, b) => b.length - a.length)
    .join('|');
}

// Street types written after the name (English, USPS abbreviations included).
const EN_SUFFIXES = [
  'Street',
  'St',
  'Avenue',
  'Ave',
  'Av',
  'Road',
  'Rd',
  'Lane',
  'Ln',
  'Drive',
  'Dr',
  'Boulevard',
  'Blvd',
  'Court',
  'Ct',
  'Place',
  'Pl',
  'Square',
  'Sq',
  'Terrace',
  'Ter',
  'Way',
  'Close',
  'Crescent',
  'Cres',
  'Grove',
  'Gardens',
  'Gdns',
  'Parade',
  'Highway',
  'Hwy',
  'Parkway',
  'Pkwy',
  'Circle',
  'Cir',
  'Trail',
  'Trl',
  'Row',
  'Mews',
  'Walk',
  'Hill',
  'Alley',
  'Plaza',
  'Loop',
  'Path',
  'Pike',
  'Str',
  'Causeway',
  'Bypass',
  'Expressway',
  'Freeway',
  'Turnpike',
  'Esplanade',
  'Embankment',
  'Green',
  'Rise',
  'View',
  'Vale',
  'Park',
  'Point',
  'Heights',
  'Meadows',
  'Ridge',
  'Hollow',
  'Crossing',
  'Junction',
  'Landing',
  'Harbor',
  'Harbour',
  'Wharf',
  'Quay',
  'Centre',
  'Center',
  'Estate',
  'Fields',
  'Passage',
  'Run',
  'Spur',
  'Strand',
  'Wynd',
  'Brae',
  'Knoll',
  'Coves',
  'Cove',
  'Radial',
  'Stravenue',
  'Manor',
  'Manors',
  'Mall',
  'Village',
  'Villages',
  'Station',
  'Summit',
  'Track',
  'Ville',
  'Vista',
  'Well',
  'Wells',
  'Glen',
  'Gateway',
  'Forge',
  'Forges',
  'Ford',
  'Fords',
  'Falls',
  'Extension',
  'Creek',
  'Course',
  'Corner',
  'Corners',
  'Club',
  'Cliff',
  'Cliffs',
  'Bridge',
  'Branch',
  'Brook',
  'Brooks',
  'Burg',
  'Camp',
  'Canyon',
  'Cape',
  'Dale',
  'Dam',
  'Divide',
  'Estates',
  'Flat',
  'Flats',
  'Garden',
  'Haven',
  'Inlet',
  'Island',
  'Isle',
  'Key',
  'Knolls',
  'Lake',
  'Lakes',
  'Light',
  'Lights',
  'Lock',
  'Lodge',
  'Mill',
  'Mills',
  'Mission',
  'Motorway',
  'Mount',
  'Mountain',
  'Neck',
  'Orchard',
  'Oval',
  'Overpass',
  'Pass',
  'Pine',
  'Pines',
  'Plain',
  'Plains',
  'Port',
  'Prairie',
  'Ramp',
  'Ranch',
  'Rapid',
  'Rest',
  'River',
  'Roads',
  'Route',
  'Shoal',
  'Shore',
  'Shores',
  'Skyway',
  'Spring',
  'Springs',
  'Squares',
  'Stream',
  'Streets',
  'Throughway',
  'Trace',
  'Trafficway',
  'Tunnel',
  'Underpass',
  'Union',
  'Valley',
  'Via',
  'Viaduct',
  'Views',
  'Locks',
  'Ports',
  'Curve',
  'Parks',
  'Islands',
  'Parkways',
  'Keys',
  'Glade',
  'Mead',
  'Yard',
  'Meadow',
  'Chase',
  'Approach',
  'Grange',
  'Croft',
  'Gate',
  'Fold',
  'Lea',
  'Leys',
  'Nook',
  'Paddock',
  'Pastures',
  'Wood',
  'Woods',
  'Hills',
  'Greens',
  'Forks',
  'Terr',
  'Drive',
  'Common',
  'Side',
];
// Street types written before the name (FR, ES, IT, PT, PL, RO, CA, and "Avenue"/"Boulevard" in FR use).
const PREFIXES = [
  'Rue',
  'Avenue',
  'Av.',
  'Boulevard',
  'Bd',
  'Bd.',
  'Bld',
  'Place',
  'Chemin',
  'Allée',
  'Impasse',
  'Quai',
  'Route',
  'Cours',
  'Passage',
  'Voie',
  'Square',
  'Calle',
  'C/',
  'Avenida',
  'Avda.',
  'Avda',
  'Paseo',
  'Pº',
  'Plaza',
  'Pza.',
  'Carrer',
  'Camino',
  'Ronda',
  'Travesía',
  'Carretera',
  'Ctra.',
  'Glorieta',
  'Callejón',
  'Rambla',
  'Calleja',
  'Subida',
  'Bajada',
  'Salida',
  'Riera',
  'Quinta',
  'Manzana',
  'Colonia',
  'Bloque',
  'Grupo',
  'Urbanización',
  'Urb.',
  'Polígono',
  'Barrio',
  'Jardines',
  'Cuesta',
  'Vía',
  'Pasaje',
  'Partida',
  'Lugar',
  'Camiño',
  'Rotonda',
  'Incrocio',
  'Vico',
  'Traversa',
  'Marginal',
  'Servidão',
  'Vila',
  'Parque',
  'Rodovia',
  'Via',
  'Viale',
  'V.le',
  'Piazza',
  'P.za',
  'Piazzale',
  'Corso',
  'Largo',
  'Vicolo',
  'Strada',
  'Contrada',
  'Borgo',
  'Lungomare',
  'Salita',
  'Rua',
  'R.',
  'Travessa',
  'Tv.',
  'Praça',
  'Pç.',
  'Estrada',
  'Alameda',
  'Rodovia',
  'Calçada',
  'Ladeira',
  'Beco',
  'Rúa',
  'ul.',
  'ulica',
  'al.',
  'aleja',
  'pl.',
  'plac',
  'os.',
  'osiedle',
  'rondo',
  'rynek',
  'skwer',
  'szosa',
  'Strada',
  'Str.',
  'Calea',
  'Bulevardul',
  'Bdul',
  'Aleea',
  'Splaiul',
  'Piața',
  'Șoseaua',
];
// Street types fused to the end of the name (DE, AT, CH, NL, BE, Nordic, Finnish, Baltic, HU, CZ).
const COMPOUND_SUFFIXES = [
  'straße',
  'strasse',
  'str.',
  'weg',
  'gasse',
  'platz',
  'allee',
  'ring',
  'damm',
  'ufer',
  'chaussee',
  'steig',
  'pfad',
  'stieg',
  'markt',
  'graben',
  'wall',
  'zeile',
  'kamp',
  'hof',
  'berg',
  'tor',
  'brücke',
  'garten',
  'park',
  'straat',
  'laan',
  'plein',
  'gracht',
  'kade',
  'singel',
  'dijk',
  'pad',
  'steeg',
  'dreef',
  'hoven',
  'hove',
  'plantsoen',
  'wal',
  'baan',
  'gatan',
  'gata',
  'vägen',
  'väg',
  'gränd',
  'gränden',
  'torget',
  'stigen',
  'backen',
  'allén',
  'gärdet',
  'leden',
  'gade',
  'vej',
  'vænget',
  'stræde',
  'plads',
  'allé',
  'veien',
  'vegen',
  'gate',
  'gaten',
  'stien',
  'bakken',
  'tunet',
  'svingen',
  'terrasse',
  'katu',
  'tie',
  'kuja',
  'polku',
  'kaari',
  'tori',
  'rinne',
  'ranta',
  'väylä',
  'linja',
  'raitti',
  'penger',
  'aukio',
  'tänav',
  'maantee',
  'puiestee',
  'iela',
  'gatve',
  'utca',
  'út',
  'körút',
  'ulice',
  'náměstí',
  'cesta',
  'braut',
  'vegur',
  'stígur',
  'götu',
];
// German separate street words ("Berliner Straße"), Hungarian ones ("Király u. 15.", "Petőfi utca 3").
const SEPARATE_SUFFIXES = [
  'Straße',
  'Strasse',
  'Str.',
  'Weg',
  'Gasse',
  'Platz',
  'Allee',
  'Ring',
  'Damm',
  'Ufer',
  'Chaussee',
  'Markt',
  'Brücke',
  'u.',
  'utca',
  'út',
  'tér',
  'körút',
];

const CONNECTORS =
  "de|del|de la|de las|de los|di|della|dello|delle|dei|degli|do|da|dos|das|du|des|la|le|les|der|den|van|von|al|el|y|e|i|und|and|of|the|dell'|de l'|d'|l'";

// Words and numbers. Every quantifier is bounded; consecutive pieces start with distinct classes.
const CW = "\\p{Lu}[\\p{L}\\p{M}'’\\-]{0,30}\\.?"; // capitalised word (may end in an abbreviation dot)
const ORD = '\\d{1,3}(?:st|nd|rd|th|e|er|ème|º|ª|\\.)'; // ordinal street names: 5th Avenue, 1er
const NAMEWORD = `(?:${CW}|${ORD})`;
const NUM = '(?:\\d{1,5}[A-Za-z]?(?:[\\-\\/]\\d{1,5}[A-Za-z]?)?(?![\\p{L}\\p{N}])|[sS]\\/[nN]\\.?)';
const SP = '[ \\t]{1,2}';
const CONN = `(?:(?:${CONNECTORS})(?:${SP}|(?<=['’])))`;
const NAME_SEQ = `${CONN}{0,2}${NAMEWORD}(?:${SP}${CONN}{0,2}${NAMEWORD}){0,4}`;
const NO_WORD_BEFORE = '(?<![\\p{L}\\p{N}])';
// A digit consumed first, then the look-behind: V8 scans for a leading class far faster.
const DIGIT_FIRST = '\\d(?<![\\p{L}\\p{N}]\\d)';
const NUMBER_MARK = '(?:[Nn][º°o.]{1,2}[ \\t]?|[Nn]r\\.?[ \\t]?|[Nn]o\\.?[ \\t]?)?';

interface AddressPattern {
  readonly name: string;
  /** The anchor (A_*) that must be found near a number of the text for the pattern to run. */
  readonly anchor: number;
  readonly regex: RegExp;
  readonly score: number;
  /** Shapes that only count with an address context word or a unit/locality line. */
  readonly weak?: boolean;
  /** Runs only when the text holds an address context word. */
  readonly needsContext?: boolean;
}

// Anchors: what must stand near a number of the text for a pattern to match (each a necessary
// condition of its pattern, checked with word lists and a few char codes instead of regexes).
/** A house number, then street-type word within five words (221B Baker Street). */
const A_NUMBER_NAME_TYPE = 1;
/** A house number, then a street type (12 rue de la Paix). */
const A_NUMBER_TYPE = 2;
/** A street type before the number (Calle Mayor 3, Via Roma 12). */
const A_TYPE_BEFORE = 4;
/** The word before the number ends in a street type (Hauptstraße 5, Berliner Straße 12). */
const A_SUFFIX_BEFORE = 8;
const A_CORNER = 16;
/** Two numbers, then a capitalised word. */
const A_NUMBER_NUMBER = 32;
const A_BOX = 64;
const A_MILITARY = 128;
const A_SHIP = 256;
/** A house number, then a capitalised word. */
const A_NUMBER_NAME = 512;
/** A capitalised word, then the number. */
const A_NAME_NUMBER = 1024;
/** Patterns whose number may be written "s/n" (sin número): they run whenever the text has one. */
const A_SN = A_TYPE_BEFORE | A_SUFFIX_BEFORE | A_NUMBER_NAME | A_NAME_NUMBER;

/** True when the text holds "s/n" (any case). */
function hasSn(text: string): boolean {
  for (let i = text.indexOf('/'); i > 0; i = text.indexOf('/', i + 1)) {
    if ((text.charCodeAt(i - 1) | 32) === 115 && (text.charCodeAt(i + 1) | 32) === 110) return true;
  }
  return false;
}

const EN_SUFFIX_WORDS = registerWordList(EN_SUFFIXES);
const PREFIX_WORDS = registerWordList(PREFIXES);
// Post box, military address and corner words share one list (the lists are few): each opens its patterns.
const MARKER_WORDS = registerWordList([
  'box',
  'pobox',
  'postfach',
  'apartado',
  'casella',
  'caixa',
  'skrytka',
  'postbus',
  'boîte',
  'b.p.',
  'psc',
  'unit',
  'cmr',
  'uss',
  'usns',
  'usnv',
  'uscgc',
  'corner',
]);

/** Street types fused to or written before the number, reversed into a trie over lower-case char codes. */
interface TrieNode {
  end: boolean;
  readonly next: Map<number, TrieNode>;
}
const SUFFIX_TRIE: TrieNode = { end: false, next: new Map() };
for (const w of [...COMPOUND_SUFFIXES, ...SEPARATE_SUFFIXES]) {
  let node = SUFFIX_TRIE;
  const lo = w.toLowerCase();
  for (let i = lo.length - 1; i >= 0; i--) {
    const c = lo.charCodeAt(i);
    let child = node.next.get(c);
    if (!child) {
      child = { end: false, next: new Map() };
      node.next.set(c, child);
    }
    node = child;
  }
  node.end = true;
}
const MAX_SUFFIX = Math.max(...[...COMPOUND_SUFFIXES, ...SEPARATE_SUFFIXES].map((w) => w.length));

function lowerChar(c: number): number {
  return lowerWord_(c) || c;
}
function isWordCode(c: number): boolean {
  return lowerWord_(c) !== 0;
}
function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}
const UPPER_RE = /\p{Lu}/u;
function isUpperAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 ? c >= 65 && c <= 90 : i < text.length && UPPER_RE.test(text[i] as string);
}

/** True when the text before `end` ends in one of the street types (case-insensitive). */
function endsInStreetType(text: string, end: number): boolean {
  let node: TrieNode | undefined = SUFFIX_TRIE;
  for (let j = end - 1; j >= 0 && j >= end - MAX_SUFFIX; j--) {
    node = node.next.get(lowerChar(text.charCodeAt(j)));
    if (!node) return false;
    if (node.end) return true;
  }
  return false;
}

/** A capitalised word's characters after the capital: letters, marks, apostrophes, hyphens. */
function isNameChar(c: number): boolean {
  return isWordCode(c) || c === 39 || c === 8217 || c === 45 || (c >= 0x300 && c <= 0x36f);
}

/** The word ending at `end` (an abbreviation dot allowed) starts with a capital. */
function capitalisedBefore(text: string, end: number): boolean {
  let j = end;
  if (j > 0 && text.charCodeAt(j - 1) === 46) j--;
  const last = j;
  while (j > 0 && last - j <= 31 && isNameChar(text.charCodeAt(j - 1))) j--;
  return j < last && isUpperAt(text, j);
}

/** One to three capitalised words from `i`, each followed by 1–2 blanks, then a digit. */
function capitalisedThenNumber(text: string, i: number): boolean {
  let j = i;
  for (let w = 0; w < 3; w++) {
    if (j >= text.length || !isUpperAt(text, j)) return false;
    const start = j;
    j++;
    while (j < text.length && j - start <= 31 && isNameChar(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) === 46) j++;
    if (!isBlank(text.charCodeAt(j))) return false;
    j++;
    if (isBlank(text.charCodeAt(j))) j++;
    const c = text.charCodeAt(j);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** Skips 1–2 blanks backwards from `i` (exclusive end); -1 when there is none. */
function blanksBefore(text: string, i: number): number {
  if (i === 0 || !isBlank(text.charCodeAt(i - 1))) return -1;
  return i >= 2 && isBlank(text.charCodeAt(i - 2)) ? i - 2 : i - 1;
}

/** The anchors (A_*) found in a text. */
function anchorsOf(text: string): number {
  let found = 0;
  const n = text.length;
  const lists = wordListsIn_(text);
  const prefixes = (lists & PREFIX_WORDS) !== 0;
  const enSuffixes = (lists & EN_SUFFIX_WORDS) !== 0;
  const runCount = digitRuns_(text);
  for (let k = 0; k < runCount; k++) {
    const s = RUN_START[k] as number;
    const e = RUN_END[k] as number;
    const houseNumber = e - s <= 5 && (s === 0 || !isWordCode(text.charCodeAt(s - 1)));
    if (houseNumber) {
      if (prefixes && wordStartsIn_(text, PREFIX_WORDS, e + 1, e + 12)) found |= A_NUMBER_TYPE;
      if (enSuffixes && wordStartsIn_(text, EN_SUFFIX_WORDS, e + 2, e + 200)) found |= A_NUMBER_NAME_TYPE;
      // After the number (a letter, a /12 part, a comma may follow), blanks, then a capital or a number.
      let j = e;
      while (j < n && j < e + 8 && !isBlank(text.charCodeAt(j))) j++;
      if (j < n && isBlank(text.charCodeAt(j))) {
        j++;
        if (j < n && isBlank(text.charCodeAt(j))) j++;
        if (j < n) {
          if (k + 1 < runCount && capitalisedThenNumber(text, j)) found |= A_NUMBER_NAME;
          const c = text.charCodeAt(j);
          if (c >= 48 && c <= 57 && isBlank(text.charCodeAt(e))) found |= A_NUMBER_NUMBER;
        }
      }
    }
    if (prefixes && wordStartsIn_(text, PREFIX_WORDS, s - 320, s - 1)) found |= A_TYPE_BEFORE;
    // The word before the number, maybe before a number mark (Nr. 5, nº 5): a street type ends it.
    const b = blanksBefore(text, s);
    if (b >= 0) {
      if (endsInStreetType(text, b)) found |= A_SUFFIX_BEFORE;
      if (e - s <= 5 && capitalisedBefore(text, b)) found |= A_NAME_NUMBER;
    }
    // A number mark glued to or spaced from the number: look before it.
    let m = s;
    if (m > 0 && isBlank(text.charCodeAt(m - 1))) m--;
    let w = m;
    while (w > 0 && m - w < 4 && !isBlank(text.charCodeAt(w - 1))) w--;
    if (w < m && (text.charCodeAt(w) | 32) === 110) {
      const b2 = blanksBefore(text, w);
      if (b2 >= 0 && endsInStreetType(text, b2)) found |= A_SUFFIX_BEFORE;
    }
  }
  if (lists & MARKER_WORDS) found |= A_BOX | A_MILITARY | A_SHIP | A_CORNER;
  if (hasSn(text)) found |= A_SN;
  return found;
}

const PATTERNS: readonly AddressPattern[] = [
  {
    name: 'number-name-type',
    anchor: A_NUMBER_NAME_TYPE,
    regex: new RegExp(
      `${DIGIT_FIRST}\\d{0,4}[A-Za-z]?(?:[\\-\\/]\\d{1,5})?,?${SP}(?:${NAMEWORD}${SP}){1,4}(?:${anyCaseFirst(EN_SUFFIXES)})\\.?(?![\\p{L}\\p{N}])`,
      'gu',
    ),
    score: 0.7,
  },
  {
    name: 'number-type-name',
    anchor: A_NUMBER_TYPE,
    regex: new RegExp(`${DIGIT_FIRST}\\d{0,4}(?:${SP}?(?:bis|ter|[A-Za-z]))?,?${SP}(?:${anyCaseFirst(PREFIXES)})${SP}${NAME_SEQ}`, 'gu'),
    score: 0.7,
  },
  {
    name: 'type-name-number',
    anchor: A_TYPE_BEFORE,
    regex: new RegExp(`${NO_WORD_BEFORE}(?:${anyCaseFirst(PREFIXES)})${SP}${NAME_SEQ},?${SP}${NUMBER_MARK}${NUM}`, 'gu'),
    score: 0.7,
  },
  {
    name: 'compound-number',
    anchor: A_SUFFIX_BEFORE,
    regex: new RegExp(
      `${NO_WORD_BEFORE}(?:${CW}${SP})?\\p{Lu}[\\p{L}\\p{M}\\-.]{0,30}(?:${anyCaseFirst(COMPOUND_SUFFIXES)})${SP}${NUMBER_MARK}${NUM}`,
      'gu',
    ),
    score: 0.7,
  },
  {
    name: 'separate-type-number',
    anchor: A_SUFFIX_BEFORE,
    regex: new RegExp(
      `${NO_WORD_BEFORE}(?:${CW}${SP}){1,2}(?:${SEPARATE_SUFFIXES.map((s) => s.replace('.', '\\.')).join('|')})${SP}${NUM}\\.?`,
      'gu',
    ),
    score: 0.7,
  },
  {
    // "the corner of Main Street and 5th Avenue": two street names around "and".
    name: 'corner',
    anchor: A_CORNER,
    regex: new RegExp(
      `(?<![\\p{L}])(?:the[ \\t])?[Cc]orner of${SP}(?:\\d{1,5}${SP})?${NAME_SEQ}(?:${SP}(?:${anyCaseFirst(EN_SUFFIXES)})\\.?)?(?:${SP}${NUM})?${SP}(?:and|&)${SP}(?:\\d{1,5}${SP})?${NAME_SEQ}(?:${SP}(?:${anyCaseFirst(EN_SUFFIXES)})\\.?)?(?:${SP}${NUM})?`,
      'gu',
    ),
    score: 0.75,
  },
  {
    // "9816 214 Pavlou Drandaki": two numbers (unit or house, then house) and capitalised words.
    name: 'number-number-name',
    anchor: A_NUMBER_NUMBER,
    regex: new RegExp(`${DIGIT_FIRST}\\d{0,4}${SP}\\d{1,5}${SP}${CW}(?:${SP}${CW}){0,3}`, 'gu'),
    score: 0.4,
    weak: true,
  },
  {
    name: 'po-box',
    anchor: A_BOX,
    regex:
      /(?<![\p{L}\p{N}])(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box|Postfach|Apartado(?: de [Cc]orreos)?|Casella [Pp]ostale|Caixa [Pp]ostal|Skrytka [Pp]ocztowa|Postbus|Boîte [Pp]ostale|B\.P\.)[ \t]{1,2}\d{1,6}(?:[ \t]\d{2,4})?(?![\p{L}\p{N}])/gu,
    score: 0.6,
  },
  {
    name: 'military-box',
    anchor: A_MILITARY,
    regex:
      /(?<![\p{L}\p{N}])(?:PSC|Unit|CMR)[ \t]\d{3,5},?[ \t]Box[ \t]\d{3,5}(?:[ \t]{0,2}\n?[ \t]{0,3}(?:APO|DPO|FPO)[ \t]A[AEP][ \t]\d{5})?/giu,
    score: 0.85,
  },
  {
    name: 'military-ship',
    anchor: A_SHIP,
    regex:
      /(?<![\p{L}\p{N}])(?:USS|USNS|USNV|USCGC)[ \t]\p{L}[\p{L}\p{M}'-]{0,30}(?:[ \t]\p{L}[\p{L}\p{M}'-]{0,30}){0,2}[ \t]{0,2}\n?[ \t]{0,3}(?:FPO|APO|DPO)[ \t]A[AEP][ \t]\d{5}/giu,
    score: 0.85,
  },
  {
    // "6750 Koskikatu 25", "3657 Laukaantie 80": number, capitalised words, number.
    name: 'number-name-number',
    anchor: A_NUMBER_NAME,
    regex: new RegExp(`${DIGIT_FIRST}\\d{0,4}${SP}(?:${CW}${SP}){1,3}${NUM}`, 'gu'),
    score: 0.45,
    weak: true,
  },
  {
    // "Kuuse 53", "Am Markt 3": capitalised words and a number.
    name: 'name-number',
    anchor: A_NAME_NUMBER,
    regex: new RegExp(`${NO_WORD_BEFORE}(?:${CW}${SP}){1,3}${NUM}`, 'gu'),
    score: 0.2,
    weak: true,
    needsContext: true,
  },
];

const UNIT_WORDS = anyCaseFirst([
  'Apt',
  'Apt.',
  'Apartment',
  'Suite',
  'Ste',
  'Ste.',
  'Unit',
  'Flat',
  'Floor',
  'Fl.',
  'Room',
  'Rm',
  'Rm.',
  'Bldg',
  'Building',
  'Block',
  'Wohnung',
  'Whg.',
  'Zimmer',
  'Etage',
  'Stock',
  'Stiege',
  'Tür',
  'Top',
  'appartement',
  'app.',
  'bâtiment',
  'bât.',
  'étage',
  'piso',
  'puerta',
  'escalera',
  'esc.',
  'bloque',
  'portal',
  'interno',
  'int.',
  'scala',
  'piano',
  'appartamento',
  'm.',
  'lok.',
  'mieszkanie',
  'apto.',
  'apto',
  'ap.',
  'andar',
  'sala',
  'casa',
  'bloco',
  'lote',
  'quadra',
  'sobrado',
  'lgh.',
  'leil.',
  'hus',
]);
// A unit after the street: "Apt. 864", "Suite 300", "2º B", "3 hoog", "# OG".
const UNIT_RE = new RegExp(
  `^(?:,?[ \\t]{0,2}(?:\\r?\\n[ \\t>?]{0,4})?(?:(?:${UNIT_WORDS})[ \\t]?#?[ \\t]?[A-Za-z0-9][A-Za-z0-9\\-]{0,5}|\\d{1,2}[º°ª][ \\t]?[A-Z]?(?:[ \\t]?(?:Izda|Dcha|Izq|Der)\\.?)?|\\d{1,2}(?:\\.|e|er|st|nd|rd|th)?[ \\t](?:hoog|OG|étage|floor|piso|andar|piano|piętro|tv|th)\\.?))`,
  'u',
);

// A locality segment: an optional postcode, place words (capitalised or upper case), an optional
// state code and postcode; or only a postcode or a state code.
const POSTCODE =
  '(?:[A-Z]{1,2}\\d[A-Z\\d]?[ ]?\\d[A-Z]{2}|\\d{2}-\\d{3}|\\d{4,5}(?:-\\d{3,4})?(?:[ ]?[A-Z]{2}(?![\\p{L}]))?|[A-Z]\\d[A-Z][ ]?\\d[A-Z]\\d)';
const PLACE_WORD = "(?:\\p{Lu}\\p{Ll}{1,2}\\.|\\p{Lu}[\\p{L}\\p{M}'’\\-]{0,30}(?![\\p{L}\\p{M}\\p{N}'’\\-]))";
const LOCALITY_RE = new RegExp(
  `^(?:,[ \\t]{0,3}(?:\\r?\\n[ \\t>?]{0,4})?|[ \\t]{0,3}\\r?\\n[ \\t>?]{0,4}|[ \\t]{1,2})(?:,[ \\t]{0,2})?` +
    `(?:(?:${POSTCODE}[ \\t]{1,2})?${PLACE_WORD}(?:[ \\t\\-]{1,2}(?:${PLACE_WORD}|de|del|la|le|sur|am|an|der|im|en|di|do|da|nad|upon|on))` +
    `{0,4}(?:[ \\t]\\([^)\\n]{1,30}\\))?(?:,?[ \\t]{1,2}[A-Z]{2,3}(?![\\p{L}\\p{N}]))?(?:,?[ \\t]{1,2}${POSTCODE})?|${POSTCODE}|[A-Z]{2,3}(?![\\p{L}\\p{N}])(?:[ \\t]{1,2}${POSTCODE})?)`,
  'u',
);
/** What may follow a locality segment: the end, a line break, punctuation that ends an address. */
const LOCALITY_END = /^(?:$|[ \t]*(?:\r?\n|[,.;!?)]|$))/;
const ENDS_IN_POSTCODE = new RegExp(`(?:^|[ \\t,])${POSTCODE}$`, 'u');
const STARTS_WITH_POSTCODE = new RegExp(`^[,\\s>?]*${POSTCODE}[ \\t]{1,2}\\p{Lu}`, 'u');

const contextBit = sharedList(CONTEXT_WORDS.STREET_ADDRESS ?? []);

/** Street addresses of many countries. */
export class AddressRecognizer implements Recognizer {
  readonly name = 'address';
  readonly entities = ['STREET_ADDRESS'] as const;
  readonly requires = F_DIGIT | F_LETTER;

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    const anchors = anchorsOf(text);
    if (anchors === 0) return;
    let hasContext: boolean | undefined;
    for (const p of PATTERNS) {
      if ((anchors & p.anchor) === 0) continue;
      if (p.needsContext && (env.minScore ?? 0) > p.score) {
        hasContext ??= (wordListsIn_(text) & contextBit) !== 0;
        if (!hasContext) continue;
      }
      const re = p.regex;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        let start = m.index;
        let end = start + m[0].length;
        if (p.weak && !plausibleWeak(m[0])) continue;
        let score = p.score;
        // A house number or unit written before the street ("6750 Koskikatu 25", "Suite 5 12 Main St").
        const lead = /(?:(?:Apt\.?|Suite|Unit|Flat)[ \t]\d{1,5}[ \t])?\d{1,5}[ \t]$/u.exec(text.slice(Math.max(0, start - 24), start));
        if (lead && !/[\p{L}\p{N}]/u.test(text[start - lead[0].length - 1] ?? ' ')) start -= lead[0].length;
        // A sentence's full stop after the street name is not part of it ("… rue de la Paix."); an abbreviation's is ("St.").
        if (text[end - 1] === '.' && /\p{L}{4,}\.$/u.test(text.slice(Math.max(start, end - 12), end))) end--;
        const extended = extend(text, end);
        if (extended.end > end) {
          // A unit or locality line is strong evidence for the weak shapes.
          score += extended.locality ? 0.25 : 0.15;
        }
        // The street line (with its units) is one span, each locality segment ("10115 Berlin",
        // "Uruguay 64677") another: the text between them (", ", line breaks) stays as it was.
        const streetEnd = extended.segments.length > 0 ? (extended.segments[0] as [number, number])[0] : extended.end;
        end = trimSeparators(text, start, streetEnd);
        if (wordNear_(text, contextBit, start, extended.end, 48, 0)) score += 0.35;
        if (score <= 0) continue;
        const s = Math.min(1, score);
        const recognizer = `address/${p.name}`;
        out.push({ entity: 'STREET_ADDRESS', start, end, score: s, recognizer });
        for (const [a, b] of extended.segments)
          out.push({ entity: 'STREET_ADDRESS', start: a, end: trimSeparators(text, a, b), score: s, recognizer });
      }
    }
  }
}

/** The weak shapes must not be made of common words, months ("March 5") or units ("Apt 5"). */
function plausibleWeak(match: string): boolean {
  const words = match.match(/\p{Lu}[\p{L}\p{M}'’-]*/gu) ?? [];
  if (words.length === 0) return false;
  for (const w of words) if (STOP_WORDS.has(w.toLowerCase()) || /^(?:Apt|Suite|Unit|Room|Box|Order|No|Nr|Tel|Fax)$/i.test(w)) return false;
  return true;
}

/** End of [start, end) without trailing spaces, commas and line breaks. */
function trimSeparators(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && ' \t\r\n,>?'.includes(text[e - 1] as string)) e--;
  return e;
}

/** Extends a street line over a unit and locality segments that follow it. */
function extend(text: string, end: number): { end: number; locality: boolean; segments: [number, number][] } {
  let e = end;
  let locality = false;
  const segments: [number, number][] = [];
  for (let i = 0; i < 3; i++) {
    const u = UNIT_RE.exec(text.slice(e, e + 48));
    if (!u || u[0].length === 0) break;
    e += u[0].length;
  }
  for (let i = 0; i < 5; i++) {
    const rest = text.slice(e, e + 120);
    const l = LOCALITY_RE.exec(rest);
    if (!l || l[0].length === 0) break;
    const after = rest.slice(l[0].length);
    // A segment that starts or ends with a postcode is a locality whatever follows; a bare place
    // name must end the line or the sentence.
    if (!LOCALITY_END.test(after) && !ENDS_IN_POSTCODE.test(l[0]) && !STARTS_WITH_POSTCODE.test(l[0])) break;
    const seg = l[0].replace(/^[,\s>?]+/, '');
    // A segment must look like a place (not a sentence word such as "Thanks").
    const firstWord = /^\p{L}+/u.exec(seg)?.[0];
    if (firstWord && firstWord !== firstWord.toUpperCase() && STOP_WORDS.has(firstWord.toLowerCase())) break;
    segments.push([e + (l[0].length - seg.length), e + l[0].length]);
    e += l[0].length;
    locality = true;
  }
  return { end: e, locality, segments };
}

export const addressRecognizer = new AddressRecognizer();
