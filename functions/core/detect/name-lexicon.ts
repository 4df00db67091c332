/**
 * The name lexicon: ~32k first-name and surname tokens of faker's locales (generated into
 * name-lexicon-data.ts by bench/eval/build-name-lexicon.ts), with flags for names that are also
 * common words or place names, plus curated stop words of the eight supported languages.
 */

import { bloomHashes } from './bloom-hash.ts';
import { COMMON_WORDS_BLOOM } from './common-words-data.ts';
import { NAME_LEXICON_DATA } from './name-lexicon-data.ts';
import { PLACE_NAMES_DATA } from './place-names-data.ts';
import { WordTable } from './word-table.ts';

export const NAME_FIRST = 1;
export const NAME_LAST = 2;
export const NAME_COMMON = 4;
export const NAME_PLACE = 8;
/** Also a word in the French, Spanish, Italian, Dutch, Polish or Portuguese word lists. */
export const NAME_FOREIGN_WORD = 16;

/** Lowercased name token → flags. */
export type NameLexicon = ReadonlyMap<string, number>;

let cached: Map<string, number> | undefined;

/** The shipped lexicon, parsed once (~10 ms). */
export function defaultNameLexicon(): NameLexicon {
  if (!cached) {
    const m = new Map<string, number>();
    for (const entry of NAME_LEXICON_DATA.split('|')) {
      m.set(entry.slice(0, -1), Number.parseInt(entry.slice(-1), 32));
    }
    for (const w of STOP_WORDS) {
      const f = m.get(w);
      if (f !== undefined) m.set(w, f | NAME_COMMON);
    }
    cached = m;
  }
  return cached;
}

/** A copy of the lexicon without some names (the evaluation's hold-out split). */
export function lexiconWithout(lexicon: NameLexicon, exclude: (name: string) => boolean): NameLexicon {
  const m = new Map<string, number>();
  for (const [k, v] of lexicon) if (!exclude(k)) m.set(k, v);
  return m;
}

const words = (s: string): string[] => s.trim().split(/\s+/);

