/**
 * PERSON in free text, without an NLP model: runs of capitalised words are looked up in a name
 * lexicon (first names and surnames of faker's locales), then scored with cues around them:
 * titles (Mr, Frau, Sr., Pani), introducers (Dear, spoke with, my name is, ich heiße), verbs after
 * the name (said, called), sentence position, and determiners that make a capitalised word a noun
 * (der Koch, the Baker). Unknown capitalised words next to a known name (a surname the lexicon
 * lacks) join the name. Names no lexicon holds are found from the sentence around them: the
 * subject of a clause before an auxiliary or a negation ("…, Anna was not happy"), the agent of a
 * passive verb ("confirmed by Anna", "von Anna bestätigt"), a vocative ("Remember me, Anna?"),
 * a transcript speaker ("Anna: …").
 *
 * Speed: one pass over char codes finds the capitalised words and hashes them on the way; words
 * are looked up by range in hash tables (no substring per word), tokens and runs live in pools,
 * and a text whose capitalised words are all sentence starters, stop words or acronyms ends there.
 */
import type { Span } from '../types.ts';
import {
  CUE_BIGRAMS,
  CUE_WORDS,
  DETERMINERS,
  defaultNameLexicon,
  isCommonWord,
  isPlaceNameAt,
  NAME_COMMON,
  NAME_FIRST,
  NAME_FOREIGN_WORD,
  NAME_LAST,
  NAME_PLACE,
  type NameLexicon,
  NOT_PERSON_NEXT,
  ORG_SUFFIXES,
  PLACE_PREFIXES,
  PLACE_PREPOSITIONS,
  POST_CUE_WORDS,
  placeHeads,
  STOP_WORDS,
  STREET_WORDS,
  TITLES,
  WEAK_CUE_WORDS,
} from './name-lexicon.ts';
import { F_LETTER, F_UPPER, type Recognizer, type ScanEnv } from './recognizer.ts';
import { WordTable } from './word-table.ts';

// Character classes of UTF-16 code units, computed once per code unit on first sight.
const C_UPPER = 1;
const C_LETTER = 2;
const C_DIGIT = 4;
/** Letters, marks, apostrophes and hyphens: the body of a capitalised word. */
const C_BODY = 8;
/** Before a capital, puts it inside a word, an email, a path or a URL (letters, marks, digits, _ @ . ' ’ - /). */
const C_GLUE_BEFORE = 16;
/** Right after a word, makes it part of a longer token (letters, marks, digits, _ @ ' ’ -). */
const C_GLUE_AFTER = 32;
const C_DONE = 128;
const CLASSES = new Uint8Array(65536);
const RE_LU = /\p{Lu}/u;
const RE_L = /\p{L}/u;
const RE_M = /\p{M}/u;
const RE_N = /\p{N}/u;

function computeClass(c: number): number {
  const s = String.fromCharCode(c);
  const letter = RE_L.test(s);
  const mark = RE_M.test(s);
  const digit = RE_N.test(s);
  const apostropheOrHyphen = c === 39 || c === 0x2019 || c === 45;
  let v = C_DONE | (RE_LU.test(s) ? C_UPPER : 0) | (letter ? C_LETTER : 0) | (digit ? C_DIGIT : 0);
  if (letter || mark || apostropheOrHyphen) v |= C_BODY;
  if (letter || mark || digit || apostropheOrHyphen || c === 95 || c === 64) v |= C_GLUE_BEFORE | C_GLUE_AFTER;
  if (c === 46 || c === 47) v |= C_GLUE_BEFORE;
  CLASSES[c] = v;
  return v;
}
for (let c = 0; c < 128; c++) computeClass(c);

function charClass(c: number): number {
  const v = CLASSES[c] as number;
  return v === 0 ? computeClass(c) : v;
}

function isSpaceOrTab(c: number): boolean {
  return c === 32 || c === 9;
}

/** text[s, e) is one to three spaces or tabs. */
function isSpaceGap(text: string, s: number, e: number): boolean {
  const n = e - s;
  if (n < 1 || n > 3) return false;
  for (let k = s; k < e; k++) if (!isSpaceOrTab(text.charCodeAt(k))) return false;
  return true;
}

/** text[s, e) matches /^\.?(?:ra|ssa|ª)?[ \t]{1,3}$/ (after "Sr", "Sig", "Dott", "Dª"). */
function isTitleGap(text: string, s: number, e: number): boolean {
  let p = s;
  if (p < e && text.charCodeAt(p) === 46) p++;
  if (text.startsWith('ra', p) && isSpaceGap(text, p + 2, e)) return true;
  if (text.startsWith('ssa', p) && isSpaceGap(text, p + 3, e)) return true;
  if (p < e && text.charCodeAt(p) === 0xaa && isSpaceGap(text, p + 1, e)) return true;
  return isSpaceGap(text, p, e);
}

const words = (s: string): string[] => s.trim().split(/\s+/);

const PARTICLE_GAP =
  /^[ \t](?:van|von|de|der|den|du|da|di|del|della|dello|dos|das|do|le|la|ten|ter|zu|y|e|bin|ibn|al|el|af|av|st\.?)(?:[ \t](?:der|den|de|la|los|las|le|van|het))?[ \t]$/i;

