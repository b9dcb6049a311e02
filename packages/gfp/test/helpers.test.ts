import { describe, expect, it } from 'vitest';
import {
  __GFP_ACCOUNT,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGHMEM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NO_LOCKS,
  __GFP_NOMEMALLOC,
  __GFP_RECLAIMABLE,
  currentGfpContext,
  describeGfp,
  GFP_ATOMIC,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOFS,
  GFP_NOIO,
  GFP_NOWAIT,
  GFP_TRANSHUGE,
  GFP_TRANSHUGE_LIGHT,
  GfpError,
  gfpflagsAllowBlocking,
  gfpflagsAllowSpinning,
  gfpMigratetype,
  gfpNestedMask,
  gfpZone,
  MemallocScope,
  MigrateType,
  PF_MEMALLOC_NOIO,
  PF_MEMALLOC_PIN,
  ZoneType,
} from '../src/index.js';

describe('composite masks have the kernel values (include/linux/gfp_types.h)', () => {
  it.each([
    ['GFP_ATOMIC', GFP_ATOMIC, 0x820],
    ['GFP_KERNEL', GFP_KERNEL, 0xcc0],
    ['GFP_NOWAIT', GFP_NOWAIT, 0x2800],
    ['GFP_NOIO', GFP_NOIO, 0xc00],
    ['GFP_NOFS', GFP_NOFS, 0xc40],
    ['GFP_HIGHUSER_MOVABLE', GFP_HIGHUSER_MOVABLE, 0x100cca],
    ['GFP_TRANSHUGE_LIGHT', GFP_TRANSHUGE_LIGHT, 0x1c20ca],
    ['GFP_TRANSHUGE', GFP_TRANSHUGE, 0x1c24ca],
  ])('%s = %i', (_name, value, expected) => {
    expect(value).toBe(expected);
  });
});

describe('blocking and spinning', () => {
  it('GFP_ATOMIC may not block, GFP_KERNEL may', () => {
    expect(gfpflagsAllowBlocking(GFP_ATOMIC)).toBe(false);
    expect(gfpflagsAllowBlocking(GFP_KERNEL)).toBe(true);
  });

  it('every named mask may spin; only masks without reclaim bits are trylock-only', () => {
    expect(gfpflagsAllowSpinning(GFP_NOWAIT)).toBe(true);
    expect(gfpflagsAllowSpinning(GFP_ATOMIC)).toBe(true);
    expect(gfpflagsAllowSpinning(0)).toBe(false);
    expect(gfpflagsAllowSpinning(__GFP_ACCOUNT)).toBe(false);
  });
});

describe('gfp_zone()', () => {
  it('maps the zone modifiers as GFP_ZONE_TABLE does on x86_64', () => {
    expect(gfpZone(GFP_KERNEL)).toBe(ZoneType.NORMAL);
    expect(gfpZone(__GFP_DMA)).toBe(ZoneType.DMA);
    expect(gfpZone(GFP_DMA32)).toBe(ZoneType.DMA32);
    expect(gfpZone(__GFP_MOVABLE)).toBe(ZoneType.NORMAL);
    expect(gfpZone(__GFP_MOVABLE | __GFP_HIGHMEM)).toBe(ZoneType.MOVABLE);
    expect(gfpZone(__GFP_MOVABLE | __GFP_DMA32)).toBe(ZoneType.DMA32);
    // No CONFIG_HIGHMEM on 64-bit: HIGHMEM collapses to NORMAL.
    expect(gfpZone(__GFP_HIGHMEM)).toBe(ZoneType.NORMAL);
    expect(gfpZone(__GFP_HIGHMEM, { highmem: true })).toBe(ZoneType.HIGHMEM);
    expect(gfpZone(__GFP_DMA32, { dma32: false })).toBe(ZoneType.NORMAL);
  });

  it('treats two exclusive zone bits as GFP_ZONE_BAD', () => {
    expect(() => gfpZone(__GFP_DMA | __GFP_HIGHMEM)).toThrow(GfpError);
    expect(() => gfpZone(__GFP_DMA | __GFP_DMA32 | __GFP_MOVABLE)).toThrow(/GFP_ZONE_BAD/);
  });
});

