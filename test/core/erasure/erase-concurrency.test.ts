import { describe, expect, it } from 'vitest';
import { eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import { readDataset } from '../../../functions/core/pipeline/read-dataset.ts';
import type { Ports } from '../../../functions/core/ports.ts';
import { DEFAULT_POLICY } from '../../../functions/core/pseudonymise/policy.ts';
import { identifierTokens } from '../../../functions/core/pseudonymise/token.ts';
import type { Cell } from '../../../functions/core/types.ts';
import { ingest, tempPorts } from './helpers.ts';

const CONTRACT = `
dataset: customers
subjectKey: customer_id
columns:
  - { name: customer_id, privacy: { entity: SUBJECT_ID } }
  - { name: email, privacy: { entity: EMAIL_ADDRESS } }
  - { name: note, privacy: { entity: FREE_TEXT } }
`;

/** A file with `others` customers of its own and, when asked, a row of the subject. */
function file(n: number, withSubject: boolean): string {
  const rows = ['customer_id,email,note'];
  for (let i = 0; i < 3; i++) rows.push(`C-${n}-${i},u${n}x${i}@example.com,row ${i}`);
  if (withSubject) rows.push(`C-4711,jane.doe@example.com,again`);
  return `${rows.join('\n')}\n`;
}

async function publishedCustomerTokens(ports: Ports): Promise<string[]> {
  const view = await readDataset(ports, 'customers');
  const idx = view.columns.indexOf('customer_id');
  const out: string[] = [];
  for await (const cells of view.rows) out.push(String((cells as Cell[])[idx]));
  return out;
}

describe('erasure concurrent with ingest', () => {
  // Erasure starts before, with, and after a burst of ingests on the same dataset.
  it.each([0, 1, 3])(
    "never loses another subject's row and never leaves the subject published (erase started after %i ingests)",
    async (head) => {
      const ports = await tempPorts();
      for (let n = 0; n < 3; n++) await ingest(ports, `customers/before-${n}.csv`, file(n, true), CONTRACT);
      const burst = Array.from({ length: 6 }, (_, i) => ({ key: `customers/burst-${i}.csv`, text: file(100 + i, i % 2 === 0) }));
      const started = burst.slice(0, head).map((f) => ingest(ports, f.key, f.text, CONTRACT));
      const erasure = eraseSubject(ports, { identifier: 'jane.doe@example.com' });
      const rest = burst.slice(head).map((f) => ingest(ports, f.key, f.text, CONTRACT));
      const [cert] = await Promise.all([erasure, ...started, ...rest]);
      expect(cert.verification).toBe('passed');

      const hmac = (await ports.keys.pseudonymKey('token-hmac')).material;
      const [subjectId] = identifierTokens('C-4711', 'subject-id', hmac, { tokenLength: DEFAULT_POLICY.tokenLength });
      const published = await publishedCustomerTokens(ports);
      // Every other customer's row of every file is published exactly once; the subject's never.
      expect(published).not.toContain(subjectId);
      expect(published).toHaveLength((3 + burst.length) * 3);
      expect(new Set(published).size).toBe(published.length);
    },
  );

  it('a run that loaded the suppression list before the erasure never leaves the subject published: it retries at commit, or a later pass removes it', async () => {
    const ports = await tempPorts();
    await ingest(ports, 'customers/before.csv', file(0, true), CONTRACT);
    const signal = () => {
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      return { open, opened };
    };
    const loaded = signal(); // the late ingest has read the (still empty) suppression list
    const firstLook = signal(); // the erasure has listed the runs once
    let ingestDone!: Promise<unknown>;

    const ingestPorts: Ports = {
      ...ports,
      suppression: {
        add: (t, r) => ports.suppression.add(t, r),
        all: async () => {
          const s = await ports.suppression.all();
          loaded.open();
          return s;
        },
      },
      lineage: {
        ...ports.lineage,
        get: (id) => ports.lineage.get(id),
        list: (f) => ports.lineage.list(f),
        append: async (r) => {
          await firstLook.opened;
          return ports.lineage.append(r);
        },
      },
    };
    let lists = 0;
    const erasePorts: Ports = {
      ...ports,
      lineage: {
        get: (id) => ports.lineage.get(id),
        append: (r) => ports.lineage.append(r),
        list: (f) => {
          lists++;
          if (lists === 1) firstLook.open();
          if (lists !== 2) return ports.lineage.list(f);
          // The end of the first pass looks again once the late run has committed.
          return (async function* () {
            await ingestDone;
            yield* ports.lineage.list(f);
          })();
        },
      },
    };
    const late = ingest(ingestPorts, 'customers/late.csv', file(7, true), CONTRACT);
    ingestDone = late.catch(() => undefined);
    await loaded.opened;
    const cert = await eraseSubject(erasePorts, { identifier: 'jane.doe@example.com' });
    const outcome = await late.then(
      (r) => ({ committed: true as const, r }),
      (e: unknown) => ({ committed: false as const, e }),
    );
    if (outcome.committed) {
      // The late run committed before it could see the erasure; the second pass removed the subject.
      expect(outcome.r.record.counts).toMatchObject({ rowsPublished: 4, rowsSuppressed: 0 });
      expect(cert.passes).toBe(2);
      expect(cert.objectsRewritten.map((o) => o.key)).toContain('customers/late.csv');
    } else {
      // The late run saw the erasure at its commit check and gave up; its retry drops the subject.
      expect(outcome.e).toMatchObject({ context: { rule: 'erasure-during-ingest' } });
      const retry = await ingest(ports, 'customers/late.csv', file(7, true), CONTRACT);
      expect(retry.record.counts).toMatchObject({ rowsPublished: 3, rowsSuppressed: 1 });
    }
    const hmac = (await ports.keys.pseudonymKey('token-hmac')).material;
    const [subjectId] = identifierTokens('C-4711', 'subject-id', hmac, { tokenLength: DEFAULT_POLICY.tokenLength });
    const published = await publishedCustomerTokens(ports);
    expect(published).not.toContain(subjectId);
    expect(published).toHaveLength(6);
    expect(cert.objectsRewritten.map((o) => o.key)).toContain('customers/before.csv');
  });
});