/**
 * Words that are never a name on their own, in the eight languages: function words, sentence
 * starters, greetings, weekdays and months, and the nouns of customer-service notes. A name that
 * is also one of them (May, Will, Mark) needs a second name token or a cue.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  // English
  ...words(`the a an and or but if then so because as at by for from in into of off on onto out over to up with without
  about after before during since until while i me my mine we us our ours you your yours he him his she her hers it its they
  them their theirs this that these those there here what which who whom whose when where why how all any both each few more
  most other some such no nor not only own same than too very can could will would shall should may might must now please
  thanks thank hello hi hey dear regards best kind yes ok okay sir madam mister miss customer customers client clients team
  support service services department manager agent staff user member account order orders invoice payment delivery shipping
  package parcel product item items refund return returns request issue problem note notes update call called email mail phone
  today tomorrow yesterday tonight monday tuesday wednesday thursday friday saturday sunday january february march april june
  july august september october november december mon tue wed thu fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec
  morning afternoon evening night week month year also again still however therefore meanwhile although unfortunately sadly
  hopefully finally first second third next last new old good great much many every following regarding re fw fwd subject
  attn attention ref reference ticket case status pending closed open resolved urgent important vip premium gold silver bronze
  standard basic plus pro free trial test tests internal external name names address city country street road avenue
  customer's client's company business office home work help thank you they're we're i'm i've i'll it's that's there's let
  just well sure great perfect fine nice sorry apologies welcome hope wish note see ask asked told said says tell let's
  mr mrs ms dr prof jr sr phd md apt suite unit flat room floor box po personal info information details`),
  // German
  ...words(`der die das den dem des ein eine einen einem einer eines und oder aber wenn dann weil als am an auf aus bei bis
  durch für gegen im ins mit nach ohne seit über um unter von vor zu zum zur ich du er sie es wir ihr mein meine dein sein
  seine unser unsere euer ihre dieser diese dieses jener welche wer was wann wo warum wie alle jeder jede kein keine nicht nur
  auch noch schon sehr bitte danke hallo guten tag morgen abend kunde kundin kunden team service bestellung rechnung lieferung
  zahlung paket artikel anfrage problem rückruf termin heute gestern montag dienstag mittwoch donnerstag freitag samstag
  sonntag januar februar märz mai juni juli oktober dezember grüße gruß freundlichen viele liebe lieber sehr geehrte
  geehrter damen herren leider vielen dank hinweis notiz anruf nachricht frage antwort konto vertrag adresse straße`),
  // French
  ...words(`le la les un une des du de au aux et ou mais donc car si alors je tu il elle on nous vous ils elles mon ma mes
  ton ta tes son sa ses notre votre leur ce cette ces qui que quoi où quand comment pourquoi tout tous toute toutes pas ne
  plus très merci bonjour bonsoir salut cher chère madame monsieur mademoiselle client cliente équipe service commande facture
  livraison paiement colis produit demande problème rappel rendez-vous aujourd'hui hier demain lundi mardi mercredi jeudi
  vendredi samedi dimanche janvier février mars avril juin juillet août septembre octobre novembre décembre cordialement
  appel message question réponse compte contrat adresse rue`),
  // Spanish
  ...words(`el los las unos unas y o pero entonces yo tú él ella nosotros vosotros ellos ellas mi mis tu tus su sus nuestro
  este esta estos estas ese esa qué quién cuándo dónde cómo por para con sin sobre entre desde hasta todo todos muy gracias
  hola buenos buenas días tardes señor señora señorita cliente equipo servicio pedido factura entrega pago paquete producto
  solicitud problema llamada hoy ayer mañana lunes martes miércoles jueves viernes sábado domingo enero febrero marzo abril
  mayo junio julio agosto septiembre octubre noviembre diciembre saludos atentamente mensaje pregunta respuesta cuenta
  contrato dirección calle`),
  // Italian
  ...words(`il lo gli le uno una e ma se allora io lui lei noi voi loro mio mia miei mie tuo sua suo nostro questo questa
  quello quella che chi quando dove come perché per con senza su tra fra da di del della tutto tutti molto grazie ciao
  buongiorno buonasera signore signora signorina cliente squadra servizio ordine fattura consegna pagamento pacco prodotto
  richiesta problema chiamata oggi ieri domani lunedì martedì mercoledì giovedì venerdì sabato domenica gennaio febbraio
  aprile maggio giugno luglio settembre ottobre dicembre saluti cordiali messaggio domanda risposta conto contratto indirizzo`),
  // Dutch
  ...words(`het een en of maar als dan ik jij je hij zij ze wij we jullie mijn jouw zijn haar ons onze hun dit dat deze die
  wie wat wanneer waar waarom hoe voor met zonder op uit van naar bij tot alle niet ook nog zeer heel bedankt dank hallo
  goedemorgen goedemiddag meneer mevrouw klant team dienst bestelling factuur levering betaling pakket aanvraag probleem
  gesprek vandaag gisteren maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart mei augustus
  groeten vriendelijke bericht vraag antwoord rekening contract adres straat`),
  // Polish
  ...words(`i a ale lub albo jeśli to ja ty on ona ono my wy oni one mój moja moje twój twoja jego jej nasz nasza wasz ich
  ten ta te tamten kto co kiedy gdzie jak dlaczego w we z ze na do od po przez przy dla bez o u nad pod wszystko wszyscy
  bardzo dziękuję dzień dobry cześć pan pani panie klient klientka zespół obsługa zamówienie faktura dostawa płatność
  paczka produkt prośba rozmowa dzisiaj dziś wczoraj jutro poniedziałek wtorek środa czwartek piątek sobota niedziela
  styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień pozdrawiam
  pozdrowienia wiadomość pytanie odpowiedź konto umowa adres ulica`),
  // Portuguese
  ...words(`o os as um uma uns umas e ou mas se então eu ele ela nós eles elas meu minha meus minhas teu tua seu sua nosso
  nossa esse essa isso aquele que quem quando onde como porque por para com sem sobre entre desde até todo todos muito
  obrigado obrigada olá bom boa dia tarde noite senhor senhora cliente equipe equipa serviço pedido encomenda fatura entrega
  pagamento pacote produto problema chamada hoje ontem amanhã segunda terça quarta quinta sexta sábado janeiro fevereiro
  março maio junho julho setembro outubro novembro dezembro atenciosamente cumprimentos mensagem pergunta resposta conta
  contrato endereço rua`),
]);

/** Titles before a name (the name follows, the title is not part of the span). */
export const TITLES: ReadonlySet<string> = new Set(
  words(`mr mrs ms miss mx dr prof sir dame lord lady herr frau fräulein hr dipl ing mme mlle monsieur madame mademoiselle me
  sr sra srta señor señora señorita don doña dña sig sigra signor signora signorina dott dottssa avv dhr mevr mw mej meneer
  mevrouw pan pani panna senhor senhora dona drª eng`),
);