describe('gfp_migratetype() and gfp_nested_mask()', () => {
  it('derives the mobility from the movable bits', () => {
    expect(gfpMigratetype(GFP_KERNEL)).toBe(MigrateType.UNMOVABLE);
    expect(gfpMigratetype(GFP_HIGHUSER_MOVABLE)).toBe(MigrateType.MOVABLE);
    expect(gfpMigratetype(GFP_KERNEL | __GFP_RECLAIMABLE)).toBe(MigrateType.RECLAIMABLE);
  });

  it('makes nested allocations quiet, non-retrying and reserve-free', () => {
    expect(gfpNestedMask(GFP_KERNEL | __GFP_ACCOUNT)).toBe(0xcc0 | 0x10000 | 0x80000 | 0x2000);
  });
});

describe('memalloc scopes (current_gfp_context)', () => {
  it('strips IO and FS inside a NOIO scope and restores on exit', () => {
    const scope = new MemallocScope();
    const cookie = scope.noioSave();
    expect(scope.gfpContext(GFP_KERNEL)).toBe(GFP_NOIO);
    const inner = scope.nofsSave();
    // NOIO wins over NOFS while both are set.
    expect(scope.gfpContext(GFP_KERNEL)).toBe(GFP_NOIO);
    scope.nofsRestore(inner);
    scope.noioRestore(cookie);
    expect(scope.gfpContext(GFP_KERNEL)).toBe(GFP_KERNEL);
  });

  it('a nested save of an already-set scope does not clear it on restore', () => {
    const scope = new MemallocScope();
    const outer = scope.nofsSave();
    const inner = scope.nofsSave();
    scope.nofsRestore(inner);
    expect(scope.gfpContext(GFP_KERNEL)).toBe(GFP_NOFS);
    scope.nofsRestore(outer);
    expect(scope.gfpContext(GFP_KERNEL)).toBe(GFP_KERNEL);
  });

  it('strips MOVABLE inside a pin scope', () => {
    expect(currentGfpContext(GFP_HIGHUSER_MOVABLE, PF_MEMALLOC_PIN) & __GFP_MOVABLE).toBe(0);
    expect(currentGfpContext(GFP_KERNEL, PF_MEMALLOC_NOIO)).toBe(GFP_NOIO);
  });
});

describe('describeGfp()', () => {
  it('explains GFP_ATOMIC: no blocking, spins, kswapd, 3/8 of min', () => {
    const d = describeGfp(GFP_ATOMIC);
    expect(d.text).toBe('GFP_ATOMIC');
    expect(d.mayBlock).toBe(false);
    expect(d.maySpin).toBe(true);
    expect(d.wakesKswapd).toBe(true);
    expect(d.reserves).toBe('min-reserve-nonblock');
    expect(d.minWatermarkFraction).toBe(0.375);
    expect(d.zone).toBe('Normal');
  });

  it('explains GFP_NOWAIT: fails at the min watermark', () => {
    const d = describeGfp(GFP_NOWAIT);
    expect(d.reserves).toBe('none');
    expect(d.minWatermarkFraction).toBe(1);
    expect(d.warns).toBe(false);
  });

  it('gives __GFP_MEMALLOC no watermarks unless __GFP_NOMEMALLOC overrides it', () => {
    expect(describeGfp(GFP_KERNEL | __GFP_MEMALLOC).reserves).toBe('no-watermarks');
    expect(describeGfp(GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOMEMALLOC).reserves).toBe('none');
  });

  it('flags trylock-only masks, the experiment and bad zones', () => {
    expect(describeGfp(0).notes.join('\n')).toMatch(/trylock-only/);
    expect(describeGfp(GFP_ATOMIC | __GFP_NO_LOCKS).notes.join('\n')).toMatch(/never merged/);
    const bad = describeGfp(__GFP_DMA | __GFP_DMA32);
    expect(bad.zone).toBeNull();
  });
});
