/**
 * What a column header says, in the eight supported languages. Headers are split into lowercase
 * ASCII words (accents folded, camelCase and separators split): `Kundennummer` → `kundennummer`,
 * `customerEmail` → `customer email`. A hint names an entity and how sure the header alone is.
 */
import type { EntityType } from '../types.ts';

export interface HeaderHint {
  readonly entity: EntityType;
  /** 0..1: how sure the header alone is. */
  readonly confidence: number;
}

/** Header words, lowercased and folded to ASCII, plus the words joined. */
export function headerWords(header: string): { words: readonly string[]; joined: string } {
  const folded = header
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/ł/g, 'l')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  const words = folded.split(/[^a-z0-9]+/).filter((w) => w.length > 0);
  return { words, joined: words.join('') };
}

const set = (s: string): ReadonlySet<string> => new Set(s.trim().split(/\s+/));

/** Words that make a header about something else than the value itself (flags, counts, dates...). */
const META_WORDS = set(`opt optin optout in out consent consented verified valid validated confirmed subscribed unsubscribed bounced
  sent opened clicked count counts flag is has status type kind domain template format preference preferences frequency
  enabled disabled allowed permission marketing newsletter ok bool hash hashed md5 sha sha256 length len provider prefix
  changed updated created at date time timestamp ts last4 masked brand expiry exp expires cvv cvc network issuer bin`);

/** Words of things that have names or numbers but are not people. */
const THING_WORDS = set(`product products item items sku article artikel articulo articolo artikel produit producto prodotto
  produkt company firma entreprise empresa azienda bedrijf firmy file filename city town ciudad ville citta stadt stad miasto
  cidade country land pays pais paese kraj bank brand category categoria kategorie categorie org organisation
  organization business host hostname domain server app application table column field event campaign plan tier project
  team store shop merchant vendor supplier lieferant fournisseur proveedor fornitore leverancier dostawca fornecedor
  order orders bestellung commande pedido ordine bestelling zamowienie encomenda invoice rechnung facture factura fattura
  factuur faktura fatura transaction txn payment session request ticket case shipment tracking batch lot device model
  warehouse location region department abteilung service contract vertrag policy account_type job role title`);

const PERSON_WORDS = set(`customer customers cust client clients user users member members patient patients employee employees
  emp staff person people subject contact student passenger guest subscriber holder cardholder owner recipient buyer
  kunde kunden kundin mitglied mitglieds mitarbeiter patientin patienten versicherte versicherten personal
  utilisateur membre abonne salarie employe usuario socio miembro empleado paciente utente cliente socio dipendente
  paziente iscritto klant lid leden werknemer medewerker klient klienta klienci uzytkownik czlonek pracownik pacjent
  funcionario associado paciente titular`);

const ID_WORDS = set(`id ids no nr num number numbers numero nummer code codigo codice kod ref reference key identifier
  identifiant identificador identificativo identificatie identyfikator`);

const NAME_WORDS = set(`name names fullname firstname lastname surname forename givenname familyname middlename nachname vorname
  nom prenom nombre nombres apellido apellidos cognome nome nomi voornaam achternaam naam imie nazwisko sobrenome
  displayname contactname`);

function has(words: readonly string[], s: ReadonlySet<string>): boolean {
  for (const w of words) if (s.has(w)) return true;
  return false;
}

function any(words: readonly string[], ...list: string[]): boolean {
  for (const w of words) if (list.includes(w)) return true;
  return false;
}

/**
 * The entity a header names, if any. Meta words (opt_in, verified, type, date...) make a header
 * about a property of the value, not the value: `email_opt_in` is not an email column.
 */
