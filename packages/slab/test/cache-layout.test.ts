import { __GFP_ACCOUNT, __GFP_DMA, __GFP_RECLAIMABLE, GFP_KERNEL } from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import {
  calculateAlignment,
  calculateLayout,
  calculateOrder,
  calculateSheafCapacity,
  DEBUG_DEFAULT_FLAGS,
  getOrder,
  KMALLOC_MAX_CACHE_SIZE,
  KmallocType,
  kmallocIndex,
  kmallocName,
  kmallocSizeRoundup,
  kmallocType,
  parseSlabDebug,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_HWCACHE_ALIGN,
  SLAB_KMALLOC,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
  SlabError,
  slabDebugFlagsFor,
} from '../src/index.js';

describe('kmalloc size classes (mm/slab_common.c)', () => {
  it('maps sizes to kmalloc-8 … kmalloc-8k with the 96 and 192 caches', () => {
    const name = (n: number) => kmallocName(KmallocType.NORMAL, kmallocIndex(n));
    expect(name(1)).toBe('kmalloc-8');
    expect(name(8)).toBe('kmalloc-8');
    expect(name(9)).toBe('kmalloc-16');
    expect(name(24)).toBe('kmalloc-32');
    expect(name(64)).toBe('kmalloc-64');
    expect(name(65)).toBe('kmalloc-96');
    expect(name(96)).toBe('kmalloc-96');
    expect(name(97)).toBe('kmalloc-128');
    expect(name(129)).toBe('kmalloc-192');
    expect(name(193)).toBe('kmalloc-256');
    expect(name(200)).toBe('kmalloc-256');
    expect(name(1025)).toBe('kmalloc-2k');
    expect(name(KMALLOC_MAX_CACHE_SIZE)).toBe('kmalloc-8k');
  });

  it('picks the family from the GFP mask as kmalloc_type() does', () => {
    expect(kmallocType(GFP_KERNEL)).toBe(KmallocType.NORMAL);
    expect(kmallocType(GFP_KERNEL | __GFP_ACCOUNT)).toBe(KmallocType.CGROUP);
    expect(kmallocType(GFP_KERNEL | __GFP_RECLAIMABLE)).toBe(KmallocType.RECLAIM);
    expect(kmallocType(GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_ACCOUNT)).toBe(KmallocType.RECLAIM);
    expect(kmallocType(__GFP_DMA | __GFP_ACCOUNT)).toBe(KmallocType.DMA);
    expect(kmallocName(KmallocType.CGROUP, kmallocIndex(1024))).toBe('kmalloc-cg-1k');
    expect(kmallocName(KmallocType.RECLAIM, kmallocIndex(100))).toBe('kmalloc-rcl-128');
    expect(kmallocName(KmallocType.DMA, kmallocIndex(8))).toBe('dma-kmalloc-8');
  });

  it('rounds sizes up as kmalloc_size_roundup() does', () => {
    expect(kmallocSizeRoundup(200)).toBe(256);
    expect(kmallocSizeRoundup(8193)).toBe(16384);
    expect(getOrder(8193)).toBe(2);
    expect(getOrder(4096)).toBe(0);
  });
});

