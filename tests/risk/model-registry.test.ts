/**
 * The process's model registry (built once by the composition root) keeps tenants' models in a bounded LRU: the
 * least recently used is dropped beyond the bound and loaded again on its next use, a failed load is not kept.
 */
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/risk/model-registry';
import type { LoadedModel } from '../../src/risk/model-store';

function counting() {
  const loads: string[] = [];
  const load = (key: string) => () => {
    loads.push(key);
    return Promise.resolve({ manifest: { version: key } } as unknown as LoadedModel);
  };
  return { loads, load };
}

describe('ModelRegistry', () => {
  it('keeps at most maxTenantModels, dropping the least recently used', async () => {
    const registry = new ModelRegistry({ maxTenantModels: 2 });
    const { loads, load } = counting();
    await registry.tenantModel('a', load('a'));
    await registry.tenantModel('b', load('b'));
    // 'a' is used again: 'b' is now the least recently used.
    expect((await registry.tenantModel('a', load('a'))).manifest.version).toBe('a');
    await registry.tenantModel('c', load('c'));
    expect(registry.loadedTenantModels).toBe(2);
    expect(loads).toEqual(['a', 'b', 'c']);
    // 'a' and 'c' are still loaded; 'b' was evicted and loads again.
    await registry.tenantModel('a', load('a'));
    await registry.tenantModel('c', load('c'));
    expect(loads).toEqual(['a', 'b', 'c']);
    await registry.tenantModel('b', load('b'));
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
    expect(registry.loadedTenantModels).toBe(2);
  });

  it('shares one load between concurrent callers and forgets a failed one', async () => {
    const registry = new ModelRegistry();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error('corrupt graph'));
    };
    const [x, y] = [registry.tenantModel('t:v1', failing), registry.tenantModel('t:v1', failing)];
    await expect(x).rejects.toThrow('corrupt graph');
    await expect(y).rejects.toThrow('corrupt graph');
    expect(calls).toBe(1);
    expect(registry.loadedTenantModels).toBe(0);
    const { loads, load } = counting();
    expect((await registry.tenantModel('t:v1', load('t:v1'))).manifest.version).toBe('t:v1');
    expect(loads).toEqual(['t:v1']);
  });
});