export function headerHint(header: string): HeaderHint | undefined {
  const { words, joined } = headerWords(header);
  if (words.length === 0) return undefined;
  const meta = has(words, META_WORDS);
  const thing = has(words, THING_WORDS);

  // Birth dates: the only dates that are personal data.
  if (
    /(^|[^a-z])dob([^a-z]|$)/.test(words.join(' ')) ||
    /birth|geburt|naissance|nacimiento|nascita|geboorte|urodzeni|nascimento|^born$/.test(joined)
  ) {
    return { entity: 'DATE_OF_BIRTH', confidence: 0.9 };
  }
  if (meta && !any(words, 'address', 'number', 'id', 'no', 'nr')) return undefined;

  // Credentials.
  if (/awsaccesskeyid|accesskeyid/.test(joined)) return { entity: 'AWS_ACCESS_KEY', confidence: 0.9 };
  if (/awssecret|secretaccesskey/.test(joined)) return { entity: 'AWS_SECRET_KEY', confidence: 0.9 };
  if (/privatekey|sshkey|pem$/.test(joined)) return { entity: 'PRIVATE_KEY', confidence: 0.85 };
  if (any(words, 'jwt')) return { entity: 'JWT', confidence: 0.85 };
  if (
    /apikey|apitoken|accesstoken|authtoken|refreshtoken|secret|password|passwd|passwort|kennwort|motdepasse|contrasena|senha|haslo|wachtwoord|^pwd$|^token$/.test(
      joined,
    )
  ) {
    return { entity: 'API_TOKEN', confidence: 0.85 };
  }

  // Contact data.
  if (/e?mail|correo|courriel|posta ?elettronica|^pec$/.test(joined) && !thing) return { entity: 'EMAIL_ADDRESS', confidence: 0.9 };
  if (
    any(
      words,
      'phone',
      'telephone',
      'tel',
      'mobile',
      'mob',
      'cell',
      'cellphone',
      'handy',
      'telefon',
      'telefono',
      'telefone',
      'movil',
      'celular',
      'cellulare',
      'portable',
      'gsm',
      'mobiel',
      'telefoon',
      'komorka',
      'fax',
      'msisdn',
      'whatsapp',
      'landline',
    ) ||
    /phonenumber|telefonnummer|handynummer|mobilnummer|telefonnummer|numerotelephone|numerodetelephone|telefoonnummer|numertelefonu/.test(
      joined,
    )
  ) {
    return thing ? undefined : { entity: 'PHONE_NUMBER', confidence: 0.9 };
  }

  // National identifiers and payment data.
  if (/ssn|socialsecurity/.test(joined)) return { entity: 'US_SSN', confidence: 0.9 };
  if (/nino|nationalinsurance|ninumber/.test(joined)) return { entity: 'UK_NINO', confidence: 0.9 };
  if (/^nhs|nhsnumber|nhsno/.test(joined)) return { entity: 'UK_NHS', confidence: 0.9 };
  if (any(words, 'nif', 'nie', 'dni')) return { entity: 'ES_NIF', confidence: 0.85 };
  if (/codicefiscale|fiscalcode/.test(joined) || (words.length === 1 && words[0] === 'cf'))
    return { entity: 'IT_FISCAL_CODE', confidence: 0.85 };
  if (/pesel/.test(joined)) return { entity: 'PL_PESEL', confidence: 0.9 };
  if (/aadhaa?r/.test(joined)) return { entity: 'IN_AADHAAR', confidence: 0.9 };
  if (/steuerid|steueridentifikationsnummer|steuernummer|taxid|^tin$/.test(joined)) return { entity: 'DE_TAX_ID', confidence: 0.8 };
  if (/iban/.test(joined)) return { entity: 'IBAN_CODE', confidence: 0.9 };
  if (
    /creditcard|cardnumber|cardno|ccnumber|^pan$|kartennummer|kreditkarte|numerocarte|numerotarjeta|numerocarta|kaartnummer|numerkarty|numerocartao/.test(
      joined,
    )
  ) {
    return { entity: 'CREDIT_CARD', confidence: 0.9 };
  }

  // Network identifiers.
  if (
    any(words, 'ip', 'ipv4', 'ipv6', 'ipaddress') ||
    /^(client|remote|source|src|user)?ip(addr|address)?$/.test(joined) ||
    joined === 'remoteaddr'
  ) {
    return { entity: 'IP_ADDRESS', confidence: 0.9 };
  }
  if (/^mac(address|addr)?$/.test(joined) || joined.endsWith('macaddress')) return { entity: 'MAC_ADDRESS', confidence: 0.9 };
  if (any(words, 'url', 'website', 'homepage', 'webpage', 'link', 'profile', 'webseite', 'site', 'sitio', 'sito') && !thing) {
    return { entity: 'URL', confidence: 0.7 };
  }

  // Quasi-identifiers.
  if (/zip|postcode|postalcode|postleitzahl|^plz$|codepostal|codigopostal|^cp$|^cap$|kodpocztowy|^cep$|eircode/.test(joined)) {
    return { entity: 'POSTCODE', confidence: 0.9 };
  }
  if (any(words, 'age', 'alter', 'edad', 'eta', 'leeftijd', 'wiek', 'idade', 'ageyears')) return { entity: 'AGE', confidence: 0.8 };
  if (any(words, 'gender', 'sex', 'geschlecht', 'sexe', 'genre', 'sexo', 'sesso', 'geslacht', 'plec', 'genero')) {
    return { entity: 'GENDER', confidence: 0.85 };
  }
  if (any(words, 'country', 'countrycode', 'land', 'pays', 'pais', 'paese', 'kraj', 'nationality', 'nation', 'citizenship')) {
    return { entity: 'COUNTRY', confidence: 0.8 };
  }

  // Addresses.
  if (
    !thing &&
    (any(
      words,
      'address',
      'addr',
      'adresse',
      'anschrift',
      'direccion',
      'domicilio',
      'indirizzo',
      'adres',
      'adresy',
      'endereco',
      'morada',
      'residence',
      'street',
      'strasse',
      'straat',
      'ulica',
      'rua',
      'calle',
    ) ||
      /addressline|streetaddress|adresszeile|woonadres|lieferadresse|rechnungsadresse/.test(joined))
  ) {
    return { entity: 'STREET_ADDRESS', confidence: 0.85 };
  }

  // Internal identifiers of people: a person word with an id word, or a compound (Kundennummer).
  if (
    /(kunden|mitglieds|personal|patienten|versicherten|klant|lid|leden|mitarbeiter)(nummer|nr|id|kennung)/.test(joined) ||
    (has(words, PERSON_WORDS) && has(words, ID_WORDS) && !thing)
  ) {
    return { entity: 'SUBJECT_ID', confidence: 0.85 };
  }
  if (
    /^(username|userid|login|loginname|handle|accountnumber|accountno|acctno|accountid|memberno|membershipnumber|membershipno)$/.test(
      joined,
    )
  ) {
    return { entity: 'SUBJECT_ID', confidence: 0.85 };
  }

  // Names of people (a name word without a thing word: product_name is not a person).
  if (
    has(words, NAME_WORDS) ||
    /firstname|lastname|fullname|surname|givenname|familyname|vorname|nachname|voornaam|achternaam|nazwisko|cognome|apellido|sobrenome/.test(
      joined,
    )
  ) {
    return thing
      ? undefined
      : { entity: 'PERSON', confidence: any(words, 'name', 'names', 'nom', 'nombre', 'nome', 'naam') && words.length === 1 ? 0.75 : 0.85 };
  }
  return undefined;
}

/** Headers of free-text columns. */
export function isTextHeader(header: string): boolean {
  const { words } = headerWords(header);
  return any(
    words,
    'note',
    'notes',
    'comment',
    'comments',
    'description',
    'remark',
    'remarks',
    'message',
    'messages',
    'body',
    'text',
    'feedback',
    'summary',
    'details',
    'bemerkung',
    'bemerkungen',
    'notiz',
    'notizen',
    'kommentar',
    'nachricht',
    'beschreibung',
    'commentaire',
    'commentaires',
    'remarque',
    'remarques',
    'comentario',
    'comentarios',
    'nota',
    'notas',
    'observaciones',
    'commento',
    'commenti',
    'note',
    'opmerking',
    'opmerkingen',
    'notitie',
    'uwagi',
    'komentarz',
    'notatka',
    'observacao',
    'observacoes',
    'mensagem',
    'transcript',
    'chat',
    'review',
    'complaint',
  );
}