describe('calculate_sizes() and calculate_order() (mm/slub.c)', () => {
  const kmalloc = (size: number, flags = SLAB_KMALLOC, nrCpus = 2) =>
    calculateLayout({
      objectSize: size,
      align: calculateAlignment(flags, Math.max(8, size & -size), size),
      flags,
      hasCtor: false,
      freeptrOffset: -1,
      nrCpus,
    });

  it('gives the kmalloc caches the objects per slab and orders of a 2-CPU machine', () => {
    const geo = (n: number) => {
      const l = kmalloc(n);
      return [l.objects, 2 ** l.order];
    };
    expect(geo(8)).toEqual([512, 1]);
    expect(geo(64)).toEqual([64, 1]);
    expect(geo(96)).toEqual([42, 1]);
    expect(geo(192)).toEqual([21, 1]);
    expect(geo(2048)).toEqual([16, 8]);
    expect(geo(4096)).toEqual([8, 8]);
    expect(geo(8192)).toEqual([4, 8]);
  });

  it('grows orders with the CPU count (min_objects = 4 * (fls(nr_cpus) + 1))', () => {
    expect(calculateOrder(1024, 1)).toBe(1);
    expect(calculateOrder(1024, 64)).toBe(3);
    expect(kmalloc(1024, SLAB_KMALLOC, 64).objects).toBe(32);
  });

  it('places the free pointer mid-object, or after it when the object may not be overwritten', () => {
    expect(kmalloc(64).offset).toBe(32);
    const rcu = calculateLayout({
      objectSize: 40,
      align: 8,
      flags: SLAB_TYPESAFE_BY_RCU,
      hasCtor: false,
      freeptrOffset: -1,
      nrCpus: 2,
    });
    expect(rcu.offset).toBe(40);
    expect(rcu.size).toBe(48);
    const ctor = calculateLayout({
      objectSize: 40,
      align: 8,
      flags: 0,
      hasCtor: true,
      freeptrOffset: -1,
      nrCpus: 2,
    });
    expect(ctor.offset).toBe(40);
    const given = calculateLayout({
      objectSize: 40,
      align: 8,
      flags: SLAB_TYPESAFE_BY_RCU,
      hasCtor: false,
      freeptrOffset: 16,
      nrCpus: 2,
    });
    expect(given.offset).toBe(16);
    expect(given.size).toBe(40);
  });

  it('adds red zones, the free pointer, two tracks and the kmalloc orig_size under slab_debug=FZPU', () => {
    const l = kmalloc(64, SLAB_KMALLOC | DEBUG_DEFAULT_FLAGS);
    // 64 + 8 right red zone = inuse 72, free pointer 80, tracks 144, orig_size 148,
    // padding word 156, left red zone 64 (aligned to 64) = 220, aligned to 256.
    expect(l.inuse).toBe(72);
    expect(l.offset).toBe(72);
    expect(l.redLeftPad).toBe(64);
    expect(l.size).toBe(256);
    expect(l.cpuPartial).toBe(0);
  });

  it('sets min_partial from the size and cpu_partial from the size class', () => {
    expect(kmalloc(64).minPartial).toBe(5);
    expect(kmalloc(8192).minPartial).toBe(6);
    expect(kmalloc(64).cpuPartial).toBe(120);
    expect(kmalloc(64).cpuPartialSlabs).toBe(4);
    expect(kmalloc(512).cpuPartial).toBe(52);
    expect(kmalloc(1024).cpuPartial).toBe(24);
    expect(kmalloc(4096).cpuPartial).toBe(6);
  });

  it('aligns to cache lines only objects big enough (SLAB_HWCACHE_ALIGN)', () => {
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 100)).toBe(64);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 20)).toBe(32);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 8)).toBe(8);
    expect(calculateAlignment(0, 0, 100)).toBe(8);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 128, 100)).toBe(128);
  });

  it('computes the v7.0 sheaf capacity so that a sheaf fills its kmalloc bucket', () => {
    expect(calculateSheafCapacity(64, 0)).toBe(60);
    expect(calculateSheafCapacity(256, 0)).toBe(28);
    expect(calculateSheafCapacity(1024, 0)).toBe(12);
    expect(calculateSheafCapacity(4096, 0)).toBe(4);
    expect(calculateSheafCapacity(64, 0, 100)).toBe(100);
    expect(calculateSheafCapacity(64, SLAB_RED_ZONE)).toBe(0);
  });
});

describe('slab_debug= (setup_slub_debug, kmem_cache_flags)', () => {
  it('turns everything on with no options and names flags per cache', () => {
    expect(parseSlabDebug('').global).toBe(DEBUG_DEFAULT_FLAGS);
    const spec = parseSlabDebug('FZ,kmalloc-64,dentry;P,kmalloc-1*');
    expect(spec.global).toBe(0);
    expect(slabDebugFlagsFor(spec, 'kmalloc-64', 0)).toBe(SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
    expect(slabDebugFlagsFor(spec, 'kmalloc-128', 0)).toBe(SLAB_POISON);
    expect(slabDebugFlagsFor(spec, 'kmalloc-256', 0)).toBe(0);
    expect(slabDebugFlagsFor(parseSlabDebug('U'), 'x', 0)).toBe(SLAB_STORE_USER);
  });

  it('rejects an unknown option letter, naming it', () => {
    expect(() => parseSlabDebug('FQ')).toThrow(SlabError);
    expect(() => parseSlabDebug('FQ')).toThrow(/"Q"/);
  });
});
