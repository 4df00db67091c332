/**
 * Context words per entity in English, German, French, Spanish, Italian, Dutch, Polish and
 * Portuguese. A word found near a match raises its score (Presidio's context enhancement);
 * negative words (order, invoice...) lower it. Matching is case-insensitive; a trailing `*` makes
 * a word a prefix (`telefon*`).
 */
import type { EntityType } from '../types.ts';

export const CONTEXT_WORDS: Readonly<Partial<Record<EntityType, readonly string[]>>> = {
  EMAIL_ADDRESS: ['email', 'e-mail', 'mail', 'correo', 'courriel', 'adresse électronique', 'posta elettronica', 'poczta', 'e-post'],
  PHONE_NUMBER: [
    'phone*', 'tel', 'tel.', 'telephone*', 'mobile*', 'mob', 'cell*', 'call*', 'fax', 'landline', 'whatsapp', 'sms', 'text me', 'texts', 'ring*',
    'desk', 'office', 'home', 'work', 'answer*', 'messag*', 'voicemail', 'dial*', 'reach', 'registered', 'contact number',
    'handy*', 'mobil*', 'zurückruf*', 'rufnummer', 'anruf*', 'rückruf*', 'ruf', 'erreichbar', 'nummer', 'telefon*',
    'portable', 'numéro', 'appel*', 'rappel*', 'joindre', 'fixe', 'téléphone*',
    'teléfono*', 'móvil', 'celular', 'llam*', 'número',
    'telefono*', 'cellulare', 'chiam*', 'richiam*', 'numero',
    'mobiel*', 'bel*', 'terugbel*', 'gsm', 'telefoon*',
    'komórk*', 'komork*', 'zadzwo*', 'oddzwo*', 'numer*',
    'telemóvel', 'telefone*', 'lig*', 'retorn*', 'contacto', 'contato', 'contact*',
  ],
  CREDIT_CARD: [
    'card', 'credit', 'debit', 'visa', 'mastercard', 'amex', 'american express', 'maestro', 'cc', 'pan',
    'karte*', 'kreditkarte*', 'kartennummer', 'carte', 'bancaire', 'cb', 'tarjeta', 'carta', 'kaart*', 'creditcard', 'kart*', 'cartão', 'cartao',
  ],
  IBAN_CODE: ['iban', 'account*', 'bank*', 'konto*', 'bankverbindung', 'compte', 'rib', 'cuenta', 'conto', 'rekening', 'rachun*', 'konta', 'conta', 'nib', 'transfer*', 'überweisung*', 'virement', 'bonifico', 'transferencia', 'przelew*'],
  US_SSN: ['ssn', 'social security', 'social sec', 'ss#', 'ss #', 'ssa', 'tax id', 'taxpayer', 'itin'],
  UK_NINO: ['national insurance', 'nino', 'ni number', 'ni no', 'insurance number'],
  UK_NHS: ['nhs', 'national health', 'health service', 'patient', 'nhs number'],
  ES_NIF: ['nif', 'nie', 'dni', 'documento nacional', 'identidad', 'número de identificación', 'extranjero'],
  IT_FISCAL_CODE: ['codice fiscale', 'cod. fisc', 'cf', 'fiscal code', 'tessera sanitaria'],
  PL_PESEL: ['pesel', 'numer ewidencyjny', 'identification'],
  IN_AADHAAR: ['aadhaar', 'aadhar', 'uidai', 'uid', 'adhaar'],
  DE_TAX_ID: ['steuer-id', 'steuerid', 'steuer id', 'steueridentifikationsnummer', 'identifikationsnummer', 'idnr', 'steuernummer', 'tin', 'tax id', 'tax identification'],
  IP_ADDRESS: ['ip', 'ipv4', 'ipv6', 'address', 'host', 'server', 'client', 'adresse', 'dirección', 'indirizzo', 'adres', 'endereço'],
  MAC_ADDRESS: ['mac', 'hardware', 'ethernet', 'wifi', 'wlan', 'device', 'gerät', 'appareil', 'dispositivo', 'apparaat', 'urządzen*'],
  DATE_OF_BIRTH: [
    'born', 'birth', 'dob', 'd.o.b', 'b-day', 'birthday', 'date of birth', 'birthdate',
    'geboren', 'geb.', 'geburt*',
    'né le', 'née le', 'né', 'née', 'naissance', 'date de naissance', 'anniversaire',
    'nacid*', 'nacimiento', 'fecha de nacimiento', 'cumpleaños',
    'nato', 'nata', 'nascita', 'data di nascita', 'compleanno',
    'geboortedatum', 'geboorte', 'verjaardag',
    'urodz*', 'data urodzenia', 'ur.',
    'nascid*', 'nascimento', 'data de nascimento', 'aniversário',
  ],
  POSTCODE: [
    'zip', 'zipcode', 'zip code', 'postcode', 'post code', 'postal code', 'postal',
    'plz', 'postleitzahl', 'code postal', 'cp', 'c.p.', 'código postal', 'codigo postal', 'cap', 'codice postale',
    'kod pocztowy', 'cep',
  ],
  AWS_SECRET_KEY: ['aws_secret_access_key', 'secret_access_key', 'secretaccesskey', 'aws secret', 'secret key', 'secret_key', 'aws_secret'],
  API_TOKEN: ['api key', 'api_key', 'apikey', 'token', 'secret', 'bearer', 'authorization', 'access key', 'password', 'passwort', 'mot de passe', 'contraseña', 'senha', 'hasło', 'wachtwoord'],
  STREET_ADDRESS: [
    'address', 'addr', 'street', 'lives at', 'live at', 'living at', 'located at', 'moved to', 'ship to', 'send to', 'deliver to', 'residence', 'home',
    'adresse', 'anschrift', 'wohnhaft', 'wohnt', 'umgezogen', 'verhuisd', 'déménagé', 'mudó', 'trasferito', 'przeprowadził*', 'mudou', 'straße', 'lieferadresse', 'domicile', 'habite', 'domicilio', 'dirección', 'direccion', 'vive en', 'calle',
    'indirizzo', 'residente', 'abita', 'woont', 'adres', 'woonadres', 'zamieszka*', 'mieszka*', 'endereço', 'endereco', 'morada', 'mora em', 'reside',
  ],
};

