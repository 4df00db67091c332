import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonLinesLogger } from '../../../functions/adapters/local/json-lines-logger.ts';
import { createLocalPorts, resolveHome } from '../../../functions/adapters/local/local-ports.ts';
import { UsageError } from '../../../functions/core/errors.ts';
import { collect, tempHome, toArray } from './helpers/temp-home.ts';

describe('resolveHome', () => {
  it.each([
    ['the flag first', 'flag-dir', { PRIVACY_PIPELINE_HOME: '/env/dir' }, 'flag-dir'],
    ['then the environment', undefined, { PRIVACY_PIPELINE_HOME: '/env/dir' }, '/env/dir'],
    ['an empty flag falls through', '', { PRIVACY_PIPELINE_HOME: '/env/dir' }, '/env/dir'],
    ['an empty variable falls through', undefined, { PRIVACY_PIPELINE_HOME: '' }, './.privacy-pipeline'],
    ['then the default', undefined, {}, './.privacy-pipeline'],
  ])('%s', (_case, flag, env, expected) => {
    expect(resolveHome(flag, env)).toBe(expected);
  });
});

describe('JsonLinesLogger', () => {
  it.each([
    ['warn', ['warn', 'error']],
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['ERROR', ['error']],
    ['silent', []],
  ])('at %s writes %j', (level, expected) => {
    const lines: string[] = [];
    const logger = new JsonLinesLogger(level, (l) => lines.push(l));
    logger.debug('d', { n: 1 });
    logger.info('i');
    logger.warn('w');
    logger.error('e', { err: new Error('boom') });
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; message: string; time: string });
    expect(parsed.map((p) => p.level)).toEqual(expected);
    for (const l of lines) expect(l.endsWith('\n')).toBe(true);
  });

  it('serialises errors without stacks, survives unserialisable fields, rejects unknown levels', () => {
    const lines: string[] = [];
    const logger = new JsonLinesLogger('debug', (l) => lines.push(l));
    logger.error('failed', { err: new TypeError('bad thing') });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.info('cyclic', { cyclic });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ message: 'failed', err: { name: 'TypeError', message: 'bad thing' } });
    expect(lines[0]).not.toContain('at ');
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ message: 'cyclic', fieldsDropped: true });
    expect(() => new JsonLinesLogger('verbose')).toThrow(UsageError);
  });
});

describe('createLocalPorts', () => {
  it('composes working ports over one home folder', async () => {
    const home = path.join(await tempHome(), 'home');
    const clock = { now: () => new Date('2026-03-04T05:06:07.000Z') };
    const ports = await createLocalPorts(home, { clock, logLevel: 'silent' });
    expect(ports.home).toBe(home);
    expect(ports.random.bytes(16)).toHaveLength(16);
    expect(ports.clock.now().toISOString()).toBe('2026-03-04T05:06:07.000Z');
    const info = await ports.objects.put('curated', 'ds/x.csv', Buffer.from('a,b\n1,2\n'));
    expect(info.lastModified.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect((await collect((await ports.objects.get('curated', 'ds/x.csv')).body)).toString()).toBe('a,b\n1,2\n');
    await ports.lineage.append({ id: 'run-1', kind: 'run', dataset: 'ds', at: clock.now().toISOString() });
    expect(await toArray(ports.lineage.list())).toHaveLength(1);
    expect((await ports.idempotency.claim('k', 'o', 1000)).status).toBe('claimed');
    expect((await ports.budget.spend('ds', { epsilon: 1, delta: 0 }, { epsilon: 2, delta: 0 }, 'r')).remaining.epsilon).toBe(1);
    await ports.suppression.add(['t'], 'req');
    expect(await ports.suppression.all()).toEqual(new Set(['t']));
    await ports.contracts.put('ds', 'dataset: ds');
    expect((await ports.contracts.get('ds'))?.text).toBe('dataset: ds');
    expect(await ports.subjectKeys.getOrCreate('tok')).toHaveLength(32);
    expect((await ports.keys.describe()).master.version).toBe('v1');
    await expect(createLocalPorts(home, { logLevel: 'loud' })).rejects.toThrow(UsageError);
  });
});
