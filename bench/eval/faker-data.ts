/**
 * Labelled data generated with @faker-js/faker in eight locales: structured customer rows and
 * free-text notes with known PII spans (and notes without any PII). Seeds are fixed, so every
 * run scores the same data. Phone numbers are drawn until libphonenumber-js accepts them as
 * valid for the locale's country: real records hold real numbers, faker's are random digits.
 */
import { type Faker, fakerDE, fakerEN_GB, fakerEN_US, fakerES, fakerFR, fakerIT, fakerNL, fakerPL, fakerPT_BR } from '@faker-js/faker';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';

export interface LocaleSpec {
  readonly id: string;
  readonly faker: Faker;
  readonly region: CountryCode;
  readonly lang: 'en' | 'de' | 'fr' | 'es' | 'it' | 'nl' | 'pl' | 'pt';
}

export const LOCALES: readonly LocaleSpec[] = [
  { id: 'en_US', faker: fakerEN_US, region: 'US', lang: 'en' },
  { id: 'en_GB', faker: fakerEN_GB, region: 'GB', lang: 'en' },
  { id: 'de', faker: fakerDE, region: 'DE', lang: 'de' },
  { id: 'fr', faker: fakerFR, region: 'FR', lang: 'fr' },
  { id: 'es', faker: fakerES, region: 'ES', lang: 'es' },
  { id: 'it', faker: fakerIT, region: 'IT', lang: 'it' },
  { id: 'nl', faker: fakerNL, region: 'NL', lang: 'nl' },
  { id: 'pl', faker: fakerPL, region: 'PL', lang: 'pl' },
  { id: 'pt_BR', faker: fakerPT_BR, region: 'BR', lang: 'pt' },
];

