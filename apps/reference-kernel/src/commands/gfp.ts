import {
  describeGfp,
  formatGfpMode,
  GFP_DIALECT_IDS,
  type GfpDescription,
  type GfpDialectId,
  GfpError,
  parseGfp,
} from '@sim/gfp';
import type { Command } from 'commander';
import { type CliIo, UsageError } from '../io.js';

const NUMBER = /^\s*(0[xX][0-9a-fA-F]+|\d+)\s*$/;

interface GfpOptions {
  json?: boolean;
  dialect: string;
  order: string;
}

/** The result of decoding or encoding one mask, as printed by `--json`. */
export interface GfpCommandResult extends GfpDescription {
  /** What the user typed. */
  readonly input: string;
  /** Whether the input was a number (decode) or an expression (encode). */
  readonly direction: 'decode' | 'encode';
  /** `0x…(…)` as allocation-failure reports print it. */
  readonly mode: string;
}

function yesNo(v: boolean): string {
  return v ? 'yes' : 'no';
}

const RESERVES: Record<GfpDescription['reserves'], string> = {
  none: 'none: must leave the min watermark free',
  'min-reserve': '__GFP_HIGH: may use half of the min reserve',
  'min-reserve-nonblock': '__GFP_HIGH, non-blocking: may go down to 3/8 of the min watermark',
  'no-watermarks': '__GFP_MEMALLOC: ignores watermarks entirely',
};

/** Render one result as the human-readable block. */
export function renderGfp(r: GfpCommandResult): string {
  const head = r.direction === 'decode' ? r.text || '(no flags)' : r.hex;
  const rows: [string, string][] = [
    ['mask', `${r.hex} = ${r.text || '0'}`],
    ['report form', `mode:${r.mode}`],
    ['may block', `${yesNo(r.mayBlock)}${r.mayBlock ? ' (__GFP_DIRECT_RECLAIM)' : ''}`],
    [
      'may spin',
      r.maySpin ? 'yes, on non-raw locks (zone->lock, pcp)' : 'no: trylock only, never spins',
    ],
    ['wakes kswapd', yesNo(r.wakesKswapd)],
    [
      'direct reclaim',
      r.mayDirectReclaim ? `yes (IO: ${yesNo(r.mayIo)}, FS: ${yesNo(r.mayFs)})` : 'no',
    ],
    ['reserves', RESERVES[r.reserves]],
    ['retries', r.retry],
    ['zone', r.zone ?? 'invalid (GFP_ZONE_BAD)'],
    ['migratetype', r.migratetype],
    ['zeroed', yesNo(r.zero)],
    ['warns on failure', yesNo(r.warns)],
  ];
  let s = `${head}\n`;
  for (const [k, v] of rows) s += `  ${k.padEnd(17)}${v}\n`;
  for (const n of r.notes) s += `  note: ${n}\n`;
  return s;
}

/** Decode or encode masks; the body of `reference-kernel gfp`. */
export function gfpCommand(inputs: readonly string[], opts: GfpOptions): GfpCommandResult[] {
  if (!(GFP_DIALECT_IDS as readonly string[]).includes(opts.dialect)) {
    throw new UsageError(
      `unknown --dialect '${opts.dialect}'; accepted: ${GFP_DIALECT_IDS.join(', ')}`,
    );
  }
  const dialect = opts.dialect as GfpDialectId;
  const order = Number(opts.order);
  if (!Number.isInteger(order) || order < 0 || order > 10) {
    throw new UsageError(`bad --order '${opts.order}'; accepted: an integer from 0 to 10`);
  }
  return inputs.map((input) => {
    const mask = parseGfp(input, { dialect });
    return {
      input,
      direction: NUMBER.test(input) ? 'decode' : 'encode',
      mode: formatGfpMode(mask, { dialect }),
      ...describeGfp(mask, { dialect, order }),
    };
  });
}

/** Register `gfp <mask|expression...>` on the program. */
export function registerGfp(program: Command, io: CliIo): void {
  program
    .command('gfp')
    .description(
      'decode a GFP mask as a splat prints it (0xcc0 -> GFP_KERNEL) or encode an expression ("GFP_ATOMIC|__GFP_NOWARN" -> 0x2820), and say what it allows',
    )
    .argument(
      '<mask...>',
      'numbers (0x820, 2080), %pGg text or C expressions (GFP_KERNEL & ~__GFP_FS)',
    )
    .option('--json', 'print the result as JSON')
    .option('--dialect <id>', `kernel naming to use: ${GFP_DIALECT_IDS.join(', ')}`, '7.x')
    .option('--order <n>', 'allocation order, for notes on costly orders', '0')
    .action((masks: string[], opts: GfpOptions) => {
      let results: GfpCommandResult[];
      try {
        results = gfpCommand(masks, opts);
      } catch (e) {
        if (e instanceof GfpError) throw new UsageError(e.message);
        throw e;
      }
      if (opts.json) {
        io.out(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
      } else {
        io.out(results.map(renderGfp).join('\n'));
      }
    });
}
