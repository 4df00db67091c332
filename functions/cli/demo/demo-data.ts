/**
 * Realistic demo data in several locales: customers (with free-text notes) and orders that
 * reference the same customers. Seeded, so a run is reproducible; every PII value generated is
 * also returned as ground truth, so tests can prove none of it leaks.
 */
import { type Faker, fakerDE, fakerEN_GB, fakerEN_US, fakerES, fakerFR, fakerIT, fakerNL, fakerPL, fakerPT_BR } from '@faker-js/faker';

interface LocaleSpec {
  readonly faker: Faker;
  readonly country: string;
  readonly notes: readonly ((p: NotePii) => string)[];
  readonly plainNotes: readonly string[];
}

interface NotePii {
  readonly name: string;
  readonly email: string;
  readonly phone: string;
}

const LOCALES: readonly LocaleSpec[] = [
  {
    faker: fakerEN_GB,
    country: 'GB',
    notes: [
      (p) => `Spoke with ${p.name} about the late delivery; call back on ${p.phone}.`,
      (p) => `Customer asked to send the invoice to ${p.email} instead.`,
      (p) => `Dear ${p.name} complained twice, refund approved.`,
    ],
    plainNotes: ['Asked about delivery times to Scotland.', 'Prefers paper invoices.', 'Order 4521 arrived damaged, replacement sent.'],
  },
  {
    faker: fakerEN_US,
    country: 'US',
    notes: [(p) => `Called ${p.name} re: warranty, left voicemail at ${p.phone}.`, (p) => `New billing contact: ${p.email}.`],
    plainNotes: ['Requested expedited shipping.', 'Loyalty tier upgraded after 12 orders.'],
  },
  {
    faker: fakerDE,
    country: 'DE',
    notes: [(p) => `Rückruf mit ${p.name} vereinbart, Tel. ${p.phone}.`, (p) => `Kunde bittet um Rechnung an ${p.email}.`],
    plainNotes: ['Lieferung kam zwei Tage zu spät.', 'Möchte keine Werbung per Post.'],
  },
  {
    faker: fakerFR,
    country: 'FR',
    notes: [(p) => `Appel de ${p.name}, rappeler au ${p.phone}.`, (p) => `Merci d'envoyer la facture à ${p.email}.`],
    plainNotes: ['Colis livré en retard.', 'Souhaite changer de formule.'],
  },
  {
    faker: fakerES,
    country: 'ES',
    notes: [(p) => `Hablé con ${p.name}; su teléfono es ${p.phone}.`, (p) => `El cliente pide la factura en ${p.email}.`],
    plainNotes: ['Pedido entregado sin incidencias.', 'Quiere cambiar la dirección de envío.'],
  },
  {
    faker: fakerIT,
    country: 'IT',
    notes: [(p) => `Parlato con ${p.name}, richiamare al ${p.phone}.`, (p) => `Inviare la fattura a ${p.email}.`],
    plainNotes: ['Consegna in ritardo di tre giorni.', 'Chiede uno sconto fedeltà.'],
  },
  {
    faker: fakerNL,
    country: 'NL',
    notes: [(p) => `Gesproken met ${p.name}, terugbellen op ${p.phone}.`, (p) => `Factuur graag naar ${p.email}.`],
    plainNotes: ['Pakket kwam beschadigd aan.', 'Wil minder e-mails ontvangen.'],
  },
  {
    faker: fakerPL,
    country: 'PL',
    notes: [(p) => `Rozmawiałem z ${p.name}, oddzwonić pod ${p.phone}.`, (p) => `Proszę wysłać fakturę na ${p.email}.`],
    plainNotes: ['Przesyłka dotarła z opóźnieniem.', 'Prosi o kontakt w godzinach popołudniowych.'],
  },
  {
    faker: fakerPT_BR,
    country: 'BR',
    notes: [(p) => `Falei com ${p.name}; telefone ${p.phone}.`, (p) => `Enviar a nota fiscal para ${p.email}.`],
    plainNotes: ['Entrega atrasada em dois dias.', 'Pediu troca do produto.'],
  },
];

export const SEGMENTS = ['consumer', 'smb', 'enterprise'] as const;
export const ORDER_STATUSES = ['placed', 'shipped', 'delivered', 'returned'] as const;

