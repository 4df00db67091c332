/**
 * PERSON in free text, without an NLP model: runs of capitalised words are looked up in a name
 * lexicon (first names and surnames of faker's locales), then scored with cues around them:
 * titles (Mr, Frau, Sr., Pani), introducers (Dear, spoke with, my name is, ich heiße), verbs after
 * the name (said, called), sentence position, and determiners that make a capitalised word a noun
 * (der Koch, the Baker). Unknown capitalised words next to a known name (a surname the lexicon
 * lacks) join the name.
 */
import type { Span } from '../types.ts';
import {
  CUE_BIGRAMS,
  CUE_WORDS,
  DETERMINERS,
  defaultNameLexicon,
  isCommonWord,
  isPlaceName,
  NAME_COMMON,
  NAME_FIRST,
  NAME_FOREIGN_WORD,
  NAME_PLACE,
  type NameLexicon,
  NOT_PERSON_NEXT,
  ORG_SUFFIXES,
  PLACE_PREFIXES,
  PLACE_PREPOSITIONS,
  POST_CUE_WORDS,
  STOP_WORDS,
  STREET_WORDS,
  TITLES,
  WEAK_CUE_WORDS,
} from './name-lexicon.ts';
import { F_LETTER, F_UPPER, type Recognizer, type ScanEnv } from './recognizer.ts';