/** One word right before a name that introduces it. */
export const CUE_WORDS: ReadonlySet<string> = new Set(
  words(`dear hi hello hey thanks greetings attn attention called named spoke contact customer client patient caller agent i'm
  signed liebe lieber hallo servus geehrte geehrter kunde kundin patientin cher chère bonjour salut cliente estimado
  estimada querido querida hola paciente gentile caro cara egregio ciao paziente beste geachte hoi klant patiënt drogi
  droga szanowny szanowna klient klientka pacjent prezado prezada olá oi regards cheers sincerely name surname firstname
  lastname fullname vorname nachname nom prénom nombre apellido nome cognome naam voornaam achternaam imię nazwisko sobrenome
  beneficiary holder cardholder recipient signed user says said asked told replied starring featuring feat guardian
  kid kids son daughter wife husband partner brother sister mother father mom mum dad child grandson granddaughter grandmother
  grandfather friend colleague boss nephew niece uncle aunt cousin fiancé fiancée sohn tochter ehefrau ehemann bruder
  schwester mutter vater kind kollege kollegin chef fils fille femme mari frère sœur mère père enfant collègue hijo hija esposa
  esposo marido hermano hermana madre padre niño compañero figlio figlia moglie marito fratello sorella madre padre bambino
  collega zoon dochter echtgenote broer zus moeder vader kind collega syn córka żona mąż brat siostra matka ojciec dziecko
  kolega koleżanka filho filha irmão irmã mãe pai criança colega`),
);

/** Prepositions before a name: weaker evidence ("with Anna", but also "with Amazon"). */
export const WEAK_CUE_WORDS: ReadonlySet<string> = new Set(words('with from by to cc von mit an avec par à con a met naar z do com para'));

/** Two words right before a name that introduce it (space-joined). */
export const CUE_BIGRAMS: ReadonlySet<string> = new Set([
  'spoke with',
  'spoke to',
  'talked to',
  'talked with',
  'speak to',
  'speak with',
  'name is',
  "name's",
  'i am',
  "i'm",
  'this is',
  'call me',
  'calls me',
  'ask for',
  'asked for',
  'contact person',
  'on behalf',
  'behalf of',
  'assigned to',
  'from mr',
  'regards from',
  'gesprochen mit',
  'telefoniert mit',
  'telefonat mit',
  'gespräch mit',
  'anruf von',
  'rückruf an',
  'name ist',
  'ich bin',
  'ich heiße',
  'ich heisse',
  'heißt',
  'parlé avec',
  "m'appelle",
  "s'appelle",
  'nom est',
  'je suis',
  'hablé con',
  'habló con',
  'me llamo',
  'se llama',
  'nombre es',
  'parlato con',
  'mi chiamo',
  'si chiama',
  'nome è',
  'gesproken met',
  'naam is',
  'ik ben',
  'rozmawiałem z',
  'rozmawiałam z',
  'rozmowa z',
  'nazywam się',
  'na imię',
  'falei com',
  'me chamo',
  'nome é',
  'chamo-me',
  'named him',
  'named her',
  'call him',
  'call her',
  'called him',
  'called her',
  'best regards',
  'kind regards',
  'viele grüße',
  'freundlichen grüßen',
  'saludos cordiales',
  'cordiali saluti',
  'met vriendelijke',
  'vriendelijke groet',
  'z poważaniem',
]);

/** One word right after a name that confirms it ("Maria called"). */
export const POST_CUE_WORDS: ReadonlySet<string> = new Set(
  words(`said says called calls rang phoned asked wrote writes mentioned requested complained confirmed replied explained
  emailed reported agreed wants needs shouted yelled answered told lives lived works worked spent listed joined visited
  married smiled laughed thinks thought feels felt began begins started studied graduated sang sings played plays directed
  founded flew went came left arrived moved died sagte sagt rief ruft schrieb schreibt fragte fragt meldete bat dijo llamó preguntó
  escribió pidió confirmó disse chiamato chiesto scritto zei belde vroeg schreef meldde powiedział powiedziała dzwonił
  dzwoniła zapytał zapytała napisał napisała ligou perguntou escreveu pediu confirmou`),
);

/** A word right before a capitalised word that makes it a common noun (German nouns, "the Baker"). */
export const DETERMINERS: ReadonlySet<string> = new Set(
  words(`the a an this that these those every each some any no our their its der die das den dem des ein eine einen einem
  einer eines kein keine keinen dieser diese dieses diesen jeder jede jedes zum zur vom beim im les une du des au aux ce
  cette ces el los las unos unas este esta estos estas il lo gli uno una nel nella al allo alla dal dalla het een deze dit
  um uma uns umas`),
);

/** Words right after capitalised words that make them an organisation or a street, not a person. */
export const NOT_PERSON_NEXT: ReadonlySet<string> = new Set(
  words(`gmbh ltd limited inc llc llp plc corp corporation company sarl srl spa group holding holdings bank systems software
  technologies technology consulting insurance partners associates foundation university school hospital clinic orchestra
  band street road avenue lane drive boulevard blvd square straße strasse str weg gasse platz allee ring rue avenida calle
  via viale piazza corso straat laan plein gracht ulica rua travessa praça`),
);