export interface DemoCustomer {
  readonly customer_id: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly email: string;
  readonly phone: string;
  readonly country: string;
  readonly date_of_birth: string;
  readonly postcode: string;
  readonly city: string;
  readonly signup_date: string;
  readonly email_opt_in: string;
  readonly iban: string;
  readonly card_number: string;
  readonly ip_address: string;
  readonly lifetime_value: string;
  readonly segment: string;
  readonly notes: string;
}

export interface DemoData {
  readonly customersCsv: string;
  readonly ordersJsonl: string;
  readonly customers: readonly DemoCustomer[];
  /** Rows deliberately broken, by row number (1-based data rows) and rule. */
  readonly brokenRows: readonly { readonly row: number; readonly rule: string }[];
  /** Every direct identifier generated (emails, phones, names, cards, IBANs, IPs, ids). */
  readonly groundTruth: ReadonlySet<string>;
  readonly locales: readonly string[];
}

const CUSTOMER_COLUMNS: readonly (keyof DemoCustomer)[] = [
  'customer_id',
  'first_name',
  'last_name',
  'email',
  'phone',
  'country',
  'date_of_birth',
  'postcode',
  'city',
  'signup_date',
  'email_opt_in',
  'iban',
  'card_number',
  'ip_address',
  'lifetime_value',
  'segment',
  'notes',
];

const IBAN_COUNTRIES: Record<string, string> = { GB: 'GB', DE: 'DE', FR: 'FR', ES: 'ES', IT: 'IT', NL: 'NL', PL: 'PL', BR: 'BR', US: 'DE' };

