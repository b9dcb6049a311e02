import { describe, expect, it } from 'vitest';
import { BOOT_PARAMS, BootParamError, formatCmdline, parseCmdline } from '../src/cmdline.js';

function err(fn: () => unknown): BootParamError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BootParamError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('kernel command line', () => {
  it('fills every default from an empty command line', () => {
    const o = parseCmdline('');
    expect(o.nr_cpus).toBe(4);
    expect(o.mem).toBe(512 * 1024 * 1024);
    expect(o.preempt).toBe('full');
    expect(o.kfree_rcu).toBe('batched');
    expect(o['rcutree.rcu_min_cached_objs']).toBe(5);
    expect(o.rcu_nocbs).toEqual([]);
    expect(o.lockdep).toBe(true);
  });

  it('parses the ARCHITECTURE example', () => {
    const o = parseCmdline(
      'nr_cpus=8 preempt=rt slab=sheaves kfree_rcu=batched rcutree.rcu_min_cached_objs=5 mem=512M lockdep=1 seed=42',
    );
    expect(o).toMatchObject({
      nr_cpus: 8,
      preempt: 'rt',
      slab: 'sheaves',
      seed: 42,
      lockdep: true,
    });
  });

  it('reads sizes, cpulists and bare flags as the kernel does', () => {
    const o = parseCmdline('mem=2G rcu_nocbs=0-2,5 panic_on_warn nr_cpus=8');
    expect(o.mem).toBe(2 * 1024 ** 3);
    expect(o.rcu_nocbs).toEqual([0, 1, 2, 5]);
    expect(o.panic_on_warn).toBe(true);
  });

  it('rejects an unknown parameter and suggests the nearest one', () => {
    const e = err(() => parseCmdline('nr_cpu=4'));
    expect(e.code).toBe('UNKNOWN_PARAM');
    expect(e.suggestion).toBe('nr_cpus');
    expect(e.message).toContain("'nr_cpu'");
    expect(err(() => parseCmdline('blimit=5')).suggestion).toBe('rcutree.blimit');
  });

  it('rejects malformed values naming the parameter, the value and what is accepted', () => {
    const e = err(() => parseCmdline('preempt=lazy'));
    expect(e.code).toBe('BAD_VALUE');
    expect(e.message).toContain("'lazy'");
    expect(e.message).toContain('none, voluntary, full, rt');
    expect(err(() => parseCmdline('nr_cpus=0')).message).toContain('1 to 1024');
    expect(err(() => parseCmdline('mem=lots')).message).toContain('K/M/G');
    expect(err(() => parseCmdline('nr_cpus=2 rcu_nocbs=3')).param).toBe('rcu_nocbs');
    expect(err(() => parseCmdline('rcutree.qlowmark=500 rcutree.qhimark=100')).code).toBe(
      'BAD_VALUE',
    );
    expect(err(() => parseCmdline('seed=1 seed=2')).code).toBe('DUPLICATE');
    expect(err(() => parseCmdline('=3')).code).toBe('MALFORMED');
    // 16K / (64 B x 12 ways) is not a whole power-of-two number of sets.
    const geo = err(() => parseCmdline('cache.l1d=16K'));
    expect(geo.param).toBe('cache.l1d');
    expect(geo.message).toContain('cache.l1d=16K');
  });

  it('round-trips through its canonical form', () => {
    const o = parseCmdline('nr_cpus=2 mem=64M preempt=none rcu_nocbs=1 kasan=1');
    expect(parseCmdline(formatCmdline(o))).toEqual(o);
    expect(formatCmdline(o, true)).toBe('nr_cpus=2 mem=64M preempt=none rcu_nocbs=1 kasan=1');
  });

  it('has one BootOptions field per parameter', () => {
    expect(Object.keys(parseCmdline('')).sort()).toEqual(BOOT_PARAMS.map((p) => p.name).sort());
  });

  it('parses every default as valid', () => {
    for (const p of BOOT_PARAMS) expect(() => p.parse(p.defaultText)).not.toThrow();
  });
});
