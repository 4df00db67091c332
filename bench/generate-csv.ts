/**
 * Deterministic benchmark data: a customer-activity CSV of 20 columns, 8 of them PII (customer id,
 * full name, email, phone, IBAN, card number, date of birth, street address) and one free-text
 * `notes` column that mentions emails, phone numbers and digit runs, sometimes quoted over
 * several lines with embedded quotes and commas.
 *
 * Rows reference customers from a pool with a skewed (Zipf-like) popularity, as activity logs do:
 * a customer's PII values repeat across their rows, so a token cache sees realistic repetition
 * instead of either all-distinct or all-identical values. Pool size and skew are parameters; the
 * bench reports the cache hit rate it got.
 *
 *   npx tsx bench/generate-csv.ts OUT.csv [MB=100] [customers=200000]
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface GenerateOptions {
  /** Distinct customers in the pool. @default 200_000 */
  readonly customers?: number;
  /** Zipf exponent of customer popularity (0 = uniform). @default 1.0 */
  readonly skew?: number;
  readonly seed?: number;
}

export const BENCH_COLUMNS = [
  'customer_id',
  'full_name',
  'email',
  'phone',
  'iban',
  'card_number',
  'date_of_birth',
  'street_address',
  'postcode',
  'city',
  'country',
  'signup_date',
  'status',
  'segment',
  'plan',
  'amount',
  'quantity',
  'score',
  'active',
  'notes',
] as const;

/** The 8 PII columns a hand-written job would pick (what the DuckDB baseline hashes). */
export const BENCH_PII_COLUMNS = [
  'customer_id',
  'full_name',
  'email',
  'phone',
  'iban',
  'card_number',
  'date_of_birth',
  'street_address',
] as const;

const FIRST = [
  'Oliver',
  'Amelia',
  'George',
  'Isla',
  'Harry',
  'Ava',
  'Noah',
  'Mia',
  'Jack',
  'Ivy',
  'Leo',
  'Freya',
  'Arthur',
  'Lily',
  'Muhammad',
  'Florence',
  'Oscar',
  'Grace',
  'Charlie',
  'Sophia',
  'Thomas',
  'Emily',
  'James',
  'Chloe',
  'William',
  'Sophie',
  'Henry',
  'Poppy',
  'Lucas',
  'Evie',
];
const LAST = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Patel',
  'Robinson',
  'Wright',
  'Thompson',
  'Evans',
  'Walker',
  'White',
  'Roberts',
  'Green',
  'Hall',
  'Thomas',
  'Clarke',
  'Jackson',
  'Wood',
  'Harris',
  'Edwards',
  'Turner',
  "O'Brien",
  'Martin',
  'Cooper',
  'Hill',
  'Ward',
];
const STREETS = [
  'High Street',
  'Station Road',
  'Main Street',
  'Park Road',
  'Church Road',
  'Church Street',
  'London Road',
  'Victoria Road',
  'Green Lane',
  'Manor Road',
  'Kings Road',
  'Queens Road',
  'New Road',
  'Mill Lane',
  'School Lane',
];
const CITIES = [
  'London',
  'Manchester',
  'Birmingham',
  'Leeds',
  'Glasgow',
  'Bristol',
  'Liverpool',
  'Sheffield',
  'Edinburgh',
  'Cardiff',
  'Leicester',
  'Nottingham',
];
const OUTCODES = ['SW1A', 'EC1V', 'M1', 'B33', 'LS1', 'G2', 'BS1', 'L1', 'S1', 'EH1', 'CF10', 'LE1', 'NG1', 'N1', 'E14'];
const STATUS = ['active', 'churned', 'pending', 'suspended'];
const SEGMENTS = ['retail', 'smb', 'enterprise', 'public'];
const PLANS = ['free', 'basic', 'plus', 'pro'];
const WORDS = [
  'customer',
  'called',
  'about',
  'the',
  'invoice',
  'delivery',
  'was',
  'late',
  'again',
  'refund',
  'approved',
  'please',
  'follow',
  'up',
  'next',
  'week',
  'order',
  'arrived',
  'damaged',
  'replacement',
  'sent',
  'account',
  'upgraded',
  'to',
  'annual',
  'billing',
  'asked',
  'for',
  'a',
  'discount',
];