/** A phone number valid for the region, in the locale's own writing (national or international). */
export function validPhone(f: Faker, region: CountryCode): string {
  for (let i = 0; i < 50; i++) {
    const candidate = f.phone.number({ style: f.datatype.boolean() ? 'national' : 'international' });
    const p = parsePhoneNumberFromString(candidate, region);
    if (p?.isValid()) return candidate;
  }
  // Faker's formats for this locale rarely validate: write a valid number the usual way.
  for (;;) {
    const n = `+${f.string.numeric({ length: 11, allowLeadingZeros: false })}`;
    const p = parsePhoneNumberFromString(n);
    if (p?.isValid()) return f.datatype.boolean() ? p.formatInternational() : p.formatNational();
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const isoDate = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;

/** Birth dates written the way each language writes dates. */
function writtenDate(d: Date, lang: LocaleSpec['lang']): string {
  const day = d.getUTCDate();
  const month = d.getUTCMonth() + 1;
  const year = d.getUTCFullYear();
  switch (lang) {
    case 'en':
      return `${pad(month, 2)}/${pad(day, 2)}/${year}`;
    case 'de':
    case 'pl':
      return `${pad(day, 2)}.${pad(month, 2)}.${year}`;
    case 'nl':
      return `${pad(day, 2)}-${pad(month, 2)}-${year}`;
    default:
      return `${pad(day, 2)}/${pad(month, 2)}/${year}`;
  }
}

// ---------------------------------------------------------------- structured rows

export interface CustomerRow {
  readonly customer_id: string;
  readonly full_name: string;
  readonly email: string;
  readonly phone: string;
  readonly iban: string;
  readonly credit_card: string;
  readonly date_of_birth: string;
  readonly postcode: string;
  readonly street_address: string;
  readonly city: string;
  readonly country: string;
  readonly gender: string;
  readonly age: string;
  readonly signup_date: string;
  readonly email_opt_in: string;
  readonly product_sku: string;
  readonly order_number: string;
  readonly amount: string;
  readonly status: string;
  readonly ip_address: string;
  /** Header-less columns classified from their content. */
  readonly contact: string;
  readonly ref_code: string;
  readonly col_7: string;
}

/** PII columns: no value may survive. Quasi-identifiers kept by policy (gender, country) are not among them. */
export const PII_COLUMNS = [
  'customer_id',
  'full_name',
  'email',
  'phone',
  'iban',
  'credit_card',
  'date_of_birth',
  'postcode',
  'street_address',
  'age',
  'ip_address',
  'contact',
  'ref_code',
  'col_7',
] as const;
/** Columns that must come out byte-identical. */
export const NON_PII_COLUMNS = [
  'city',
  'country',
  'gender',
  'signup_date',
  'email_opt_in',
  'product_sku',
  'order_number',
  'amount',
  'status',
] as const;

export function customerRows(loc: LocaleSpec, n: number, seed: number): CustomerRow[] {
  const f = loc.faker;
  f.seed(seed);
  const rows: CustomerRow[] = [];
  for (let i = 0; i < n; i++) {
    const first = f.person.firstName();
    const last = f.person.lastName();
    const birth = f.date.birthdate({ min: 18, max: 90, mode: 'age' });
    const age = Math.floor((Date.UTC(2026, 10, 22) - birth.getTime()) / (365.25 * 24 * 3600 * 1000));
    rows.push({
      customer_id: `CUST-${pad(seed % 1000, 3)}${pad(i, 6)}`,
      full_name: `${first} ${last}`,
      email: f.internet.email({ firstName: first, lastName: last }),
      phone: validPhone(f, loc.region),
      iban: f.finance.iban({ formatted: f.datatype.boolean(), countryCode: ibanCountry(loc.region) }),
      credit_card: f.finance.creditCardNumber(f.helpers.arrayElement(['visa', 'mastercard', 'amex'])),
      date_of_birth: isoDate(birth),
      postcode: f.location.zipCode(),
      street_address: f.location.streetAddress(),
      city: f.location.city(),
      country: loc.region,
      gender: f.helpers.arrayElement(['F', 'M', 'X']),
      age: String(age),
      signup_date: isoDate(f.date.between({ from: '2020-01-01', to: '2026-11-01' })),
      email_opt_in: String(f.datatype.boolean()),
      product_sku: `SKU-${f.string.alphanumeric({ length: 8, casing: 'upper' })}`,
      order_number: String(f.number.int({ min: 100000, max: 99999999 })),
      amount: f.finance.amount({ min: 1, max: 2000, dec: 2 }),
      status: f.helpers.arrayElement(['pending', 'shipped', 'delivered', 'cancelled', 'returned']),
      ip_address: f.datatype.boolean() ? f.internet.ipv4() : f.internet.ipv6(),
      contact: f.internet.email({ firstName: last, lastName: first }),
      ref_code: f.finance.iban({ countryCode: ibanCountry(loc.region) }),
      col_7: validPhone(f, loc.region),
    });
  }
  return rows;
}

function ibanCountry(region: CountryCode): string {
  return region === 'US' ? 'GB' : region === 'BR' ? 'BR' : region;
}

// ---------------------------------------------------------------- free-text notes

export interface GoldSpan {
  readonly entity: string;
  readonly start: number;
  readonly end: number;
  /** For PERSON: the name's tokens (to tell held-out names from in-lexicon ones). */
  readonly tokens?: readonly string[];
}

export interface Note {
  readonly locale: string;
  readonly text: string;
  readonly spans: readonly GoldSpan[];
}

type Slot = 'NAME' | 'FIRST' | 'EMAIL' | 'PHONE' | 'IBAN' | 'CARD' | 'ADDRESS' | 'DOB' | 'IP';

/**
 * Note templates per language. Slots in braces. They vary the cues around names: a title, a
 * verb after, a preposition, nothing at all.
 */
const PII_TEMPLATES: Readonly<Record<LocaleSpec['lang'], readonly string[]>> = {
  en: [
    'Spoke with {NAME} about the late delivery; call back on {PHONE}.',
    'Customer {NAME} asked to update the email to {EMAIL}.',
    'Refund approved for {NAME} after the second complaint.',
    '{NAME} called about order 48213, wants the invoice sent to {EMAIL}.',
    'Please send the replacement to {ADDRESS} before Friday.',
    'Direct debit set up on IBAN {IBAN}, confirmed by {FIRST}.',
    'Card {CARD} declined twice, customer will try another one.',
    'Date of birth on file is {DOB}, matches the passport.',
    'Login from {IP} flagged as suspicious, account locked.',
    'Mr {NAME} moved to {ADDRESS} last month.',
    'Escalated to the supervisor, {FIRST} was not happy with the answer.',
    'Dear {NAME}, thanks for your patience with ticket 7731.',
  ],
  de: [
    'Telefonat mit {NAME} wegen der verspäteten Lieferung, Rückruf unter {PHONE}.',
    'Kundin {NAME} möchte die E-Mail-Adresse auf {EMAIL} ändern.',
    'Erstattung für {NAME} nach der zweiten Beschwerde genehmigt.',
    '{NAME} rief wegen Bestellung 48213 an, Rechnung bitte an {EMAIL}.',
    'Bitte den Ersatz an {ADDRESS} schicken.',
    'Lastschrift auf IBAN {IBAN} eingerichtet, von {FIRST} bestätigt.',
    'Karte {CARD} wurde zweimal abgelehnt.',
    'Geburtsdatum laut Akte: {DOB}.',
    'Anmeldung von {IP} als verdächtig markiert.',
    'Herr {NAME} ist letzten Monat in die {ADDRESS} umgezogen.',
    'An die Teamleitung eskaliert, {FIRST} war mit der Antwort nicht zufrieden.',
    'Hallo {NAME}, danke für Ihre Geduld mit Ticket 7731.',
  ],
  fr: [
    'Échange avec {NAME} au sujet du retard de livraison, rappeler au {PHONE}.',
    'La cliente {NAME} souhaite changer son adresse e-mail pour {EMAIL}.',
    'Remboursement accordé à {NAME} après la deuxième réclamation.',
    '{NAME} a appelé pour la commande 48213, facture à envoyer à {EMAIL}.',
    'Merci d’envoyer le remplacement au {ADDRESS}.',
    'Prélèvement mis en place sur l’IBAN {IBAN}, confirmé par {FIRST}.',
    'La carte {CARD} a été refusée deux fois.',
    'Date de naissance au dossier : {DOB}.',
    'Connexion depuis {IP} signalée comme suspecte.',
    'M. {NAME} a déménagé au {ADDRESS} le mois dernier.',
    'Escaladé au superviseur, {FIRST} n’était pas satisfait de la réponse.',
    'Bonjour {NAME}, merci pour votre patience concernant le ticket 7731.',
  ],
  es: [
    'Hablé con {NAME} sobre el retraso del envío, devolver la llamada al {PHONE}.',
    'La clienta {NAME} quiere cambiar su correo a {EMAIL}.',
    'Reembolso aprobado para {NAME} tras la segunda queja.',
    '{NAME} llamó por el pedido 48213, enviar la factura a {EMAIL}.',
    'Por favor enviar el reemplazo a {ADDRESS}.',
    'Domiciliación en el IBAN {IBAN}, confirmada por {FIRST}.',
    'La tarjeta {CARD} fue rechazada dos veces.',
    'Fecha de nacimiento en el expediente: {DOB}.',
    'Inicio de sesión desde {IP} marcado como sospechoso.',
    'El Sr. {NAME} se mudó a {ADDRESS} el mes pasado.',
    'Escalado al supervisor, {FIRST} no quedó conforme con la respuesta.',
    'Hola {NAME}, gracias por su paciencia con el ticket 7731.',
  ],
  it: [
    'Parlato con {NAME} del ritardo nella consegna, richiamare al {PHONE}.',
    'La cliente {NAME} vuole cambiare l’email in {EMAIL}.',
    'Rimborso approvato per {NAME} dopo il secondo reclamo.',
    '{NAME} ha chiamato per l’ordine 48213, fattura da inviare a {EMAIL}.',
    'Si prega di spedire la sostituzione a {ADDRESS}.',
    'Addebito diretto sull’IBAN {IBAN}, confermato da {FIRST}.',
    'La carta {CARD} è stata rifiutata due volte.',
    'Data di nascita in archivio: {DOB}.',
    'Accesso da {IP} segnalato come sospetto.',
    'Il sig. {NAME} si è trasferito in {ADDRESS} il mese scorso.',
    'Inoltrato al responsabile, {FIRST} non era soddisfatto della risposta.',
    'Gentile {NAME}, grazie per la pazienza con il ticket 7731.',
  ],
  nl: [
    'Gesproken met {NAME} over de late levering, terugbellen op {PHONE}.',
    'Klant {NAME} wil het e-mailadres wijzigen naar {EMAIL}.',
    'Terugbetaling goedgekeurd voor {NAME} na de tweede klacht.',
    '{NAME} belde over bestelling 48213, factuur graag naar {EMAIL}.',
    'Graag de vervanging sturen naar {ADDRESS}.',
    'Incasso ingesteld op IBAN {IBAN}, bevestigd door {FIRST}.',
    'Kaart {CARD} is twee keer geweigerd.',
    'Geboortedatum in het dossier: {DOB}.',
    'Inlog vanaf {IP} gemarkeerd als verdacht.',
    'Dhr. {NAME} is vorige maand verhuisd naar {ADDRESS}.',
    'Doorgezet naar de teamleider, {FIRST} was niet tevreden met het antwoord.',
    'Beste {NAME}, bedankt voor uw geduld met ticket 7731.',
  ],
  pl: [
    'Rozmowa z {NAME} w sprawie opóźnionej dostawy, oddzwonić pod {PHONE}.',
    'Klientka {NAME} chce zmienić e-mail na {EMAIL}.',
    'Zwrot zatwierdzony dla {NAME} po drugiej reklamacji.',
    '{NAME} dzwonił w sprawie zamówienia 48213, fakturę wysłać na {EMAIL}.',
    'Proszę wysłać zamiennik na adres {ADDRESS}.',
    'Polecenie zapłaty na IBAN {IBAN}, potwierdzone przez {FIRST}.',
    'Karta {CARD} została dwukrotnie odrzucona.',
    'Data urodzenia w aktach: {DOB}.',
    'Logowanie z {IP} oznaczone jako podejrzane.',
    'Pan {NAME} przeprowadził się w zeszłym miesiącu na {ADDRESS}.',
    'Przekazano do kierownika, {FIRST} nie był zadowolony z odpowiedzi.',
    'Szanowny {NAME}, dziękujemy za cierpliwość w sprawie zgłoszenia 7731.',
  ],
  pt: [
    'Falei com {NAME} sobre o atraso na entrega, retornar a ligação para {PHONE}.',
    'A cliente {NAME} quer mudar o e-mail para {EMAIL}.',
    'Reembolso aprovado para {NAME} após a segunda reclamação.',
    '{NAME} ligou sobre o pedido 48213, enviar a fatura para {EMAIL}.',
    'Por favor enviar a substituição para {ADDRESS}.',
    'Débito automático no IBAN {IBAN}, confirmado por {FIRST}.',
    'O cartão {CARD} foi recusado duas vezes.',
    'Data de nascimento no cadastro: {DOB}.',
    'Acesso a partir de {IP} marcado como suspeito.',
    'O Sr. {NAME} mudou-se para {ADDRESS} no mês passado.',
    'Encaminhado ao supervisor, {FIRST} não ficou satisfeito com a resposta.',
    'Prezado {NAME}, obrigado pela paciência com o chamado 7731.',
  ],
};

/** Notes without personal data: orders, amounts, ordinary dates, products, places, weekdays. */
const CLEAN_TEMPLATES: Readonly<Record<LocaleSpec['lang'], readonly string[]>> = {
  en: [
    'Order {ORDER} shipped on {DATE}, tracking number {TRACK}.',
    'Customer asked about the {PRODUCT}; stock expected on Monday.',
    'Refund of {AMOUNT} EUR processed for order {ORDER}.',
    'Parcel left the {CITY} warehouse this morning.',
    'Invoice {ORDER} corrected, VAT 20% applied, total {AMOUNT}.',
    'Signup date {DATE}, newsletter preference updated.',
    'No answer on the first attempt, will try again on Thursday.',
    'Replaced the {PRODUCT} under warranty, SKU {SKU}.',
  ],
  de: [
    'Bestellung {ORDER} am {DATE} versandt, Sendungsnummer {TRACK}.',
    'Kunde fragte nach dem Artikel {PRODUCT}, Lieferung ab Montag.',
    'Erstattung von {AMOUNT} EUR für Bestellung {ORDER} veranlasst.',
    'Paket hat das Lager in {CITY} heute verlassen.',
    'Rechnung {ORDER} korrigiert, MwSt. 19 %, Summe {AMOUNT}.',
    'Registriert am {DATE}, Newsletter-Einstellung geändert.',
    'Beim ersten Versuch niemand erreicht, neuer Versuch am Donnerstag.',
    'Artikel {PRODUCT} im Rahmen der Garantie ersetzt, SKU {SKU}.',
  ],
  fr: [
    'Commande {ORDER} expédiée le {DATE}, numéro de suivi {TRACK}.',
    'Le client a demandé des nouvelles du produit {PRODUCT}, stock attendu lundi.',
    'Remboursement de {AMOUNT} EUR effectué pour la commande {ORDER}.',
    'Le colis a quitté l’entrepôt de {CITY} ce matin.',
    'Facture {ORDER} corrigée, TVA 20 %, total {AMOUNT}.',
    'Inscription le {DATE}, préférences de newsletter mises à jour.',
    'Pas de réponse au premier essai, nouvel essai jeudi.',
    'Produit {PRODUCT} remplacé sous garantie, SKU {SKU}.',
  ],
  es: [
    'Pedido {ORDER} enviado el {DATE}, número de seguimiento {TRACK}.',
    'El cliente preguntó por el producto {PRODUCT}, llega el lunes.',
    'Reembolso de {AMOUNT} EUR procesado para el pedido {ORDER}.',
    'El paquete salió del almacén de {CITY} esta mañana.',
    'Factura {ORDER} corregida, IVA 21 %, total {AMOUNT}.',
    'Alta el {DATE}, preferencias del boletín actualizadas.',
    'Sin respuesta en el primer intento, se reintentará el jueves.',
    'Producto {PRODUCT} sustituido en garantía, SKU {SKU}.',
  ],
  it: [
    'Ordine {ORDER} spedito il {DATE}, numero di tracciamento {TRACK}.',
    'Il cliente ha chiesto del prodotto {PRODUCT}, disponibile lunedì.',
    'Rimborso di {AMOUNT} EUR elaborato per l’ordine {ORDER}.',
    'Il pacco ha lasciato il magazzino di {CITY} stamattina.',
    'Fattura {ORDER} corretta, IVA 22 %, totale {AMOUNT}.',
    'Iscrizione il {DATE}, preferenze newsletter aggiornate.',
    'Nessuna risposta al primo tentativo, si riprova giovedì.',
    'Prodotto {PRODUCT} sostituito in garanzia, SKU {SKU}.',
  ],
  nl: [
    'Bestelling {ORDER} verzonden op {DATE}, trackingnummer {TRACK}.',
    'Klant vroeg naar het product {PRODUCT}, voorraad verwacht op maandag.',
    'Terugbetaling van {AMOUNT} EUR verwerkt voor bestelling {ORDER}.',
    'Pakket heeft vanochtend het magazijn in {CITY} verlaten.',
    'Factuur {ORDER} gecorrigeerd, btw 21%, totaal {AMOUNT}.',
    'Aangemeld op {DATE}, nieuwsbriefvoorkeur bijgewerkt.',
    'Geen antwoord bij de eerste poging, donderdag opnieuw proberen.',
    'Product {PRODUCT} onder garantie vervangen, SKU {SKU}.',
  ],
  pl: [
    'Zamówienie {ORDER} wysłane {DATE}, numer przesyłki {TRACK}.',
    'Klient pytał o produkt {PRODUCT}, dostawa w poniedziałek.',
    'Zwrot {AMOUNT} EUR zrealizowany dla zamówienia {ORDER}.',
    'Paczka opuściła magazyn w {CITY} dziś rano.',
    'Faktura {ORDER} poprawiona, VAT 23%, razem {AMOUNT}.',
    'Rejestracja {DATE}, zaktualizowano preferencje newslettera.',
    'Brak odpowiedzi przy pierwszej próbie, ponowna próba w czwartek.',
    'Produkt {PRODUCT} wymieniony na gwarancji, SKU {SKU}.',
  ],
  pt: [
    'Pedido {ORDER} enviado em {DATE}, código de rastreio {TRACK}.',
    'O cliente perguntou pelo produto {PRODUCT}, chega na segunda-feira.',
    'Reembolso de {AMOUNT} EUR processado para o pedido {ORDER}.',
    'O pacote saiu do armazém de {CITY} hoje de manhã.',
    'Fatura {ORDER} corrigida, IVA 23%, total {AMOUNT}.',
    'Cadastro em {DATE}, preferências de newsletter atualizadas.',
    'Sem resposta na primeira tentativa, nova tentativa na quinta-feira.',
    'Produto {PRODUCT} substituído na garantia, SKU {SKU}.',
  ],
};

const SLOT_ENTITY: Readonly<Record<Slot, string>> = {
  NAME: 'PERSON',
  FIRST: 'PERSON',
  EMAIL: 'EMAIL_ADDRESS',
  PHONE: 'PHONE_NUMBER',
  IBAN: 'IBAN_CODE',
  CARD: 'CREDIT_CARD',
  ADDRESS: 'STREET_ADDRESS',
  DOB: 'DATE_OF_BIRTH',
  IP: 'IP_ADDRESS',
};

/** Notes of one locale: `withPii` notes with labelled spans, `clean` notes without any. */
export function notes(loc: LocaleSpec, withPii: number, clean: number, seed: number): { pii: Note[]; clean: Note[] } {
  const f = loc.faker;
  f.seed(seed);
  const pii: Note[] = [];
  for (let i = 0; i < withPii; i++) {
    const template = f.helpers.arrayElement(PII_TEMPLATES[loc.lang]);
    const first = f.person.firstName();
    const last = f.person.lastName();
    const values: Record<Slot, () => string> = {
      NAME: () => `${first} ${last}`,
      FIRST: () => first,
      EMAIL: () => f.internet.email({ firstName: first, lastName: last }),
      PHONE: () => validPhone(f, loc.region),
      IBAN: () => f.finance.iban({ formatted: f.datatype.boolean(), countryCode: ibanCountry(loc.region) }),
      CARD: () => f.finance.creditCardNumber(f.helpers.arrayElement(['visa', 'mastercard', 'amex'])),
      ADDRESS: () => `${f.location.streetAddress()}, ${f.location.zipCode()} ${f.location.city()}`,
      DOB: () => writtenDate(f.date.birthdate({ min: 18, max: 90, mode: 'age' }), loc.lang),
      IP: () => f.internet.ipv4(),
    };
    let text = '';
    const spans: GoldSpan[] = [];
    let pos = 0;
    const re = /\{([A-Z]+)\}/g;
    for (let m = re.exec(template); m !== null; m = re.exec(template)) {
      text += template.slice(pos, m.index);
      const slot = m[1] as Slot;
      const v = values[slot]();
      const entity = SLOT_ENTITY[slot];
      spans.push({
        entity,
        start: text.length,
        end: text.length + v.length,
        ...(entity === 'PERSON' ? { tokens: v.split(/[\s-]+/) } : {}),
      });
      text += v;
      pos = m.index + m[0].length;
    }
    text += template.slice(pos);
    pii.push({ locale: loc.id, text, spans });
  }
  const cleanNotes: Note[] = [];
  for (let i = 0; i < clean; i++) {
    const template = f.helpers.arrayElement(CLEAN_TEMPLATES[loc.lang]);
    const text = template.replace(/\{([A-Z]+)\}/g, (_, slot: string) => {
      switch (slot) {
        case 'ORDER':
          return String(f.number.int({ min: 10000, max: 99999999 }));
        case 'DATE':
          return writtenDate(f.date.between({ from: '2021-01-01', to: '2026-11-01' }), loc.lang);
        case 'TRACK':
          return f.string.alphanumeric({ length: 12, casing: 'upper' });
        case 'PRODUCT':
          return f.commerce.productName();
        case 'AMOUNT':
          return f.finance.amount({ min: 1, max: 999, dec: 2 });
        case 'CITY':
          return f.location.city();
        case 'SKU':
          return `${f.string.alpha({ length: 3, casing: 'upper' })}-${f.string.numeric(5)}`;
        default:
          return slot;
      }
    });
    cleanNotes.push({ locale: loc.id, text, spans: [] });
  }
  return { pii, clean: cleanNotes };
}