/** Generates the demo datasets. `brokenShare` of customer rows break the contract on purpose. */
export function generateDemoData(opts: { customers: number; orders: number; seed?: number; brokenShare?: number }): DemoData {
  const seed = opts.seed ?? 20261122;
  const truth = new Set<string>();
  const customers: DemoCustomer[] = [];
  for (let i = 0; i < opts.customers; i++) {
    const spec = LOCALES[i % LOCALES.length] as LocaleSpec;
    const f = spec.faker;
    f.seed(seed + i);
    const first = f.person.firstName();
    const last = f.person.lastName();
    const email = f.internet.email({ firstName: first, lastName: last }).toLowerCase();
    const phone = f.phone.number({ style: 'national' });
    const intlPhone = f.phone.number({ style: 'international' });
    const withPii = f.number.int({ min: 0, max: 9 }) < 5;
    const note = withPii
      ? (f.helpers.arrayElement(spec.notes) as (p: NotePii) => string)({ name: `${first} ${last}`, email, phone: intlPhone })
      : f.helpers.arrayElement(spec.plainNotes);
    const c: DemoCustomer = {
      customer_id: `C${String(100000 + i)}`,
      first_name: first,
      last_name: last,
      email,
      phone,
      country: spec.country,
      date_of_birth: f.date.birthdate({ min: 18, max: 90, mode: 'age', refDate: '2026-01-01' }).toISOString().slice(0, 10),
      postcode: f.location.zipCode(),
      city: f.location.city(),
      signup_date: f.date.between({ from: '2019-01-01', to: '2026-10-31' }).toISOString().slice(0, 10),
      email_opt_in: String(f.datatype.boolean()),
      iban: f.finance.iban({ formatted: true, countryCode: IBAN_COUNTRIES[spec.country] ?? 'DE' }),
      card_number: f.finance.creditCardNumber({ issuer: f.helpers.arrayElement(['visa', 'mastercard', 'amex']) }),
      ip_address: f.internet.ipv4(),
      lifetime_value: f.finance.amount({ min: 0, max: 5000, dec: 2 }),
      segment: f.helpers.arrayElement(SEGMENTS),
      notes: note,
    };
    customers.push(c);
    for (const v of [c.customer_id, first, last, `${first} ${last}`, email, phone, intlPhone, c.iban, c.card_number, c.ip_address])
      truth.add(v);
  }

  const lines: string[] = [CUSTOMER_COLUMNS.join(',')];
  const brokenRows: { row: number; rule: string }[] = [];
  const brokenEvery = opts.brokenShare && opts.brokenShare > 0 ? Math.round(1 / opts.brokenShare) : 0;
  customers.forEach((c, i) => {
    const cells = CUSTOMER_COLUMNS.map((k) => c[k]);
    if (brokenEvery > 0 && i % brokenEvery === brokenEvery - 1) {
      const kind = (i / brokenEvery) % 3;
      if (kind < 1) {
        cells[CUSTOMER_COLUMNS.indexOf('segment')] = 'vip';
        brokenRows.push({ row: i + 1, rule: 'enum' });
      } else if (kind < 2) {
        cells[CUSTOMER_COLUMNS.indexOf('email')] = '';
        brokenRows.push({ row: i + 1, rule: 'required' });
      } else {
        cells.pop();
        brokenRows.push({ row: i + 1, rule: 'field-count' });
      }
    }
    lines.push(cells.map(csvCell).join(','));
  });

  const orderLines: string[] = [];
  const f = fakerEN_GB;
  f.seed(seed - 1);
  for (let i = 0; i < opts.orders; i++) {
    const c = f.helpers.arrayElement(customers);
    const quantity = f.number.int({ min: 1, max: 5 });
    orderLines.push(
      JSON.stringify({
        order_id: `ORD-${String(500000 + i)}`,
        customer_id: c.customer_id,
        // Some systems store emails with other casing: tokens still join after canonicalisation.
        customer_email: i % 7 === 0 ? c.email.toUpperCase() : c.email,
        product_sku: `SKU-${f.string.alphanumeric({ length: 6, casing: 'upper' })}`,
        quantity,
        amount: Number(f.finance.amount({ min: 5, max: 400, dec: 2 })),
        currency: 'EUR',
        order_date: f.date.between({ from: '2025-01-01', to: '2026-10-31' }).toISOString().slice(0, 10),
        status: f.helpers.arrayElement(ORDER_STATUSES),
      }),
    );
  }
  return {
    customersCsv: `${lines.join('\n')}\n`,
    ordersJsonl: `${orderLines.join('\n')}\n`,
    customers,
    brokenRows,
    groundTruth: truth,
    locales: LOCALES.map((l) => l.country),
  };
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export const CUSTOMERS_CONTRACT = `# Contract of the customers dataset. Editors check it against \`privacy-pipeline contract schema\`.
version: 1
dataset: customers
description: CRM customer master, one row per customer.
subjectKey: customer_id
regionColumn: country
columns:
  - { name: customer_id, type: string, nullable: false, unique: true, pattern: "^C[0-9]{6}$" }
  - { name: first_name, type: string, privacy: { entity: PERSON } }
  - { name: last_name, type: string, privacy: { entity: PERSON } }
  - { name: email, type: string, nullable: false, format: email }
  - { name: phone, type: string }
  - { name: country, type: string, nullable: false, enum: [GB, US, DE, FR, ES, IT, NL, PL, BR] }
  - { name: date_of_birth, type: date }
  - { name: postcode, type: string }
  - { name: city, type: string }
  - { name: signup_date, type: date }
  - { name: email_opt_in, type: boolean }
  - { name: iban, type: string }
  - { name: card_number, type: string, privacy: { entity: CREDIT_CARD, operator: mask, options: { keepLast: 4 } } }
  - { name: ip_address, type: string }
  - { name: lifetime_value, type: number, min: 0 }
  - { name: segment, type: string, nullable: false, enum: [consumer, smb, enterprise] }
  - { name: notes, type: string, privacy: { freeText: true } }
quasiIdentifiers: [country, date_of_birth, postcode]
kAnonymity: { k: 5, action: report }
privacyBudget: { epsilon: 5, delta: 1.0e-6 }
privacyUnit: { maxRowsPerSubject: 1, maxPartitionsPerSubject: 1 }
aggregates:
  - { id: customers_total, kind: count, epsilon: 0.2 }
  - { id: customers_by_segment, kind: count, by: segment, domain: [consumer, smb, enterprise], epsilon: 0.3 }
  - { id: customers_by_country, kind: count, by: country, epsilon: 0.3, delta: 1.0e-7 }
  - { id: mean_lifetime_value, kind: mean, column: lifetime_value, bounds: [0, 5000], epsilon: 0.4 }
  - { id: median_lifetime_value, kind: median, column: lifetime_value, bounds: [0, 5000], epsilon: 0.3 }
`;