/** A 31-bit LCG: fast, deterministic, good enough for test data. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 1) / 0x80000000;
  };
}

function luhnDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let n = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return (10 - (sum % 10)) % 10;
}

function ibanFor(n: number): string {
  const bban = `WEST${String(123456 + (n % 800000)).padStart(6, '0')}${String(n).padStart(8, '0').slice(-8)}`;
  // Check digits: mod 97 of BBAN + "GB00" with letters as numbers.
  const rearranged = `${bban}GB00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of rearranged) rem = (rem * 10 + (ch.charCodeAt(0) - 48)) % 97;
  return `GB${String(98 - rem).padStart(2, '0')}${bban}`;
}

interface Customer {
  readonly fields: string;
  readonly email: string;
  readonly phone: string;
  readonly first: string;
}

function customer(n: number): Customer {
  const r = rng(n * 7919 + 17);
  const first = FIRST[Math.floor(r() * FIRST.length)] as string;
  const last = LAST[Math.floor(r() * LAST.length)] as string;
  const id = `CUST-${String(1_000_000 + n)}`;
  const email = `${first.toLowerCase()}.${last.toLowerCase().replace("'", '')}${n}@example.com`;
  const phone = `+44 7${String(700000000 + ((n * 7919) % 299999999)).slice(0, 3)} ${String(100000 + ((n * 104729) % 899999))}`;
  const cardPayload = `4${String(n * 2654435761)
    .padStart(14, '0')
    .slice(-14)}`;
  const card = `${cardPayload}${luhnDigit(cardPayload)}`.replace(/(\d{4})(?=\d)/g, '$1 ');
  const dob = `${1940 + Math.floor(r() * 65)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
  const street = `${1 + Math.floor(r() * 250)} ${STREETS[Math.floor(r() * STREETS.length)]}`;
  const name = last.includes("'") ? `"${first} ${last}"` : `${first} ${last}`;
  const postcode = `${OUTCODES[n % OUTCODES.length]} ${1 + (n % 9)}${String.fromCharCode(65 + (n % 26))}${String.fromCharCode(65 + ((n >> 3) % 26))}`;
  const city = CITIES[n % CITIES.length] as string;
  const fields = [id, name, email, phone, ibanFor(n), card, dob, street, postcode, city, 'GB'].join(',');
  return { fields, email, phone, first };
}

/** Writes about `targetBytes` of CSV to `file`; returns the rows and bytes written. */
export async function generateCsv(file: string, targetBytes: number, opts: GenerateOptions = {}): Promise<{ rows: number; bytes: number }> {
  const pool = opts.customers ?? 200_000;
  const skew = opts.skew ?? 1.0;
  const r = rng(opts.seed ?? 42);
  // Inverse-CDF table of a Zipf(skew) distribution over ranks, then a fixed rank→customer shuffle.
  const cdf = new Float64Array(pool);
  let total = 0;
  for (let k = 0; k < pool; k++) {
    total += 1 / (k + 1) ** skew;
    cdf[k] = total;
  }
  const pick = (): number => {
    const x = r() * total;
    let lo = 0;
    let hi = pool - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return (Math.imul(lo, 0x9e3779b1) >>> 0) % pool;
  };
  const cache = new Map<number, Customer>();
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  let buf = `${BENCH_COLUMNS.join(',')}\n`;
  let bytes = 0;
  let rows = 0;
  const flush = async () => {
    const b = Buffer.from(buf, 'utf8');
    bytes += b.length;
    buf = '';
    if (!out.write(b)) await once(out, 'drain');
  };
  while (bytes + buf.length < targetBytes) {
    const n = pick();
    let c = cache.get(n);
    if (!c) {
      c = customer(n);
      if (cache.size < 50_000) cache.set(n, c);
    }
    const day = 1 + Math.floor(r() * 28);
    const month = 1 + Math.floor(r() * 12);
    const signup = `20${10 + Math.floor(r() * 15)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    const amount = (r() * 2000).toFixed(2);
    const quantity = 1 + Math.floor(r() * 20);
    const score = (r() * 100).toFixed(1);
    const active = r() < 0.7 ? 'true' : 'false';
    let notes = '';
    const kind = r();
    if (kind < 0.35) {
      const w: string[] = [];
      const n2 = 4 + Math.floor(r() * 14);
      for (let k = 0; k < n2; k++) w.push(WORDS[Math.floor(r() * WORDS.length)] as string);
      notes = w.join(' ');
    } else if (kind < 0.5) {
      notes = `Spoke with ${c.first} - call back on ${c.phone} about order ${100000 + Math.floor(r() * 900000)}`;
    } else if (kind < 0.62) {
      notes = `"Send the invoice to ${c.email}, not the old address; ref ${Math.floor(r() * 1e8)}"`;
    } else if (kind < 0.68) {
      notes = `"Customer wrote:\n""please close my account"", ticket ${Math.floor(r() * 1e6)}\nfollow up next week"`;
    }
    buf += `${c.fields},${signup},${STATUS[Math.floor(r() * 4)]},${SEGMENTS[Math.floor(r() * 4)]},${PLANS[Math.floor(r() * 4)]},${amount},${quantity},${score},${active},${notes}\n`;
    rows++;
    if (buf.length >= 1 << 20) await flush();
  }
  if (buf.length > 0) await flush();
  out.end();
  await once(out, 'finish');
  return { rows, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, mb = '100', customers = '200000'] = process.argv.slice(2);
  if (!file) throw new Error('usage: generate-csv.ts OUT.csv [MB] [customers]');
  const t = performance.now();
  const r = await generateCsv(file, Number(mb) * 1e6, { customers: Number(customers) });
  console.log(`${r.rows} rows, ${(r.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
