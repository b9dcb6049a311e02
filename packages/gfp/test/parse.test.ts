import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  __GFP_FS,
  __GFP_NOWARN,
  formatGfp,
  GFP_ATOMIC,
  GFP_DIALECT_IDS,
  GFP_KERNEL,
  GfpError,
  parseGfp,
  suggestGfpNames,
} from '../src/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof GfpError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseGfp', () => {
  it('reads numbers in hex and decimal', () => {
    expect(parseGfp('0xcc0')).toBe(GFP_KERNEL);
    expect(parseGfp('3264')).toBe(GFP_KERNEL);
  });

  it('reads %pGg output and C expressions', () => {
    expect(parseGfp('GFP_ATOMIC|__GFP_NOWARN')).toBe(GFP_ATOMIC | __GFP_NOWARN);
    expect(parseGfp(' GFP_KERNEL & ~__GFP_FS ')).toBe(GFP_KERNEL & ~__GFP_FS);
    expect(parseGfp('(GFP_KERNEL | __GFP_NOWARN) & ~(__GFP_FS)')).toBe(
      (GFP_KERNEL | __GFP_NOWARN) & ~__GFP_FS,
    );
  });

  it('reads the report form and checks both halves agree', () => {
    expect(parseGfp('mode:0x820(GFP_ATOMIC)')).toBe(0x820);
    expect(parseGfp('gfp_mask=0xcc0(GFP_KERNEL)')).toBe(0xcc0);
    expect(codeOf(() => parseGfp('0xcc0(GFP_ATOMIC)'))).toBe('MISMATCH');
  });

  it('treats the empty string and none as 0', () => {
    expect(parseGfp('')).toBe(0);
    expect(parseGfp('none')).toBe(0);
  });

  it('accepts __GFP_ATOMIC in every dialect for old splats', () => {
    expect(parseGfp('__GFP_ATOMIC')).toBe(0x200);
    expect(parseGfp('GFP_ATOMIC', { dialect: '6.2' })).toBe(0xa20);
  });

  it('rejects an unknown flag naming it and suggesting the closest names', () => {
    let err: GfpError | undefined;
    try {
      parseGfp('GFP_KERNEL|__GFP_NOWRAN');
    } catch (e) {
      err = e as GfpError;
    }
    expect(err).toBeInstanceOf(GfpError);
    expect(err?.code).toBe('UNKNOWN_FLAG');
    expect(err?.message).toContain("'__GFP_NOWRAN'");
    expect(err?.suggestions[0]).toBe('__GFP_NOWARN');
  });

  it('suggests the prefixed name for a bare one', () => {
    expect(suggestGfpNames('KERNEL')[0]).toBe('GFP_KERNEL');
    expect(suggestGfpNames('ATOMC')[0]).toBe('GFP_ATOMIC');
  });

  it('rejects syntax errors and values that do not fit gfp_t', () => {
    expect(codeOf(() => parseGfp('GFP_KERNEL||'))).toBe('BAD_SYNTAX');
    expect(codeOf(() => parseGfp('GFP_KERNEL $'))).toBe('BAD_SYNTAX');
    expect(codeOf(() => parseGfp('(GFP_KERNEL'))).toBe('BAD_SYNTAX');
    expect(codeOf(() => parseGfp('0x100000000'))).toBe('OUT_OF_RANGE');
  });

  for (const dialect of GFP_DIALECT_IDS) {
    it(`round-trips every mask through formatGfp in the ${dialect} dialect`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffffffff }), (m) => {
          expect(parseGfp(formatGfp(m, { dialect }), { dialect })).toBe(m);
          expect(parseGfp(formatGfp(m, { dialect, experimental: false }), { dialect })).toBe(m);
        }),
        { numRuns: 2000, seed: 42 },
      );
    });
  }

  it('round-trips masks built from known bits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 10 }), (bits) => {
        const m = bits.reduce((acc, b) => (acc | (1 << b)) >>> 0, 0);
        expect(parseGfp(formatGfp(m))).toBe(m);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