/** Words that make a nearby number something other than personal data (orders, invoices...). */
export const NEGATIVE_NUMBER_CONTEXT: readonly string[] = [
  'order*', 'invoice*', 'inv', 'inv.', 'ticket', 'tracking', 'sku', 'ref', 'reference', 'case', 'po', 'item', 'product', 'article', 'serial', 'batch', 'lot', 'version',
  'transaction', 'txn', 'receipt', 'shipment', 'parcel', 'booking', 'confirmation', 'amount', 'total', 'price', 'eur', 'usd', 'gbp',
  'bestell*', 'auftrag*', 'rechnung*', 'artikel*', 'sendung*', 'vorgang*', 'betrag', 'preis',
  'commande*', 'facture*', 'colis', 'montant', 'prix', 'référence',
  'pedido*', 'factura*', 'envío', 'importe', 'precio', 'referencia',
  'ordine*', 'fattura*', 'spedizione', 'importo', 'prezzo', 'riferimento',
  'bestelling*', 'factuur*', 'zending', 'bedrag', 'prijs', 'referentie',
  'zamówien*', 'zamowien*', 'faktur*', 'przesyłk*', 'kwota', 'cena',
  'encomenda*', 'fatura*', 'envio', 'valor', 'preço',
];

/**
 * Compiles context words into one case-insensitive regex. A word matches whole (not inside a
 * longer word); a word ending in `*` matches as a prefix (`telefon*` covers `telefonisch`).
 * Only escaped literals are joined, so the regex has no nested quantifiers.
 */
export function compileContext(words: readonly string[]): RegExp {
  const alts = [...new Set(words.map((w) => w.toLowerCase()))]
    .sort((a, b) => b.length - a.length)
    .map((w) => {
      const prefix = w.endsWith('*');
      const lit = (prefix ? w.slice(0, -1) : w).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // A word ending in punctuation (`tel.`, `geb.`) ends there; others must end at a non-letter.
      return prefix || /[^\p{L}\p{N}]$/u.test(w) ? lit : `${lit}(?![\\p{L}\\p{N}])`;
    });
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})`, 'iu');
}

/**
 * A cheap test for "one of these words occurs anywhere" (no word boundaries, case-insensitive):
 * a superset of compileContext's matches, used to skip patterns that need context.
 */
export function compileGate(words: readonly string[]): RegExp {
  const alts = [...new Set(words.map((w) => (w.endsWith('*') ? w.slice(0, -1) : w).toLowerCase()))]
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(alts.join('|'), 'i');
}
