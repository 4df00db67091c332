import { describe, expect, it } from 'vitest';
import { eraseSubject } from '../../../functions/core/erasure/erase-subject.ts';
import { readSubjectIndex } from '../../../functions/core/erasure/subject-index.ts';
import type { RunRecord } from '../../../functions/core/lineage/run-record.ts';
import type { ObjectStore } from '../../../functions/core/ports.ts';
import { DEFAULT_POLICY } from '../../../functions/core/pseudonymise/policy.ts';
import { identifierTokens } from '../../../functions/core/pseudonymise/token.ts';
import { ingest, tempPorts } from './helpers.ts';

const CONTRACT = `
dataset: events
columns:
  - { name: customer_id, privacy: { entity: SUBJECT_ID } }
  - { name: email, privacy: { entity: EMAIL_ADDRESS } }
  - { name: amount, type: integer }
`;

const OBJECTS = 200;
const HOLDERS = new Set([17, 101, 188]);

describe('erasure reads candidates only', () => {
  it(`erasing one subject among ${OBJECTS} objects reads the 3 that hold them (and their raw drops), not all`, async () => {
    const ports = await tempPorts();
    const files = Array.from({ length: OBJECTS }, (_, i) => {
      const rows = [`C-${1000 + i},user${i}@example.com,${i}`, `C-${5000 + i},other${i}@example.org,${i + 1}`];
      // Some holders name the subject by customer id only: the closure still finds them.
      if (HOLDERS.has(i)) rows.push(i === 101 ? `C-4711,,${i}` : `C-4711,jane.doe@example.com,${i}`);
      return { key: `events/e-${String(i).padStart(3, '0')}.csv`, text: `customer_id,email,amount\n${rows.join('\n')}\n` };
    });
    for (let i = 0; i < files.length; i += 25) {
      await Promise.all(files.slice(i, i + 25).map((f) => ingest(ports, f.key, f.text, CONTRACT)));
    }

    // Count data-object reads at the store itself, independently of the certificate.
    const reads = new Set<string>();
    const objects: ObjectStore = Object.create(ports.objects) as ObjectStore;
    objects.get = async (bucket, key, opts) => {
      if (!key.endsWith('_subjects.idx')) reads.add(`${bucket}/${key}`);
      return ports.objects.get(bucket, key, opts);
    };
    const cert = await eraseSubject({ ...ports, objects }, { identifier: 'jane.doe@example.com' });

    // Index false positives (rate ≤ 1e-4 per token) would add candidates: count them from the
    // indexes themselves so the bound is exact whatever the random keys of this run.
    const hmac = (await ports.keys.pseudonymKey('token-hmac')).material;
    const probe = [
      ...identifierTokens('jane.doe@example.com', 'email', hmac, { tokenLength: DEFAULT_POLICY.tokenLength }),
      ...identifierTokens('C-4711', 'subject-id', hmac, { tokenLength: DEFAULT_POLICY.tokenLength }),
    ];
    let falsePositives = 0;
    for await (const r of ports.lineage.list({ kind: 'run' })) {
      const run = r as unknown as RunRecord;
      const i = Number(/e-(\d+)\.csv$/.exec(run.input.key)?.[1]);
      if (HOLDERS.has(i)) continue;
      const idx = run.outputs.find((o) => o.role === 'subject-index');
      const raw = await ports.objects.get('curated', idx?.key as string);
      const chunks: Uint8Array[] = [];
      for await (const c of raw.body) chunks.push(c);
      const reader = readSubjectIndex(Buffer.concat(chunks));
      if (probe.some((t) => reader.mayContain(t))) falsePositives++;
    }

    expect(cert.rowsRemoved).toBe(6); // 3 curated rows + 3 raw rows
    expect(cert.indexesTested).toBe(OBJECTS);
    expect(cert.objectsRead).toBe(reads.size);
    expect(cert.objectsRead).toBeGreaterThanOrEqual(6);
    expect(cert.objectsRead).toBeLessThanOrEqual(2 * (HOLDERS.size + falsePositives));
    expect(falsePositives).toBeLessThan(5);
    expect([...reads].filter((k) => k.startsWith('ingest/')).sort()).toEqual(
      expect.arrayContaining(['ingest/events/e-017.csv', 'ingest/events/e-101.csv', 'ingest/events/e-188.csv']),
    );
  });
});