// Lower-case names after an explicit introducer ("my name is nina").
const INTRO_RE =
  /(?<![\p{L}])(?:my name is|name is|name's|mr\.?|mrs\.?|ms\.?|dr\.?|i am|i'm|call me|calls me|mein name ist|ich heiße|ich heisse|je m'appelle|je m’appelle|mon nom est|me llamo|mi nombre es|mi chiamo|il mio nome è|mijn naam is|ik heet|nazywam się|mam na imię|me chamo|chamo-me|meu nome é)[ \t]{1,3}(\p{Ll}[\p{Ll}\p{M}'’-]{1,30})(?:[ \t](\p{Ll}[\p{Ll}\p{M}'’-]{1,30}))?/giu;
const INTRO_GATE = /nam|i'm|i am|call|hei|appel|nom|llamo|chiamo|naam|heet|nazyw|imi|chamo|mr|ms|dr/i;

// German capitalises every noun, so a capitalised word mid-sentence says little there.
// (ASCII word boundaries: twice as fast as Unicode lookarounds, and a guess at the language either way.)
const GERMAN_HINT = /\b(?:der|die|das|und|ist|nicht|mit|ein|eine|hat|wurde|bitte|ich|wir|für|dem|zum|zur|auf)\b/gi;

const STRONG = 1;
const WEAK = 2;
const UNKNOWN = 3;
const INITIAL = 4;
const TITLE = 5;
const NONE = 6;

const CAPITAL_PARTICLES = new Set([
  'Di',
  'De',
  'Da',
  'Do',
  'Dos',
  'Das',
  'Du',
  'Del',
  'Della',
  'Van',
  'Von',
  'Le',
  'La',
  'Lo',
  'Ten',
  'Ter',
  'Mac',
  'Mc',
  'Al',
  'El',
  'Bin',
  'Ibn',
  'Dal',
  'Dalla',
  'Des',
]);

const DIRECTIONS = new Set([
  'norte',
  'sul',
  'sur',
  'nord',
  'süd',
  'sud',
  'est',
  'ouest',
  'oeste',
  'leste',
  'north',
  'south',
  'east',
  'west',
  'ost',
  'west',
  'noord',
  'zuid',
  'oost',
]);

/** Start of the word right before `pos` (skipping spaces). */
function wordStart(text: string, pos: number): number {
  let p = pos - 1;
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
  while (p > 0 && isWordChar(text.charCodeAt(p - 1))) p--;
  return p;
}

/** Separators inside a list of names. */
const LIST_GAP =
  /^(?:,[ \t]{0,2}|[ \t]{1,2}(?:and|und|et|y|e|i|en|og|och|oraz|ou|or|oder|o)[ \t]{1,2}|,[ \t]{0,2}(?:and|und|et|y|e|i|en)[ \t]{1,2})$/;
const HOUSE_NUMBER_AFTER =
  /^(?:[ \t]?(?:u\.|utca|út|tér|nr\.?|no\.?))?[ \t]\d{1,4}[a-zA-Z]?(?![\d:]|[.,/-]\d|[ \t]?(?:years|yrs|jahre|ans|años|anni|jaar|lat|anos|%))/i;

// Endings of surnames across Europe (and Slavic, Nordic, Greek, Turkish patronymics).
const SURNAME_ENDINGS = new Set(
  `sen son sson sdottir sdóttir dóttir ov ova ev eva ski ska sky skaya cki cka dzki dzka wicz owicz ewicz ić ic vić vic enko
  chuk czuk uk yk yan ian poulos opoulos akis idis oglu oğlu escu eanu ini elli etti ucci acci ez aki ishi moto mura yama kawa
  oka ata berg stein mann man feld baum hoff hofer inger ner ler ová ovà ský ská nen lainen ainen inen gaard strup rud vik qvist
  kvist ström strom lund holm dahl gren eau eaux ault`.split(/\s+/),
);
// Endings of common nouns, adjectives and adverbs in the supported languages.
const WORD_ENDINGS = new Set(
  `person people tion tions sion sions ment ments ness ity ities ings ance ence ship hood ism ure ures ology ics ful less
  able ible ous ive ives ware heit keit ung ungen schaft lich isch ción ciones sión dad mente zione zioni ità ção ções dade
  ologia ología ique isme ité eur eurs teur trice ismo ista ieren ement ements wanie danie kanie tanie ranie enie ość heid ijk erij ering`.split(
    /\s+/,
  ),
);

/** 1 for surname-shaped words, -1 for common-word-shaped ones, 0 otherwise (lowercased input). */
function nameShape(w: string): number {
  if (w.length < 4) return 0;
  let surname = false;
  for (let k = 2; k <= 7 && k < w.length; k++) {
    const end = w.slice(-k);
    if (WORD_ENDINGS.has(end)) return -1;
    if (SURNAME_ENDINGS.has(end)) surname = true;
  }
  return surname ? 1 : 0;
}

/** Words after "Anna," that make Anna someone spoken to. */
const VOCATIVE_NEXT = new Set([
  'can',
  'could',
  'would',
  'will',
  'please',
  'thanks',
  'thank',
  'i',
  'we',
  'you',
  'do',
  'did',
  'are',
  'is',
  'have',
  'what',
  'where',
  'when',
  'how',
  'why',
  'let',
  'just',
  'kannst',
  'können',
  'bitte',
  'pourriez',
  'pouvez',
  'merci',
  'puedes',
  'puede',
  'gracias',
  'puoi',
  'può',
  'grazie',
  'kun',
  'kunt',
  'bedankt',
  'czy',
  'dziękuję',
  'pode',
  'podes',
  'obrigado',
  'obrigada',
]);

// What a word around a name says, one bit per word list, looked up by range (no slicing).
const W_CUE = 1;
const W_BIGRAM_TAIL = 2;
const W_WEAK_CUE = 4;
const W_DET = 8;
const W_PLACE_PREP = 16;
const W_PLACE_PREFIX = 32;
const W_TITLE = 64;
const W_NAME_Q = 128;
const W_NOT_PERSON_NEXT = 256;
const W_POST_CUE = 512;
const W_STREET = 1024;
const W_DIRECTION = 2048;
const W_VOCATIVE = 4096;
/** An organisation suffix in some case (the case-sensitive list decides). */
const W_ORG = 8192;
/** The first word of a place name of two words or more. */
const W_PLACE_HEAD = 16384;
/** A verb or negation right after a clause's subject ("…, Anna was not happy"). */
const W_SUBJECT_NEXT = 32768;
/** A preposition that names the agent after a participle ("confirmed by", "bestätigt von"). */
const W_AGENT_PREP = 65536;

/** Auxiliaries, copulas and negations that follow the subject of a clause, in the eight languages. */
const SUBJECT_NEXT = words(`was is has had will would did does can could wasn't isn't hasn't hadn't won't wouldn't didn't doesn't
  can't couldn't war ist hat hatte wird wurde will wollte kann konnte möchte était est avait sera n'était n’était n'est n’est
  n'a n’a n'avait n’avait ne estaba está es fue era ha había quedó no non è aveva fu sarà heeft wil kon niet nie był była
  jest ma miał miała chce não estava foi tem tinha ficou`);

/** The word before "by" (or its translation) reads as a participle: the name after it is the agent. */
function isParticiple(text: string, s: number, e: number): boolean {
  if (e - s < 3) return false;
  return PARTICIPLE_RE.test(text.slice(s, e));
}
const PARTICIPLE_RE =
  /^(?:\p{L}{2,}(?:ed|en|é|ée|és|ées|ado|ada|ados|adas|ido|ida|idos|idas|ato|ata|ati|ate|ito|ita|uto|uta|one|ony|ona|ane|any|ana|ięte|ęty|ęta)|sent|made|paid|done|signed|(?:ge|be|ver|er|ont|her)\p{L}{2,}[dt])$/iu;
/** German puts the participle after the agent: "von Anna bestätigt". */
const GERMAN_PARTICIPLE_RE = /^(?:ge|be|ver|er|ent|zer|unter|über)\p{L}{2,}(?:t|en)$/iu;

let wordInfoTable: WordTable | undefined;
let orgSuffixTable: WordTable | undefined;

function buildWordInfo(): WordTable {
  const t = new WordTable(true, 4096);
  const add = (words: Iterable<string>, bit: number) => {
    for (const w of words) if (w.length > 0) t.or(w, bit);
  };
  add(CUE_WORDS, W_CUE);
  add(
    [...CUE_BIGRAMS].map((b) => b.slice(b.lastIndexOf(' ') + 1)),
    W_BIGRAM_TAIL,
  );
  add(WEAK_CUE_WORDS, W_WEAK_CUE);
  add(DETERMINERS, W_DET);
  add(PLACE_PREPOSITIONS, W_PLACE_PREP);
  add(PLACE_PREFIXES, W_PLACE_PREFIX);
  add(TITLES, W_TITLE);
  add(NAME_QUESTION_WORDS, W_NAME_Q);
  add(NOT_PERSON_NEXT, W_NOT_PERSON_NEXT);
  add(POST_CUE_WORDS, W_POST_CUE);
  add(STREET_WORDS, W_STREET);
  add(DIRECTIONS, W_DIRECTION);
  add(VOCATIVE_NEXT, W_VOCATIVE);
  add(ORG_SUFFIXES, W_ORG);
  add(placeHeads(), W_PLACE_HEAD);
  add(SUBJECT_NEXT, W_SUBJECT_NEXT);
  add(words('by par por da door przez von'), W_AGENT_PREP);
  return t;
}

/** The word-list bits of text[s, e), lowercased (0 for other words). */
function wordInfo(text: string, s: number, e: number): number {
  if (e <= s) return 0;
  wordInfoTable ??= buildWordInfo();
  const v = wordInfoTable.get(text, s, e);
  return Math.max(v, 0);
}

function isOrgSuffix(text: string, s: number, e: number): boolean {
  if (e <= s) return false;
  if (!orgSuffixTable) {
    orgSuffixTable = new WordTable(false, 64);
    for (const w of ORG_SUFFIXES) orgSuffixTable.set(w, 1);
  }
  return orgSuffixTable.get(text, s, e) >= 0;
}

function isNameWord(t: Token): boolean {
  return t.kind === STRONG || t.kind === WEAK || t.kind === INITIAL || t.kind === UNKNOWN;
}

const ENGLISH_HINT = /\b(?:the|and|is|are|was|to|of|for|with|you|my|your|this|that|have|has|it|on|at|be|will|can|not)\b/gi;

/** Cheap, lazy guesses at the language of a text (two function words are enough). */
class LanguageHints {
  private en: boolean | undefined;
  private de: boolean | undefined;
  private text = '';
  reset(text: string): void {
    this.text = text;
    this.en = undefined;
    this.de = undefined;
  }
  english(): boolean {
    this.en ??= countUpTo(ENGLISH_HINT, this.text, 2) >= 2;
    return this.en;
  }
  /** German capitalises every noun, so a capitalised word mid-sentence says little there. */
  german(): boolean {
    this.de ??= countUpTo(GERMAN_HINT, this.text, 2) >= 2;
    return this.de;
  }
}

function countUpTo(re: RegExp, text: string, max: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < max && re.test(text)) n++;
  return n;
}

interface Token {
  start: number;
  /** End of the name part (possessive and dots excluded). */
  end: number;
  /** End of the matched text. */
  rawEnd: number;
  kind: number;
  /** Lexicon flags of the word (0 when unknown). */
  flags: number;
  possessive: boolean;
  /** Written with a trailing dot (sentence end or abbreviation; initials excepted). */
  dot: boolean;
  /** A stop word that is also a name (May, Will, Name): only a title makes it a name alone. */
  stop: boolean;
  /** For unknown words: 1 when shaped like a surname (-sen, -ov, -ski…), -1 like a common word (-tion…). */
  shape: number;
  /** A capitalised surname particle (Di, De, Van, Le…): inside a name, not a name alone. */
  particle: boolean;
  /** A dictionary word the name lexicon does not know (a name only after a title or introducer). */
  dict: boolean;
}

/** Options of a person recognizer (the evaluation swaps the lexicon for its hold-out split). */
export interface PersonRecognizerOptions {
  readonly lexicon?: NameLexicon;
}

/** Names in free text from a lexicon and cues. */
export class PersonRecognizer implements Recognizer {
  readonly name = 'person';
  readonly entities = ['PERSON'] as const;
  readonly requires = F_LETTER;
  private readonly lexicon: NameLexicon;
  /** Classification of capitalised words as written, looked up without slicing them out. */
  private readonly memo = new WordTable(false, 4096);
  /** Tokens of the current text (reused across texts: no allocation per token). */
  private readonly pool: Token[] = [];
  private count = 0;
  private readonly runStart: number[] = [];
  private readonly runEnd: number[] = [];
  private readonly runScore: number[] = [];
  private readonly lang = new LanguageHints();

  constructor(opts: PersonRecognizerOptions = {}) {
    this.lexicon = opts.lexicon ?? defaultNameLexicon();
  }

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    if (env.features & F_UPPER) this.capitalised(text, out, env.minScore ?? 0);
    // Lower-case names after an introducer come from texts written in lower case: a text that
    // starts with a capital writes names with capitals too (and the main path finds them).
    if ((!(env.features & F_UPPER) || startsLower(text)) && INTRO_GATE.test(text)) this.introduced(text, out);
  }

  /**
   * A word's kind, stop-word bit (16), shape (32 surname-like), dictionary bit (128), particle bit
   * (1 << 16) and lexicon flags (<< 8), packed in a number and memoised: the same capitalised
   * words recur in every row.
   */
  private classify(text: string, start: number, end: number, hash: number): number {
    let v = this.memo.getHashed(hash, text, start, end);
    if (v < 0) {
      const core = text.slice(start, end);
      v = this.classifyUncached(core) | (CAPITAL_PARTICLES.has(core) ? PARTICLE_BIT : 0);
      if (this.memo.size >= 50_000) this.memo.clear();
      this.memo.set(core, v);
    }
    return v;
  }

  private classifyUncached(core: string): number {
    if (core.length === 1) return INITIAL;
    const lower = core.toLowerCase();
    // All capitals: acronyms and shouted place names in address blocks, rarely a name.
    if (core === core.toUpperCase()) return NONE;
    if (TITLES.has(lower)) return TITLE;
    const stop = STOP_WORDS.has(lower);
    let f = this.lexicon.get(lower);
    if (f === undefined && lower.includes('-')) {
      // Jean-Pierre, Müller-Lüdenscheidt: a name when every part is one.
      let all = 0;
      for (const part of lower.split('-')) {
        const pf = this.lexicon.get(part);
        if (pf === undefined) {
          all = -1;
          break;
        }
        all |= pf;
      }
      if (all >= 0) f = all;
    }
    if (f === undefined) {
      if (stop) return NONE;
      // "Plastic", "Lieferung": words of the dictionary are not names, unless a title or an
      // introducer says so ("Mrs. Baker", "my name is Manning"): bit 128 marks them.
      if (isCommonWord(lower)) return NONE | 128;
      const shape = nameShape(lower);
      // "Application", "Lieferung": unknown words shaped like common words are not names.
      if (shape < 0) return NONE;
      return UNKNOWN | (shape > 0 ? 32 : 0);
    }
    return (f & (NAME_COMMON | NAME_PLACE) || stop ? WEAK : STRONG) | (stop ? 16 : 0) | (f << 8);
  }

  /**
   * Finds the capitalised words (a capital not inside a word, an email or a URL, then letters,
   * marks, inner apostrophes and hyphens, not followed by digits; or an initial with its dot).
   * The scan hops from capital to capital natively and reads words only from there. Returns
   * whether any token could start a name.
   */
  private tokenize(text: string): boolean {
    const pool = this.pool;
    const len = text.length;
    let n = 0;
    let interesting = false;
    let i = 0;
    while (i < len) {
      const c0 = text.charCodeAt(i);
      // Most characters: ASCII (or Latin-1 punctuation) that is no capital.
      if (c0 < 0xc0 && (c0 < 65 || c0 > 90)) {
        i++;
        continue;
      }
      let cls = CLASSES[c0] as number;
      if (cls === 0) cls = computeClass(c0);
      if ((cls & C_UPPER) === 0) {
        i++;
        continue;
      }
      if (i > 0 && charClass(text.charCodeAt(i - 1)) & C_GLUE_BEFORE) {
        // Inside a word, a code, an email or a URL: so is every capital up to the next separator.
        while (i < len && charClass(text.charCodeAt(i)) & C_GLUE_BEFORE) i++;
        continue;
      }
      const start = i;
      let e = start + 1;
      let h = Math.imul(0x811c9dc5 ^ c0, 0x01000193);
      let hPrev1 = 0x811c9dc5;
      let hPrev2 = 0x811c9dc5;
      let c = 0;
      for (; e < len; e++) {
        c = text.charCodeAt(e);
        let k = CLASSES[c] as number;
        if (k === 0) k = computeClass(c);
        if ((k & C_BODY) === 0) break;
        hPrev2 = hPrev1;
        hPrev1 = h;
        h = Math.imul(h ^ c, 0x01000193);
      }
      let glued = e - start > 41;
      let dotted = false;
      if (!glued && e < len) {
        if (charClass(c) & C_GLUE_AFTER) glued = true;
        else if (c === 46) {
          if (e + 1 < len && charClass(text.charCodeAt(e + 1)) & C_LETTER) glued = true;
          else dotted = true;
        }
      }
      if (glued) {
        // Inside a code, an email or a URL: every capital up to the next separator is too.
        i = e;
        while (i < len && charClass(text.charCodeAt(i)) & C_GLUE_BEFORE) i++;
        continue;
      }
      const rawEnd = dotted ? e + 1 : e;
      // The next character follows a letter or a dot: no word starts there.
      i = rawEnd + 1;
      let end = e;
      let possessive = false;
      const last = text.charCodeAt(end - 1);
      if (end - start > 3) {
        if (last === 39 || last === 0x2019) {
          end -= 1;
          h = hPrev1;
          possessive = true;
        } else if (last === 115 || last === 83) {
          const q = text.charCodeAt(end - 2);
          if (q === 39 || q === 0x2019) {
            end -= 2;
            h = hPrev2;
            possessive = true;
          }
        }
      }
      if (text.charCodeAt(end - 1) === 45) {
        end--;
        h = possessive ? WordTable.hash(text, start, end, false) : hPrev1;
      }
      const packed = this.classify(text, start, end, h);
      let kind = packed & 15;
      // A lone capital letter is an initial only when written as one ("J." or "J Smith"); "I" is a pronoun.
      if (kind === INITIAL && !dotted && (text.charCodeAt(start + 1) !== 32 || c0 === 73)) kind = NONE;
      const dict = (packed & 128) !== 0;
      if (kind !== NONE || dict) interesting = true;
      let t = pool[n];
      if (t === undefined) {
        t = newToken();
        pool.push(t);
      }
      t.start = start;
      t.end = end;
      t.rawEnd = rawEnd;
      t.kind = kind;
      t.flags = (packed >> 8) & 255;
      t.possessive = possessive;
      t.dot = dotted && kind !== INITIAL;
      t.stop = (packed & 16) !== 0;
      t.shape = packed & 32 ? 1 : 0;
      t.particle = (packed & PARTICLE_BIT) !== 0;
      t.dict = dict;
      n++;
    }
    this.count = n;
    return interesting;
  }

  private capitalised(text: string, out: Span[], minScore: number): void {
    // Nothing but sentence starters, stop words and acronyms: no name can start here.
    if (!this.tokenize(text)) return;
    const tokens = this.pool;
    const n = this.count;
    const lang = this.lang;
    lang.reset(text);
    // Runs of this text, in pooled arrays (start, end, score).
    const rs = this.runStart;
    const re = this.runEnd;
    const sc = this.runScore;
    let nr = 0;

    let i = 0;
    while (i < n) {
      // A run: consecutive name-capable tokens joined by spaces (or particles: Maria da Silva).
      const t0 = tokens[i] as Token;
      if (t0.kind === NONE && t0.dict) {
        previousWords(text, t0.start);
        if (PREV.nameQuestion || strongCueWord(text)) t0.kind = UNKNOWN;
      }
      if (t0.kind === NONE) {
        i++;
        continue;
      }
      let titled = false;
      if (t0.kind === TITLE) {
        // The title cues the words after it; the title itself is not part of the name.
        const next = i + 1 < n ? tokens[i + 1] : undefined;
        if (next && next.kind === NONE && next.dict) next.kind = UNKNOWN;
        if (!next || !isTitleGap(text, t0.end, next.start) || next.kind === NONE || next.kind === TITLE) {
          i++;
          continue;
        }
        titled = true;
        i++;
      }
      let j = i;
      while (j + 1 < n) {
        const a = tokens[j] as Token;
        const b = tokens[j + 1] as Token;
        if (a.possessive || a.dot || b.kind === TITLE) break;
        // "Ambrosiano Di Domenico", "Jacobus Van der Berg": a particle joins two name words.
        if (
          b.particle &&
          j + 2 < n &&
          (tokens[j + 2] as Token).kind !== NONE &&
          isSpaceGap(text, b.rawEnd, (tokens[j + 2] as Token).start)
        ) {
          b.kind = INITIAL;
        }
        // "Emma Stone", "Tom Baker": a dictionary word right after a first name is a surname.
        if (
          b.kind === NONE &&
          b.dict &&
          (((a.kind === STRONG || a.kind === WEAK) && a.flags & NAME_FIRST) ||
            (a.kind === INITIAL && j > i && isNameWord(tokens[j - 1] as Token) && (tokens[j - 1] as Token).kind !== INITIAL)) &&
          (isSpaceGap(text, a.rawEnd, b.start) || (a.kind === INITIAL && b.start - a.end <= 2))
        )
          b.kind = UNKNOWN;
        if (b.kind === NONE) break;
        const gs = a.rawEnd;
        const ge = b.start;
        if (
          !(
            isSpaceGap(text, gs, ge) ||
            (a.rawEnd === a.end && isParticleGap(text, gs, ge)) ||
            (a.kind === INITIAL && ge - gs <= 2 && isBlank(text, gs, ge))
          )
        )
          break;
        j++;
      }
      // "Producer James Sparks": an unknown word before two name words is not part of the name.
      let s0 = i;
      while (
        s0 < j - 1 &&
        (tokens[s0] as Token).kind === UNKNOWN &&
        !titled &&
        (tokens[s0 + 1] as Token).kind === STRONG &&
        isNameWord(tokens[s0 + 2] as Token)
      )
        s0++;
      const score = this.scoreRun(text, tokens, s0, j, titled, lang, minScore);
      if (!Number.isNaN(score)) {
        rs[nr] = (tokens[s0] as Token).start;
        re[nr] = (tokens[j] as Token).end;
        sc[nr] = score;
        nr++;
      }
      i = j + 1;
    }

    // Lists of names ("Kónya, Becker and Vasquez"): a doubtful member of a list that holds a
    // sure name is a name too.
    for (let k = 0; k < nr; k++) {
      const score = sc[k] as number;
      if (score >= 0.5 || score < 0.1) continue;
      if (
        (k > 0 && (sc[k - 1] as number) >= 0.6 && LIST_GAP.test(text.slice(re[k - 1] as number, rs[k] as number))) ||
        (k + 1 < nr && (sc[k + 1] as number) >= 0.6 && LIST_GAP.test(text.slice(re[k] as number, rs[k + 1] as number)))
      ) {
        sc[k] = 0.6;
      }
    }
    // The scanner drops spans below its threshold anyway: do not allocate them.
    const min = Math.max(minScore, Number.MIN_VALUE);
    for (let k = 0; k < nr; k++) {
      const score = sc[k] as number;
      if (score >= min)
        out.push({
          entity: 'PERSON',
          start: rs[k] as number,
          end: re[k] as number,
          score: Math.min(1, score),
          recognizer: 'person/lexicon',
        });
    }
  }

  private scoreRun(text: string, tokens: Token[], i: number, j: number, titled: boolean, lang: LanguageHints, minScore: number): number {
    let strong = 0;
    let weak = 0;
    let initials = 0;
    let shaped = 0;
    for (let k = i; k <= j; k++) {
      const t = tokens[k] as Token;
      if (t.kind === STRONG) strong++;
      else if (t.kind === WEAK) weak++;
      else if (t.kind === INITIAL) initials++;
      else if (t.kind === UNKNOWN && t.shape > 0) shaped++;
    }
    const len = j - i + 1;
    if (initials === len) return Number.NaN;
    const first = tokens[i] as Token;
    const last = tokens[j] as Token;

    previousWords(text, first.start);
    const w1 = PREV.w1Info;
    const strongCue = titled || PREV.nameQuestion || strongCueWord(text);
    nextWord(text, last.rawEnd);
    const next = wordInfo(text, NEXT.start, NEXT.bare);
    // "confirmed by Anna", "confirmé par Anna", "von Anna bestätigt": the agent of a passive verb.
    const agentCue =
      !strongCue &&
      (w1 & W_AGENT_PREP) !== 0 &&
      (isParticiple(text, PREV.w2s, PREV.w2e) ||
        (text.charCodeAt(PREV.w1s) === 118 && GERMAN_PARTICIPLE_RE.test(text.slice(NEXT.start, NEXT.bare))));
    const weakCue = !strongCue && !agentCue && (w1 & W_WEAK_CUE) !== 0;
    // "…, Anna was not happy": a capitalised word mid-sentence before a verb is the subject (not
    // a German noun, which takes an article).
    const subjectCue =
      !PREV.sentenceStart && (next & W_SUBJECT_NEXT) !== 0 && (PREV.w1e === 0 || isClauseBreak(text, PREV.w1e, first.start));
    if (
      !strongCue &&
      (next & W_NOT_PERSON_NEXT || (wordInfo(text, NEXT.start, NEXT.end) & W_ORG && isOrgSuffix(text, NEXT.start, NEXT.end)))
    )
      return Number.NaN;
    // A name followed by a house number is a street named after someone ("Victor Hugo 49").
    if (!strongCue && hasDigit(text, last.rawEnd, last.rawEnd + 8) && HOUSE_NUMBER_AFTER.test(text.slice(last.rawEnd, last.rawEnd + 8)))
      return Number.NaN;
    // A stop word that is also a name ("May", "Will", "My Baby") needs a title or a sure name beside it.
    // ("Dear Fine Mai" is a name: a strong cue and a second word outweigh the stop word.)
    if (!titled && strong === 0 && !(strongCue && len >= 2)) for (let k = i; k <= j; k++) if ((tokens[k] as Token).stop) return Number.NaN;
    const after = text.charCodeAt(last.rawEnd);
    // "Anna:" at the start of a line: a speaker in a transcript; "Anna, can you…": a vocative.
    const speaker =
      PREV.lineStart &&
      after === 58 &&
      (strong > 0 || (weak > 0 && first.flags & NAME_FIRST && !(first.flags & NAME_PLACE))) &&
      strong + weak === len;
    // "Remember me, Mary?", "Don't go to town, Roy!": someone spoken to at the end of a sentence.
    const vocative =
      (PREV.sentenceStart && after === 44 && (next & W_VOCATIVE) !== 0) ||
      (!PREV.sentenceStart && (after === 63 || after === 33) && PREV.w1e > 0 && text.charCodeAt(skipSpaces(text, first.start - 1)) === 44);
    // "Ubul: What a wife.\nNicole: …": a transcript (two lines or more start with a speaker).
    const transcriptSpeaker = PREV.lineStart && after === 58 && len <= 3 && saysSomething(text, last.rawEnd + 1) && speakerLines(text) >= 2;
    // A line that holds only a short name-like run (signature blocks, address labels).
    const wholeLine =
      PREV.lineStart && len >= 2 && len <= 3 && weak === 0 && /^[ \t]*(?:\r?\n|$)/.test(text.slice(last.rawEnd, last.rawEnd + 4));
    const postCue = last.possessive || (next & W_POST_CUE) !== 0 || vocative;
    // "Emmie Ström's Cautionary Tales": what follows a possessive name is its work, not a name.
    const afterPossessive =
      i > 0 && (tokens[i - 1] as Token).possessive && /^[ \t]{1,2}$/.test(text.slice((tokens[i - 1] as Token).rawEnd, first.start));
    if (afterPossessive && strong === 0 && !strongCue) return Number.NaN;
    // "to 91365 Jeff Valleys", "HP8 3PR Ullrich Hill": a street or a town after a number or a postcode.
    if (!strongCue && numberBefore(text, first.start)) return Number.NaN;
    // "Elisabeth Parks", "Inna Loop St": a street named after someone.
    const lastInfo = len >= 2 ? wordInfo(text, last.start, last.end) : 0;
    const firstInfo = len >= 2 ? wordInfo(text, first.start, first.end) : 0;
    if (lastInfo & W_STREET) return Number.NaN;
    // "Czech Republic", "Los Angeles": a place in the gazetteer; "North Ashton", "Bad Korinna": a place name's shape.
    if (firstInfo & W_PLACE_HEAD && isPlaceNameAt(text, first.start, last.end)) return Number.NaN;
    if (!strongCue && firstInfo & W_PLACE_PREFIX) return Number.NaN;
    // "South Mozell", "Bad Korinna" (the prefix is a common word, so not in the run), "Barros do Norte".
    if (!strongCue && w1 & W_PLACE_PREFIX) {
      const ws = wordStart(text, first.start);
      if (ws >= 0 && ws < text.length && charClass(text.charCodeAt(ws)) & C_UPPER) return Number.NaN;
    }
    if (lastInfo & W_DIRECTION) return Number.NaN;
    const sentenceStart = PREV.sentenceStart;
    const words = len - initials;
    if (w1 & W_DET && !strongCue && strong === 0 && !(initials > 0 && words >= 2)) return Number.NaN;

    // Everything added to the base score, known before the base: the language of the text (a
    // regex over it) is only asked when it could change whether the span clears a threshold.
    let adj = 0;
    if (w1 & W_DET && !strongCue && len === 1) adj -= 0.2;
    // "in Berlin", "magazzino di Romina": after a preposition of place, a capitalised word is more likely a place.
    if (w1 & W_PLACE_PREP && !strongCue) adj -= 0.3;
    if (strongCue || speaker || agentCue || transcriptSpeaker) adj += 0.4;
    else if (weakCue) adj += 0.15;
    if (subjectCue && !(first.flags & NAME_PLACE && !(first.flags & NAME_FIRST))) adj += 0.25;
    if (postCue) adj += 0.3;
    if (wholeLine) adj += 0.2;
    const cap = len > 4 ? 0.35 : 1;
    const cueNotGerman = subjectCue || agentCue;

    let score: number;
    if (words >= 2 || (len >= 2 && strong + weak + shaped > 0)) {
      if (strong > 0) score = 0.85;
      // "Tom I. Holzman", "Mijail C Adomo": words around a middle initial.
      else if (initials > 0 && words >= 2 && first.kind !== INITIAL) score = 0.7;
      // A first name then a capitalised word ("Harry Sheppard").
      else if (first.kind === WEAK && first.flags & NAME_FIRST && (!(first.flags & NAME_PLACE) || (len === 2 && shaped > 0))) score = 0.65;
      // "Lennie King": an unknown word, then a surname of the lexicon (in English text).
      else if (len === 2 && first.kind === UNKNOWN && last.kind === WEAK && last.flags & NAME_LAST && !(last.flags & NAME_PLACE))
        score = same(0.55, 0.45, adj, cap, minScore) || !lang.english() ? 0.45 : 0.55;
      else if (weak > 0) score = 0.45;
      // Two or three capitalised words the lexicon does not know: a proper noun, in English text usually a person.
      else {
        const sh = shaped > 0 ? 0.15 : 0;
        score = sentenceStart ? 0.35 + sh : same(0.5 + sh, 0.4 + sh, adj, cap, minScore) || !lang.english() ? 0.4 + sh : 0.5 + sh;
      }
      score = Math.min(score, cap);
    } else {
      const t = initials > 0 ? (tokens[i + (first.kind === INITIAL ? 1 : 0)] as Token) : first;
      if (t.kind === STRONG) {
        // At the start of a sentence in another language, a word of that language ("Vive en...") is doubtful.
        score = sentenceStart
          ? t.flags & NAME_FOREIGN_WORD && (same(0.6, 0.45, adj, cap, minScore) || !lang.english())
            ? 0.45
            : 0.6
          : 0.7;
      } else if (t.kind === WEAK) {
        // London, Madrid, Florence: a place before a name unless a cue says otherwise.
        if (t.flags & NAME_PLACE) score = sentenceStart ? 0.2 : 0.35;
        else score = sentenceStart || (!cueNotGerman && (same(0.45, 0.3, adj, cap, minScore) || lang.german())) ? 0.3 : 0.45;
      } else if (t.shape > 0)
        score = sentenceStart || (!cueNotGerman && (same(0.45, 0.3, adj, cap, minScore) || lang.german())) ? 0.3 : 0.45;
      // In English text, a capitalised word that is neither in the dictionary nor a known name is
      // more often a name, even at the start of a sentence.
      else if (sentenceStart) score = same(0.2, 0.15, adj, cap, minScore) || !lang.english() ? 0.15 : 0.2;
      else score = !cueNotGerman && (same(0.3, 0.1, adj, cap, minScore) || lang.german()) ? 0.1 : 0.3;
    }
    score += adj;
    return score;
  }

  private introduced(text: string, out: Span[]): void {
    INTRO_RE.lastIndex = 0;
    for (let m = INTRO_RE.exec(text); m !== null; m = INTRO_RE.exec(text)) {
      const a = m[1] as string;
      // Capitalised names are handled by the main path; this one catches lower-case writing.
      if (a !== a.toLowerCase()) continue;
      const fa = this.lexicon.get(a);
      if (fa === undefined || STOP_WORDS.has(a)) continue;
      const start = m.index + m[0].length - (m[2] ? m[2].length + 1 + a.length : a.length);
      let end = start + a.length;
      const b = m[2];
      if (b !== undefined && this.lexicon.has(b) && !STOP_WORDS.has(b)) end = start + a.length + 1 + b.length;
      out.push({ entity: 'PERSON', start, end, score: end - start > a.length ? 0.85 : 0.75, recognizer: 'person/introduced' });
    }
  }
}

const PARTICLE_BIT = 1 << 16;

/** The first letter of the text (within its first 8 characters) is a lower-case one. */
function startsLower(text: string): boolean {
  const n = Math.min(text.length, 8);
  for (let i = 0; i < n; i++) {
    const cls = charClass(text.charCodeAt(i));
    if (cls & C_LETTER) return (cls & C_UPPER) === 0;
  }
  return true;
}

function newToken(): Token {
  return {
    start: 0,
    end: 0,
    rawEnd: 0,
    kind: NONE,
    flags: 0,
    possessive: false,
    dot: false,
    stop: false,
    shape: 0,
    particle: false,
    dict: false,
  };
}

function hasDigit(text: string, s: number, e: number): boolean {
  const end = Math.min(e, text.length);
  for (let k = s; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

function isWhite(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** text[s, e) is empty or white space only. */
function isBlank(text: string, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (!isWhite(text.charCodeAt(k))) return false;
  return true;
}

/**
 * Two base scores lead to the same outcome once `adj` is added: both below the scanner's
 * threshold, on the same side of the list rule's 0.1 and of 0. Then the cheaper one is taken and
 * the language of the text (a regex over it) need not be asked.
 */
function same(a: number, b: number, adj: number, cap: number, minScore: number): boolean {
  const fa = Math.min(a, cap) + adj;
  const fb = Math.min(b, cap) + adj;
  return fa < minScore && fb < minScore && fa >= 0.1 === fb >= 0.1 && fa > 0 === fb > 0;
}

/** The word right before `pos` (one space or tab apart) is a number or a code with digits. */
function numberBefore(text: string, pos: number): boolean {
  let p = pos - 1;
  if (p < 0 || !isSpaceOrTab(text.charCodeAt(p))) return false;
  p--;
  let digits = 0;
  while (p >= 0 && p > pos - 12) {
    const c = text.charCodeAt(p);
    if (c >= 48 && c <= 57) digits++;
    else if (!((c >= 65 && c <= 90) || c === 45)) break;
    p--;
  }
  return digits > 0 && (p < 0 || isWhite(text.charCodeAt(p)) || text.charCodeAt(p) === 44);
}

// A speaker, a colon, then words on the same line ("Phone:" alone on its line is a form label).
const SPEAKER_LINE_RE = /(?:^|\n)[ \t>]*\p{Lu}[\p{L}\p{M}'’.-]*(?:[ \t]\p{Lu}[\p{L}\p{M}'’.-]*){0,2}[ \t]?:[ \t]*[^\s]/gu;

/** Something other than white space follows on the same line. */
function saysSomething(text: string, pos: number): boolean {
  let p = pos;
  while (p < text.length && isSpaceOrTab(text.charCodeAt(p))) p++;
  return p < text.length && !isWhite(text.charCodeAt(p));
}

/** Lines of the text that start with a capitalised speaker and a colon (counts up to 2). */
function speakerLines(text: string): number {
  return countUpTo(SPEAKER_LINE_RE, text, 2);
}

/** Between the word before and a name: a comma, colon, dash or semicolon (a new clause starts). */
function isClauseBreak(text: string, s: number, e: number): boolean {
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k);
    if (c === 44 || c === 58 || c === 59 || c === 0x2013 || c === 0x2014) return true;
  }
  return false;
}

/** text[s, e) is a surname particle between spaces (" van ", " de la "). */
function isParticleGap(text: string, s: number, e: number): boolean {
  if (e - s < 3 || e - s > 16 || !isSpaceOrTab(text.charCodeAt(s)) || !isSpaceOrTab(text.charCodeAt(e - 1))) return false;
  return PARTICLE_GAP.test(text.slice(s, e));
}

/** The words before a position, as ranges of the text (filled by previousWords; reused). */
const PREV = {
  w1s: 0,
  w1e: 0,
  w2s: 0,
  w2e: 0,
  /** Word-list bits of the word right before. */
  w1Info: 0,
  sentenceStart: false,
  /** At the start of a line (transcript speakers, signatures). */
  lineStart: false,
  /** Right after a question about a name ("What's your name? X"). */
  nameQuestion: false,
};

const NAME_QUESTION_WORDS = new Set(['name', 'surname', 'nom', 'nombre', 'nome', 'naam', 'nazwisko', 'imię']);

function isSkippedBefore(c: number): boolean {
  // Spaces, quotes and brackets: ' \t"\'“”„«»‘’(['
  return (
    c === 32 ||
    c === 9 ||
    c === 34 ||
    c === 39 ||
    c === 0x201c ||
    c === 0x201d ||
    c === 0x201e ||
    c === 0xab ||
    c === 0xbb ||
    c === 0x2018 ||
    c === 0x2019 ||
    c === 40 ||
    c === 91
  );
}

function isSentenceMark(c: number): boolean {
  // . ! ? \n \r ; • * > |
  return c === 46 || c === 33 || c === 63 || c === 10 || c === 13 || c === 59 || c === 0x2022 || c === 42 || c === 62 || c === 124;
}

/**
 * Fills PREV with the (lowercased) word and the one before it preceding `pos`, and whether `pos`
 * starts a sentence. A comma or colon stays part of the cue ("Dear Maria," / "Name: X").
 */
function previousWords(text: string, pos: number): void {
  PREV.w1s = PREV.w1e = PREV.w2s = PREV.w2e = 0;
  PREV.w1Info = 0;
  PREV.sentenceStart = false;
  PREV.lineStart = false;
  PREV.nameQuestion = false;
  let p = pos - 1;
  while (p >= 0 && isSkippedBefore(text.charCodeAt(p))) p--;
  if (p < 0) {
    PREV.sentenceStart = true;
    PREV.lineStart = true;
    return;
  }
  const c = text.charCodeAt(p);
  if (isSentenceMark(c)) {
    const ws = wordStartBefore(text, p);
    // "Mr. Smith" / "Dr. Who": an abbreviation, not a sentence end.
    if (c === 46) {
      const info = wordInfo(text, ws, p);
      if (info & W_TITLE) {
        PREV.w1s = ws;
        PREV.w1e = p;
        PREV.w1Info = info;
        return;
      }
    }
    PREV.nameQuestion = c === 63 && (wordInfo(text, ws, p) & W_NAME_Q) !== 0;
    PREV.sentenceStart = true;
    PREV.lineStart = c === 10 || c === 13 || c === 62;
    return;
  }
  for (;;) {
    if (p < 0) break;
    const d = text.charCodeAt(p);
    if (d === 44 || d === 58 || d === 59 || d === 0x2013 || d === 45) p--;
    else break;
  }
  p = skipSpaces(text, p);
  const aEnd = p + 1;
  const aStart = wordStartBefore(text, aEnd);
  PREV.w1s = aStart;
  PREV.w1e = aEnd;
  PREV.w1Info = wordInfo(text, aStart, aEnd);
  if (aStart > 0) {
    const bEnd = skipSpaces(text, aStart - 1) + 1;
    PREV.w2s = wordStartBefore(text, bEnd);
    PREV.w2e = bEnd;
  }
}

/** The word before is a strong cue on its own, or with the word before it ("spoke with"). */
function strongCueWord(text: string): boolean {
  const info = PREV.w1Info;
  if (info & W_CUE) return true;
  if (!(info & W_BIGRAM_TAIL)) return false;
  return CUE_BIGRAMS.has(`${text.slice(PREV.w2s, PREV.w2e).toLowerCase()} ${text.slice(PREV.w1s, PREV.w1e).toLowerCase()}`);
}

function skipSpaces(text: string, p: number): number {
  while (p >= 0 && isSpaceOrTab(text.charCodeAt(p))) p--;
  return p;
}

/** Start of the word ending at `end` (exclusive; at most 24 characters back). */
function wordStartBefore(text: string, end: number): number {
  let s = end;
  while (s > 0 && end - s < 24 && isWordChar(text.charCodeAt(s - 1))) s--;
  return s;
}

/** The word after a position (spaces and a comma skipped): start, end with a trailing dot, end without. */
const NEXT = { start: 0, end: 0, bare: 0 };

function nextWord(text: string, pos: number): void {
  let p = pos;
  const len = text.length;
  while (p < len) {
    const c = text.charCodeAt(p);
    if (c === 32 || c === 9 || c === 44) p++;
    else break;
  }
  let e = p;
  while (e < len && e - p < 24) {
    const c = text.charCodeAt(e);
    if (isWordChar(c) || c === 47) e++;
    else break;
  }
  NEXT.start = p;
  NEXT.bare = e;
  NEXT.end = e < len && text.charCodeAt(e) === 46 ? e + 1 : e;
}

function isWordChar(c: number): boolean {
  // Letters of Latin scripts (incl. accents), apostrophe; cheap and allocation-free.
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || c === 39 || c === 0x2019;
}

/** The shipped person recognizer. */
export const personRecognizer = new PersonRecognizer();
