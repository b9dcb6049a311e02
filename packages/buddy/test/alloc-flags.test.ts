import {
  __GFP_HIGH,
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOWAIT,
} from '@sim/gfp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALLOC_CPUSET,
  ALLOC_HIGHATOMIC,
  ALLOC_KSWAPD,
  ALLOC_MIN_RESERVE,
  ALLOC_NO_WATERMARKS,
  ALLOC_NON_BLOCK,
  ALLOC_OOM,
  ALLOC_WMARK_MIN,
  formatAllocFlags,
  gfpPfmemallocFlags,
  gfpToAllocFlags,
  reserveAdjustedMark,
} from '../src/index.js';
import { checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

const task = { rtTask: false, inTask: true };
const ctx = { inServingSoftirq: false, inInterrupt: false, pfMemalloc: false, oomVictim: false };

describe('gfp_to_alloc_flags()', () => {
  it('GFP_ATOMIC: min reserve and non-block, no cpuset; order > 0 adds HIGHATOMIC', () => {
    expect(gfpToAllocFlags(GFP_ATOMIC, 0, task)).toBe(
      ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE | ALLOC_KSWAPD | ALLOC_NON_BLOCK,
    );
    expect(gfpToAllocFlags(GFP_ATOMIC, 1, task) & ALLOC_HIGHATOMIC).toBe(ALLOC_HIGHATOMIC);
    expect(formatAllocFlags(gfpToAllocFlags(GFP_ATOMIC, 0, task))).toBe(
      'ALLOC_WMARK_MIN|ALLOC_NON_BLOCK|ALLOC_MIN_RESERVE|ALLOC_KSWAPD',
    );
  });
  it('GFP_NOWAIT: non-block but no min reserve', () => {
    expect(gfpToAllocFlags(GFP_NOWAIT, 0, task)).toBe(
      ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD | ALLOC_NON_BLOCK,
    );
  });
  it('GFP_KERNEL: only the watermark, cpuset and kswapd; real-time tasks get the min reserve', () => {
    expect(gfpToAllocFlags(GFP_KERNEL, 0, task)).toBe(
      ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD,
    );
    expect(gfpToAllocFlags(GFP_KERNEL, 0, { rtTask: true, inTask: true }) & ALLOC_MIN_RESERVE).toBe(
      ALLOC_MIN_RESERVE,
    );
    expect(
      gfpToAllocFlags(GFP_KERNEL, 0, { rtTask: true, inTask: false }) & ALLOC_MIN_RESERVE,
    ).toBe(0);
  });
  it('__GFP_NOMEMALLOC removes the non-blocking bonus', () => {
    expect(
      gfpToAllocFlags(GFP_ATOMIC | __GFP_NOMEMALLOC, 1, task) &
        (ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC),
    ).toBe(0);
  });
});

describe('__gfp_pfmemalloc_flags()', () => {
  it('__GFP_MEMALLOC ignores watermarks unless __GFP_NOMEMALLOC', () => {
    expect(gfpPfmemallocFlags(GFP_KERNEL | __GFP_MEMALLOC, ctx)).toBe(ALLOC_NO_WATERMARKS);
    expect(gfpPfmemallocFlags(GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOMEMALLOC, ctx)).toBe(0);
  });
  it('PF_MEMALLOC tasks outside interrupts, or serving a softirq, ignore watermarks', () => {
    expect(gfpPfmemallocFlags(GFP_KERNEL, { ...ctx, pfMemalloc: true })).toBe(ALLOC_NO_WATERMARKS);
    expect(gfpPfmemallocFlags(GFP_ATOMIC, { ...ctx, pfMemalloc: true, inInterrupt: true })).toBe(0);
    expect(
      gfpPfmemallocFlags(GFP_ATOMIC, {
        ...ctx,
        pfMemalloc: true,
        inInterrupt: true,
        inServingSoftirq: true,
      }),
    ).toBe(ALLOC_NO_WATERMARKS);
  });
  it('OOM victims get ALLOC_OOM', () => {
    expect(gfpPfmemallocFlags(GFP_KERNEL, { ...ctx, oomVictim: true })).toBe(ALLOC_OOM);
  });
});

describe('reserve discounts of __zone_watermark_ok()', () => {
  it('mark 1000: GFP_ATOMIC keeps 375, __GFP_HIGH alone 500, GFP_NOWAIT 1000, OOM victims 500', () => {
    expect(reserveAdjustedMark(1000, gfpToAllocFlags(GFP_ATOMIC, 0, task))).toBe(375);
    expect(reserveAdjustedMark(1000, gfpToAllocFlags(GFP_KERNEL | __GFP_HIGH, 0, task))).toBe(500);
    expect(reserveAdjustedMark(1000, gfpToAllocFlags(GFP_NOWAIT, 0, task))).toBe(1000);
    expect(reserveAdjustedMark(1000, ALLOC_OOM)).toBe(500);
  });
});
