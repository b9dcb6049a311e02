import { describe, expect, it } from 'vitest';
import {
  __GFP_ATOMIC,
  __GFP_BITS_MASK,
  __GFP_DMA,
  __GFP_HIGH,
  formatGfp,
  formatGfpMode,
  GFP_ATOMIC,
  GFP_TRANSHUGE,
  type GfpDialectId,
  parseGfp,
  showGfpFlags,
} from '../src/index.js';

interface Row {
  mask: number;
  text: string;
  dialect?: GfpDialectId;
  experimental?: boolean;
  source: string;
}

// Masks as real kernels print them with %pGg, each with where the string is seen.
const ROWS: Row[] = [
  { mask: GFP_TRANSHUGE, text: 'GFP_TRANSHUGE', source: 'lib/tests/printf_kunit.c flags()' },
  {
    mask: GFP_ATOMIC | __GFP_DMA,
    text: 'GFP_ATOMIC|GFP_DMA',
    source: 'lib/tests/printf_kunit.c flags()',
  },
  { mask: __GFP_HIGH, text: '__GFP_HIGH', source: 'lib/tests/printf_kunit.c flags() (v6.3+)' },
  {
    mask: ~__GFP_BITS_MASK >>> 0,
    text: '0xfe000000',
    experimental: false,
    source:
      'lib/tests/printf_kunit.c: "Any flags not translated by the table should remain numeric"',
  },
  {
    mask: (~__GFP_BITS_MASK | __GFP_HIGH) >>> 0,
    text: '__GFP_HIGH|0xfe000000',
    experimental: false,
    source: 'lib/tests/printf_kunit.c flags()',
  },
  {
    mask: __GFP_ATOMIC,
    text: '__GFP_ATOMIC',
    dialect: '6.2',
    source: 'lib/test_printf.c flags() before v6.3',
  },
  {
    mask: 0xa21,
    text: 'GFP_ATOMIC|GFP_DMA',
    dialect: '6.2',
    source: 'lib/test_printf.c flags() before v6.3 (GFP_ATOMIC included __GFP_ATOMIC)',
  },
  {
    mask: 0xa20,
    text: 'GFP_ATOMIC',
    dialect: '6.2',
    source: 'pre-6.3 allocation-failure reports: "mode:0xa20(GFP_ATOMIC)"',
  },
  {
    mask: 0x820,
    text: 'GFP_ATOMIC',
    source: 'v6.3+ allocation-failure reports: "mode:0x820(GFP_ATOMIC)"',
  },
  {
    mask: 0x2820,
    text: 'GFP_ATOMIC|__GFP_NOWARN',
    source: 'v6.3+ reports and tracepoints: "gfp_flags=GFP_ATOMIC|__GFP_NOWARN"',
  },
  {
    mask: 0xcc0,
    text: 'GFP_KERNEL',
    source: 'oom-kill header "gfp_mask=0xcc0(GFP_KERNEL)" (v5.x onwards)',
  },
  {
    mask: 0x2cc0,
    text: 'GFP_KERNEL|__GFP_NOWARN',
    source: 'kmalloc_node tracepoints, "gfp_flags=GFP_KERNEL|__GFP_NOWARN"',
  },
  {
    mask: 0xdc0,
    text: 'GFP_KERNEL|__GFP_ZERO',
    source: 'syzbot allocation-failure reports "mode:0xdc0(GFP_KERNEL|__GFP_ZERO)"',
  },
  {
    mask: 0x400dc0,
    text: 'GFP_KERNEL_ACCOUNT|__GFP_ZERO',
    source: 'syzbot reports "mode:0x400dc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)"',
  },
  { mask: 0x400cc0, text: 'GFP_KERNEL_ACCOUNT', source: 'memcg OOM reports "gfp_mask=0x400cc0"' },
  {
    mask: 0x100cca,
    text: 'GFP_HIGHUSER_MOVABLE',
    source: 'page-fault OOM reports "gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE)"',
  },
  {
    mask: 0x140cca,
    text: 'GFP_HIGHUSER_MOVABLE|__GFP_COMP',
    source: 'folio/THP fault OOM reports "gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)"',
  },
  {
    mask: 0x2800,
    text: 'GFP_NOWAIT',
    source: 'include/linux/gfp_types.h since 2025: GFP_NOWAIT = __GFP_KSWAPD_RECLAIM|__GFP_NOWARN',
  },
  {
    mask: 0x800,
    text: '__GFP_KSWAPD_RECLAIM',
    source:
      'include/trace/events/mmflags.h order: no composite equals 0x800 since GFP_NOWAIT gained NOWARN',
  },
  {
    mask: 0x800,
    text: 'GFP_NOWAIT',
    dialect: '6.2',
    source: 'pre-2025 reports "mode:0x800(GFP_NOWAIT)"',
  },
  {
    mask: 0xc00,
    text: 'GFP_NOIO',
    source: 'mmflags.h: GFP_NOIO is tried before __GFP_RECLAIM',
  },
  {
    mask: 0xc40,
    text: 'GFP_NOFS',
    source: 'filesystem allocation-failure reports "mode:0xc40(GFP_NOFS)"',
  },
  { mask: 0x100cc0, text: 'GFP_USER', source: 'reports "gfp_mask=0x100cc0(GFP_USER)"' },
  {
    mask: 0x400,
    text: '__GFP_DIRECT_RECLAIM',
    source: 'mmflags.h single-bit names',
  },
  {
    mask: 0x40dc0,
    text: 'GFP_KERNEL|__GFP_ZERO|__GFP_COMP',
    source: 'v6.15+ print order (bits in enum order after composites)',
  },
  {
    mask: 0x40dc0,
    text: 'GFP_KERNEL|__GFP_COMP|__GFP_ZERO',
    dialect: '6.2',
    source: 'pre-6.15 syzbot reports "mode:0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO)"',
  },
  {
    mask: 0x1000000,
    text: '__GFP_NOLOCKDEP',
    source: 'gfp_types.h enum with LOCKDEP=y, KASAN_HW_TAGS=n',
  },
  {
    mask: 0x2000000,
    text: '__GFP_NO_OBJ_EXT',
    dialect: '6.18',
    source: 'gfp_types.h enum with SLAB_OBJ_EXT=y (v6.10 to 7.0)',
  },
  { mask: 0, text: '', source: 'vsprintf.c: an empty flag set prints nothing ("mode:0x0()")' },
];

