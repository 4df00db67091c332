import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsContractStore } from '../../../functions/adapters/local/fs-contract-store.ts';
import { UsageError } from '../../../functions/core/errors.ts';
import { tempHome } from './helpers/temp-home.ts';

describe('FsContractStore', () => {
  it('stores YAML as <dataset>.contract.yaml and JSON as .contract.json, replacing the other variant', async () => {
    const store = new FsContractStore(await tempHome());
    expect(await store.get('customers')).toBeUndefined();
    await store.put('customers', 'dataset: customers\ncolumns: []\n');
    expect(await store.get('customers')).toEqual({
      text: 'dataset: customers\ncolumns: []\n',
      source: path.join(store.dir, 'customers.contract.yaml'),
    });
    await store.put('customers', '{"dataset":"customers","columns":[]}');
    expect((await store.get('customers'))?.source).toBe(path.join(store.dir, 'customers.contract.json'));
    expect(await readdir(store.dir)).toEqual(['customers.contract.json']);
    await store.put('customers', '{ not json: but yaml }');
    expect(await readdir(store.dir)).toEqual(['customers.contract.yaml']);
  });

  it('reads contracts dropped in by hand (.yml, .json)', async () => {
    const store = new FsContractStore(await tempHome());
    await store.put('seed', 'x: 1');
    await writeFile(path.join(store.dir, 'orders.contract.json'), '{"dataset":"orders"}');
    await writeFile(path.join(store.dir, 'events.contract.yml'), 'dataset: events');
    expect((await store.get('orders'))?.text).toBe('{"dataset":"orders"}');
    expect((await store.get('events'))?.text).toBe('dataset: events');
  });

  it('keeps unusual dataset names inside the folder', async () => {
    const store = new FsContractStore(await tempHome());
    for (const name of ['../escape', 'a/b', 'Ünïcode set', '.hidden']) {
      await store.put(name, `name: ${JSON.stringify(name)}`);
      expect((await store.get(name))?.text).toBe(`name: ${JSON.stringify(name)}`);
    }
    for (const file of await readdir(store.dir)) expect(file).toMatch(/^[^./][^/]*\.contract\.yaml$/);
    await expect(store.get('')).rejects.toThrow(UsageError);
  });
});