// A capitalised word (letters, marks, inner apostrophes and hyphens), not inside a word, an email
// or a URL; or an initial with its dot.
const TOKEN_RE = /\p{Lu}(?<![\p{L}\p{M}\p{N}_@.'’\-/]\p{Lu})[\p{L}\p{M}'’-]{0,40}(?![\p{L}\p{M}\p{N}_@'’-]|\.\p{L})\.?/gu;

const PARTICLE_GAP =
  /^[ \t](?:van|von|de|der|den|du|da|di|del|della|dello|dos|das|do|le|la|ten|ter|zu|y|e|bin|ibn|al|el|af|av|st\.?)(?:[ \t](?:der|den|de|la|los|las|le|van|het))?[ \t]$/i;
const SPACE_GAP = /^[ \t]{1,3}$/;
const TITLE_GAP = /^\.?(?:ra|ssa|ª)?[ \t]{1,3}$/;

// Lower-case names after an explicit introducer ("my name is nina").
const INTRO_RE =
  /(?<![\p{L}])(?:my name is|name is|name's|i am|i'm|call me|calls me|mein name ist|ich heiße|ich heisse|je m'appelle|je m’appelle|mon nom est|me llamo|mi nombre es|mi chiamo|il mio nome è|mijn naam is|ik heet|nazywam się|mam na imię|me chamo|chamo-me|meu nome é)[ \t]{1,3}(\p{Ll}[\p{Ll}\p{M}'’-]{1,30})(?:[ \t](\p{Ll}[\p{Ll}\p{M}'’-]{1,30}))?/giu;
const INTRO_GATE = /nam|i'm|i am|call|hei|appel|nom|llamo|chiamo|naam|heet|nazyw|imi|chamo/i;

// German capitalises every noun, so a capitalised word mid-sentence says little there.
const GERMAN_HINT = /(?<![\p{L}])(?:der|die|das|und|ist|nicht|mit|ein|eine|hat|wurde|bitte|ich|wir|für|dem|zum|zur|auf)(?![\p{L}])/giu;

const STRONG = 1;
const WEAK = 2;
const UNKNOWN = 3;
const INITIAL = 4;
const TITLE = 5;
const NONE = 6;

interface Run {
  readonly start: number;
  readonly end: number;
  score: number;
}

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
  `ed person people tion tions sion sions ment ments ness ity ities ing ings ance ence ship hood ism ure ures ology ics ful less
  able ible ous ive ives ly ware heit keit ung ungen schaft lich isch ción ciones sión dad mente zione zioni ità ção ções dade
  ologia ología ique isme ité eur eurs teur trice ismo ista ieren ement ements nie anie enie ość heid ijk erij ering`.split(/\s+/),
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

function isNameWord(t: Token): boolean {
  return t.kind === STRONG || t.kind === WEAK || t.kind === INITIAL || t.kind === UNKNOWN;
}

const ENGLISH_HINT =
  /(?<![\p{L}])(?:the|and|is|are|was|to|of|for|with|you|my|your|this|that|have|has|it|on|at|be|will|can|not)(?![\p{L}])/giu;

/** Cheap, lazy guesses at the language of a text (two function words are enough). */
class LanguageHints {
  private en: boolean | undefined;
  private de: boolean | undefined;
  constructor(private readonly text: string) {}
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
  while (n < max && re.exec(text) !== null) n++;
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
  private readonly memo = new Map<string, number>();

  constructor(opts: PersonRecognizerOptions = {}) {
    this.lexicon = opts.lexicon ?? defaultNameLexicon();
  }

  analyze(text: string, env: ScanEnv, out: Span[]): void {
    if (env.features & F_UPPER) this.capitalised(text, out);
    if (INTRO_GATE.test(text)) this.introduced(text, out);
  }

  /**
   * A word's kind, stop-word bit (16), shape (32 surname-like, 64 word-like) and lexicon flags
   * (<< 8), packed in a number and memoised: the same capitalised words recur in every row.
   */
  private classify(core: string): number {
    let v = this.memo.get(core);
    if (v === undefined) {
      v = this.classifyUncached(core);
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

  private tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    TOKEN_RE.lastIndex = 0;
    for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
      const raw = m[0];
      const start = m.index;
      const dotted = raw.charCodeAt(raw.length - 1) === 46;
      let core = dotted ? raw.slice(0, -1) : raw;
      let possessive = false;
      const last = core.charCodeAt(core.length - 1);
      if (
        core.length > 3 &&
        (last === 39 ||
          last === 0x2019 ||
          ((last === 115 || last === 83) && (core.charCodeAt(core.length - 2) === 39 || core.charCodeAt(core.length - 2) === 0x2019)))
      ) {
        core = core.slice(0, last === 39 || last === 0x2019 ? -1 : -2);
        possessive = true;
      }
      if (core.endsWith('-')) core = core.slice(0, -1);
      if (core.length === 0) continue;
      const packed = this.classify(core);
      let kind = packed & 15;
      // A lone capital letter is an initial only when written as one ("J." or "J Smith"); "I" is a pronoun.
      if (kind === INITIAL && ((!dotted && text[start + 1] !== ' ') || (raw === 'I' && text[start + 1] !== '.'))) kind = NONE;
      tokens.push({
        start,
        end: start + core.length,
        rawEnd: start + raw.length,
        kind,
        flags: packed >> 8,
        possessive,
        dot: dotted && kind !== INITIAL,
        stop: (packed & 16) !== 0,
        shape: packed & 32 ? 1 : 0,
        particle: CAPITAL_PARTICLES.has(core),
        dict: (packed & 128) !== 0,
      });
    }
    return tokens;
  }

  private capitalised(text: string, out: Span[]): void {
    const tokens = this.tokenize(text);
    if (tokens.length === 0) return;
    const lang = new LanguageHints(text);
    const runs: Run[] = [];

    let i = 0;
    while (i < tokens.length) {
      // A run: consecutive name-capable tokens joined by spaces (or particles: Maria da Silva).
      const t0 = tokens[i] as Token;
      if (t0.kind === NONE && t0.dict) {
        const prev = previousWords(text, t0.start);
        if (prev.nameQuestion || CUE_WORDS.has(prev.w1) || CUE_BIGRAMS.has(`${prev.w2} ${prev.w1}`)) t0.kind = UNKNOWN;
      }
      if (t0.kind === NONE) {
        i++;
        continue;
      }
      let titled = false;
      if (t0.kind === TITLE) {
        // The title cues the words after it; the title itself is not part of the name.
        const next = tokens[i + 1];
        if (next && next.kind === NONE && next.dict) next.kind = UNKNOWN;
        if (!next || !TITLE_GAP.test(text.slice(t0.end, next.start)) || next.kind === NONE || next.kind === TITLE) {
          i++;
          continue;
        }
        titled = true;
        i++;
      }
      let j = i;
      while (j + 1 < tokens.length) {
        const a = tokens[j] as Token;
        const b = tokens[j + 1] as Token;
        if (a.possessive || a.dot || b.kind === TITLE) break;
        // "Ambrosiano Di Domenico", "Jacobus Van der Berg": a particle joins two name words.
        if (
          b.particle &&
          j + 2 < tokens.length &&
          (tokens[j + 2] as Token).kind !== NONE &&
          SPACE_GAP.test(text.slice(b.rawEnd, (tokens[j + 2] as Token).start))
        ) {
          b.kind = INITIAL;
        }
        // "Emma Stone", "Tom Baker": a dictionary word right after a first name is a surname.
        if (
          b.kind === NONE &&
          b.dict &&
          (a.kind === STRONG || a.kind === WEAK) &&
          a.flags & NAME_FIRST &&
          SPACE_GAP.test(text.slice(a.rawEnd, b.start))
        )
          b.kind = UNKNOWN;
        if (b.kind === NONE) break;
        const gap = text.slice(a.rawEnd, b.start);
        if (
          !(
            SPACE_GAP.test(gap) ||
            (a.rawEnd === a.end && PARTICLE_GAP.test(gap)) ||
            (a.kind === INITIAL && gap.length <= 2 && gap.trim() === '')
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
      const run = this.scoreRun(text, tokens, s0, j, titled, lang);
      if (run) runs.push(run);
      i = j + 1;
    }

    // Lists of names ("Kónya, Becker and Vasquez"): a doubtful member of a list that holds a
    // sure name is a name too.
    for (let k = 0; k < runs.length; k++) {
      const r = runs[k] as Run;
      if (r.score >= 0.5 || r.score < 0.1) continue;
      const left = runs[k - 1];
      const right = runs[k + 1];
      if (
        (left && left.score >= 0.6 && LIST_GAP.test(text.slice(left.end, r.start))) ||
        (right && right.score >= 0.6 && LIST_GAP.test(text.slice(r.end, right.start)))
      ) {
        r.score = 0.6;
      }
    }
    for (const r of runs) {
      if (r.score > 0)
        out.push({ entity: 'PERSON', start: r.start, end: r.end, score: Math.min(1, r.score), recognizer: 'person/lexicon' });
    }
  }

  private scoreRun(text: string, tokens: Token[], i: number, j: number, titled: boolean, lang: LanguageHints): Run | undefined {
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
    if (initials === len) return undefined;
    const first = tokens[i] as Token;
    const last = tokens[j] as Token;

    const prev = previousWords(text, first.start);
    const w1 = prev.w1;
    const strongCue = titled || prev.nameQuestion || CUE_WORDS.has(w1) || CUE_BIGRAMS.has(`${prev.w2} ${w1}`);
    const weakCue = !strongCue && WEAK_CUE_WORDS.has(w1);
    const nextRaw = nextWord(text, last.rawEnd);
    const next = nextRaw.toLowerCase().replace(/\.$/, '');
    if ((NOT_PERSON_NEXT.has(next) || ORG_SUFFIXES.has(nextRaw)) && !strongCue) return undefined;
    // A name followed by a house number is a street named after someone ("Victor Hugo 49").
    if (HOUSE_NUMBER_AFTER.test(text.slice(last.rawEnd, last.rawEnd + 8)) && !strongCue) return undefined;
    // A stop word that is also a name ("May", "Will", "My Baby") needs a title or a sure name beside it.
    if (!titled && strong === 0) for (let k = i; k <= j; k++) if ((tokens[k] as Token).stop) return undefined;
    const after = text[last.rawEnd];
    // "Anna:" at the start of a line: a speaker in a transcript; "Anna, can you…": a vocative.
    const speaker = prev.lineStart && after === ':' && weak === 0 && strong > 0;
    const vocative = prev.sentenceStart && after === ',' && VOCATIVE_NEXT.has(next);
    // A line that holds only a short name-like run (signature blocks, address labels).
    const wholeLine =
      prev.lineStart && len >= 2 && len <= 3 && weak === 0 && /^[ \t]*(?:\r?\n|$)/.test(text.slice(last.rawEnd, last.rawEnd + 4));
    const postCue = last.possessive || POST_CUE_WORDS.has(next) || vocative;
    // "Emmie Ström's Cautionary Tales": what follows a possessive name is its work, not a name.
    const afterPossessive =
      i > 0 && (tokens[i - 1] as Token).possessive && /^[ \t]{1,2}$/.test(text.slice((tokens[i - 1] as Token).rawEnd, first.start));
    if (afterPossessive && strong === 0 && !strongCue) return undefined;
    // "Elisabeth Parks", "Inna Loop St": a street named after someone.
    if (len >= 2 && STREET_WORDS.has(text.slice(last.start, last.end).toLowerCase())) return undefined;
    // "Czech Republic", "Los Angeles": a place in the gazetteer; "North Ashton", "Bad Korinna": a place name's shape.
    if (len >= 2 && isPlaceName(text.slice(first.start, last.end))) return undefined;
    if (len >= 2 && !strongCue && PLACE_PREFIXES.has(text.slice(first.start, first.end).toLowerCase())) return undefined;
    // "South Mozell", "Bad Korinna" (the prefix is a common word, so not in the run), "Barros do Norte".
    if (!strongCue && PLACE_PREFIXES.has(w1) && /\p{Lu}/u.test(text[wordStart(text, first.start)] ?? '')) return undefined;
    if (len >= 2 && DIRECTIONS.has(text.slice(last.start, last.end).toLowerCase())) return undefined;
    const sentenceStart = prev.sentenceStart;

    let score: number;
    const words = len - initials;
    if (words >= 2 || (len >= 2 && strong + weak + shaped > 0)) {
      if (strong > 0) score = 0.85;
      // "Tom I. Holzman", "Mijail C Adomo": words around a middle initial.
      else if (initials > 0 && words >= 2 && first.kind !== INITIAL) score = 0.7;
      // A first name then a capitalised word ("Harry Sheppard").
      else if (first.kind === WEAK && first.flags & NAME_FIRST && !(first.flags & NAME_PLACE)) score = 0.65;
      else if (weak > 0) score = 0.45;
      // Two or three capitalised words the lexicon does not know: a proper noun, in English text usually a person.
      else score = (sentenceStart ? 0.35 : lang.english() ? 0.5 : 0.4) + (shaped > 0 ? 0.15 : 0);
      if (len > 4) score = Math.min(score, 0.35);
    } else {
      const t = initials > 0 ? (tokens[i + (first.kind === INITIAL ? 1 : 0)] as Token) : first;
      if (t.kind === STRONG) {
        // At the start of a sentence in another language, a word of that language ("Vive en...") is doubtful.
        score = sentenceStart ? (t.flags & NAME_FOREIGN_WORD && !lang.english() ? 0.45 : 0.6) : 0.7;
      } else if (t.kind === WEAK) {
        // London, Madrid, Florence: a place before a name unless a cue says otherwise.
        if (t.flags & NAME_PLACE) score = sentenceStart ? 0.2 : 0.35;
        else score = sentenceStart || lang.german() ? 0.3 : 0.45;
      } else if (t.shape > 0) score = sentenceStart || lang.german() ? 0.3 : 0.45;
      else score = sentenceStart ? 0.15 : lang.german() ? 0.1 : 0.3;
    }
    if (DETERMINERS.has(w1) && !strongCue) {
      if (strong === 0 && !(initials > 0 && words >= 2)) return undefined;
      if (len === 1) score -= 0.2;
    }
    // "in Berlin", "magazzino di Romina": after a preposition of place, a capitalised word is more likely a place.
    if (PLACE_PREPOSITIONS.has(w1) && !strongCue) score -= 0.3;
    if (strongCue || speaker) score += 0.4;
    else if (weakCue) score += 0.15;
    if (postCue) score += 0.3;
    if (wholeLine) score += 0.2;
    return { start: first.start, end: last.end, score };
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

interface Preceding {
  readonly w1: string;
  readonly w2: string;
  readonly sentenceStart: boolean;
  /** At the start of a line (transcript speakers, signatures). */
  readonly lineStart: boolean;
  /** Right after a question about a name ("What's your name? X"). */
  readonly nameQuestion: boolean;
}

const NAME_QUESTION_WORDS = new Set(['name', 'surname', 'nom', 'nombre', 'nome', 'naam', 'nazwisko', 'imię']);

/** The lowercased word (and the one before) preceding `pos`, and whether `pos` starts a sentence. */
function previousWords(text: string, pos: number): Preceding {
  let p = pos - 1;
  // Skip spaces, quotes and brackets; a comma or colon stays part of the cue ("Dear Maria," / "Name: X").
  while (p >= 0 && ' \t"\'“”„«»‘’(['.includes(text[p] as string)) p--;
  if (p < 0) return { w1: '', w2: '', sentenceStart: true, lineStart: true, nameQuestion: false };
  const c = text[p] as string;
  if ('.!?\n\r;•*>|'.includes(c)) {
    // "Mr. Smith" / "Dr. Who": an abbreviation, not a sentence end.
    if (c === '.') {
      const w = wordBefore(text, p);
      if (TITLES.has(w.word)) return { w1: w.word, w2: '', sentenceStart: false, lineStart: false, nameQuestion: false };
    }
    const nameQuestion = c === '?' && NAME_QUESTION_WORDS.has(wordBefore(text, p).word);
    return { w1: '', w2: '', sentenceStart: true, lineStart: c === '\n' || c === '\r' || c === '>', nameQuestion };
  }
  while (p >= 0 && ',:;–-'.includes(text[p] as string)) p--;
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
  const a = wordBefore(text, p + 1);
  const b = a.start > 0 ? wordBefore(text, skipSpaces(text, a.start - 1) + 1) : { word: '', start: 0 };
  return { w1: a.word, w2: b.word, sentenceStart: false, lineStart: false, nameQuestion: false };
}

function skipSpaces(text: string, p: number): number {
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
  return p;
}

/** The word ending at `end` (exclusive), lowercased. */
function wordBefore(text: string, end: number): { word: string; start: number } {
  let s = end;
  while (s > 0 && end - s < 24 && isWordChar(text.charCodeAt(s - 1))) s--;
  return { word: text.slice(s, end).toLowerCase(), start: s };
}

/** The word after `pos` as written (spaces and a comma skipped, a trailing dot kept). */
function nextWord(text: string, pos: number): string {
  let p = pos;
  while (p < text.length && (text[p] === ' ' || text[p] === '\t' || text[p] === ',')) p++;
  let e = p;
  while (e < text.length && e - p < 24 && (isWordChar(text.charCodeAt(e)) || text[e] === '/')) e++;
  if (text[e] === '.') e++;
  return text.slice(p, e);
}

function isWordChar(c: number): boolean {
  // Letters of Latin scripts (incl. accents), apostrophe; cheap and allocation-free.
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || c === 39 || c === 0x2019;
}

/** The shipped person recognizer. */
export const personRecognizer = new PersonRecognizer();