describe('%pGg formatting matches the kernel', () => {
  it('has at least 20 rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(20);
  });

  for (const row of ROWS) {
    const dialect = row.dialect ?? '7.x';
    it(`0x${row.mask.toString(16)} prints "${row.text}" in ${dialect} (${row.source})`, () => {
      const opts = {
        dialect,
        ...(row.experimental === undefined ? {} : { experimental: row.experimental }),
      };
      expect(formatGfp(row.mask, opts)).toBe(row.text);
      // And the printed form parses back to the same mask.
      expect(parseGfp(row.text, { dialect })).toBe(row.mask);
    });
  }

  it('prints none for an empty mask in tracepoints (show_gfp_flags)', () => {
    expect(showGfpFlags(0)).toBe('none');
    expect(showGfpFlags(0xcc0)).toBe('GFP_KERNEL');
  });

  it('prints the mode: form of warn_alloc()', () => {
    expect(formatGfpMode(0x820)).toBe('0x820(GFP_ATOMIC)');
    expect(formatGfpMode(0)).toBe('0x0()');
  });

  it('names the __GFP_NO_LOCKS experiment unless asked to print as a kernel would', () => {
    expect(formatGfp(0x820 | 0x20000000)).toBe('GFP_ATOMIC|__GFP_NO_LOCKS');
    expect(formatGfp(0x820 | 0x20000000, { experimental: false })).toBe('GFP_ATOMIC|0x20000000');
  });
});