/** Short organisation suffixes, matched as written (AS, AB, SA are words in other contexts). */
export const ORG_SUFFIXES: ReadonlySet<string> = new Set(
  words(
    'AG KG OHG UG GmbH Ltd Ltd. Inc Inc. LLC LLP PLC Corp Co Co. SA S.A. SAS SARL Srl SpA S.p.A. BV B.V. NV N.V. Oy AB AS ASA A/S St St. Rd Rd. Ave Ave.',
  ),
);

/** Street types that end a street name ("Baker Street", "Inna Loop St"): such a run is no person. */
export const STREET_WORDS: ReadonlySet<string> = new Set(
  words(`street st str road rd avenue ave lane ln drive dr boulevard blvd court ct place pl square sq terrace way close crescent
  grove gardens parade highway hwy parkway pkwy circle trail row mews walk alley plaza loop path pike bypass causeway
  expressway freeway turnpike esplanade embankment rise vale heights meadows ridge hollow crossing junction landing harbor
  harbour wharf quay estate fields passage run spur strand wynd brae knoll knolls coves cove radial stravenue manor manors mall
  villages station summit track vista wells glen gateway forge forges fords falls extension extensions creek course corners
  cliffs branch brooks burg camp canyon cape dale divide estates flats garden haven inlet island isle key lakes lights lock
  lodge mills mission motorway mount mountain neck orchard oval overpass pass parks pines plain plains port prairie ramp
  ranch rapid rapids rest river roads route shoal shore shores skyway spring springs squares stream streets throughway trace
  trafficway tunnel underpass union valley viaduct views greens forks crossroad straße strasse weg gasse platz allee`),
);

let places: Set<string> | undefined;

/** True when the text (any case) is a country, state or city name of the gazetteer. */
export function isPlaceName(text: string): boolean {
  places ??= new Set(PLACE_NAMES_DATA.split('|'));
  return places.has(text.toLowerCase().replace(/\s+/g, ' '));
}

let placeTable: WordTable | undefined;

/** First words of the gazetteer's place names of several words ("los" of "los angeles"). */
export function placeHeads(): Set<string> {
  const heads = new Set<string>();
  for (const p of PLACE_NAMES_DATA.split('|')) {
    const sp = p.search(/\s/);
    if (sp > 0) heads.add(p.slice(0, sp));
  }
  return heads;
}

/** isPlaceName(text.slice(start, end)) without slicing when the words are single-spaced. */
export function isPlaceNameAt(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // Tabs, line breaks, runs of spaces: normalise the slow way.
    if (
      (c === 32 && (i === start || i + 1 === end || text.charCodeAt(i + 1) === 32)) ||
      (c !== 32 && c <= 32) ||
      c === 0xa0 ||
      (c >= 0x2000 && c <= 0x3000)
    ) {
      return isPlaceName(text.slice(start, end));
    }
  }
  if (!placeTable) {
    placeTable = new WordTable(true, 20_000);
    for (const p of PLACE_NAMES_DATA.split('|')) placeTable.set(p, 1);
  }
  return placeTable.get(text, start, end) >= 0;
}

let bloomBits: Uint8Array | undefined;

/** True when the lowercased word is (probably: ~1% false positives) a common English or German word. */
export function isCommonWord(lower: string): boolean {
  bloomBits ??= new Uint8Array(Buffer.from(COMMON_WORDS_BLOOM.bits, 'base64'));
  const { m, k } = COMMON_WORDS_BLOOM;
  const [h1, h2] = bloomHashes(lower);
  for (let i = 0; i < k; i++) {
    const b = (h1 + i * h2) % m;
    if (((bloomBits[b >>> 3] as number) & (1 << (b & 7))) === 0) return false;
  }
  return true;
}

/** First words of place names ("North Ashton", "Bad Korinna", "San Elettra", "Porto Alegre"). */
export const PLACE_PREFIXES: ReadonlySet<string> = new Set(
  words(`north south east west new old port fort lake mount saint st san santa santo são sankt bad nord süd sud ost west groß
  gross klein alt neu ober unter nieder borgo castel castello castelnuovo villa villanova porto quarto quinto sesto settimo
  lower upper great little high east west upper nowa nowy stary stara wielki wielka mała mały vila vale ponte monte
  campo praia rio lago puerto`),
);

/** A word before a capitalised word that makes it a place: "in Berlin", "magazzino di Romina". */
export const PLACE_PREPOSITIONS: ReadonlySet<string> = new Set(words('in im nach aus en au di nel nella w we em no na naar uit te'));
