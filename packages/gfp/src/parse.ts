import { type GfpDialectId, type GfpName, gfpDialect } from './dialect.js';
import { GfpError } from './errors.js';
import { __GFP_ATOMIC, __GFP_NOLOCKDEP } from './flags.js';

/** Options for {@link parseGfp}. @public */
export interface ParseGfpOptions {
  /** Kernel layout whose names are accepted; default `'7.x'`. */
  readonly dialect?: GfpDialectId;
}

// Names every dialect accepts on input besides its print table.
const EXTRA_INPUT_NAMES: Readonly<Record<GfpDialectId, readonly GfpName[]>> = {
  '7.x': [
    { mask: __GFP_ATOMIC, name: '__GFP_ATOMIC' },
    { mask: 0, name: '__GFP_SKIP_ZERO' },
    { mask: 0, name: '__GFP_SKIP_KASAN' },
  ],
  '6.18': [
    { mask: __GFP_ATOMIC, name: '__GFP_ATOMIC' },
    { mask: 0, name: '__GFP_SKIP_ZERO' },
    { mask: 0, name: '__GFP_SKIP_KASAN' },
  ],
  '6.2': [
    { mask: 0, name: '__GFP_SKIP_ZERO' },
    { mask: 0, name: '__GFP_SKIP_KASAN_POISON' },
    { mask: 0, name: '__GFP_SKIP_KASAN_UNPOISON' },
  ],
};

const tableCache = new Map<GfpDialectId, ReadonlyMap<string, number>>();

function nameTable(id: GfpDialectId): ReadonlyMap<string, number> {
  let t = tableCache.get(id);
  if (t === undefined) {
    const d = gfpDialect(id);
    const m = new Map<string, number>();
    for (const e of [...d.names, ...d.aliases, ...EXTRA_INPUT_NAMES[id]]) {
      if (!m.has(e.name)) m.set(e.name, e.mask);
    }
    // NOLOCKDEP is always spelled the same even where the table omits it.
    if (!m.has('__GFP_NOLOCKDEP')) m.set('__GFP_NOLOCKDEP', __GFP_NOLOCKDEP);
    t = m;
    tableCache.set(id, t);
  }
  return t;
}

/**
 * Every name {@link parseGfp} accepts in a dialect, in table order.
 * @public
 */
export function gfpNames(dialect: GfpDialectId = '7.x'): readonly string[] {
  return [...nameTable(dialect).keys()];
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The valid names closest to `bad`, best first (at most `max`).
 * @public
 */
export function suggestGfpNames(bad: string, dialect: GfpDialectId = '7.x', max = 3): string[] {
  const up = bad.toUpperCase();
  const bare = (s: string) => s.replace(/^_*GFP_/, '');
  return gfpNames(dialect)
    .map((name) => ({
      name,
      d: Math.min(editDistance(up, name), editDistance(bare(up), bare(name)) + 1),
    }))
    .sort((x, y) => x.d - y.d)
    .filter((x, i) => i === 0 || x.d <= Math.max(3, Math.floor(up.length / 3)))
    .slice(0, max)
    .map((x) => x.name);
}

type Tok = { kind: 'name' | 'num' | 'op'; text: string; pos: number };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|([|&~()]))/y;
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m === null) {
      if (/^\s*$/.test(src.slice(pos))) break;
      const at = src.slice(pos).trimStart();
      throw new GfpError(
        'BAD_SYNTAX',
        `cannot parse GFP expression '${src}': unexpected '${at[0]}' at offset ${src.length - at.length}; accepted: names joined by '|', '&', '~', parentheses, and numbers`,
      );
    }
    const start = pos + (m[0].length - (m[1] ?? m[2] ?? m[3] ?? '').length);
    if (m[1] !== undefined) toks.push({ kind: 'num', text: m[1], pos: start });
    else if (m[2] !== undefined) toks.push({ kind: 'name', text: m[2], pos: start });
    else toks.push({ kind: 'op', text: m[3]!, pos: start });
    pos = re.lastIndex;
  }
  return toks;
}

class ExprParser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
    private readonly names: ReadonlyMap<string, number>,
    private readonly dialect: GfpDialectId,
  ) {}

  parse(): number {
    if (this.toks.length === 0) return 0;
    const v = this.or();
    if (this.i < this.toks.length) this.fail(this.toks[this.i]!);
    return v >>> 0;
  }

  private or(): number {
    let v = this.and();
    while (this.peek('|')) {
      this.i++;
      v = (v | this.and()) >>> 0;
    }
    return v;
  }

  private and(): number {
    let v = this.unary();
    while (this.peek('&')) {
      this.i++;
      v = (v & this.unary()) >>> 0;
    }
    return v;
  }

  private unary(): number {
    const t = this.toks[this.i];
    if (t === undefined) {
      throw new GfpError(
        'BAD_SYNTAX',
        `cannot parse GFP expression '${this.src}': it ends where a flag name or number was expected`,
      );
    }
    this.i++;
    if (t.kind === 'op' && t.text === '~') return ~this.unary() >>> 0;
    if (t.kind === 'op' && t.text === '(') {
      const v = this.or();
      if (!this.peek(')')) {
        throw new GfpError('BAD_SYNTAX', `cannot parse GFP expression '${this.src}': missing ')'`);
      }
      this.i++;
      return v;
    }
    if (t.kind === 'num') {
      const v = Number(t.text);
      if (!Number.isSafeInteger(v) || v > 0xffffffff) {
        throw new GfpError(
          'OUT_OF_RANGE',
          `GFP value ${t.text} does not fit in gfp_t; accepted: 0 to 0xffffffff`,
        );
      }
      return v >>> 0;
    }
    if (t.kind === 'name') {
      const v = this.names.get(t.text) ?? this.names.get(t.text.toUpperCase());
      if (v !== undefined) return v;
      const suggestions = suggestGfpNames(t.text, this.dialect);
      throw new GfpError(
        'UNKNOWN_FLAG',
        `unknown GFP flag '${t.text}'; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}? (accepted: the ${this.dialect} GFP_* and __GFP_* names, or a number)`,
        suggestions,
      );
    }
    return this.fail(t);
  }

  private peek(op: string): boolean {
    const t = this.toks[this.i];
    return t !== undefined && t.kind === 'op' && t.text === op;
  }

  private fail(t: Tok): never {
    throw new GfpError(
      'BAD_SYNTAX',
      `cannot parse GFP expression '${this.src}': unexpected '${t.text}' at offset ${t.pos}`,
    );
  }
}

/**
 * Parse a GFP mask written as the kernel prints or spells it: `%pGg` output
 * (`GFP_KERNEL|__GFP_NOWARN`), a C-like expression (`GFP_KERNEL & ~__GFP_FS`),
 * a number (`0xcc0`, `3264`), the report form `0x820(GFP_ATOMIC)` (both halves
 * must agree), optionally prefixed by `mode:` or `gfp_mask=`. The empty string
 * and `none` are 0.
 * @throws {@link GfpError} `UNKNOWN_FLAG` (with the closest names), `BAD_SYNTAX`,
 * `OUT_OF_RANGE` or `MISMATCH`.
 * @public
 */
export function parseGfp(text: string, options: ParseGfpOptions = {}): number {
  const dialect = options.dialect ?? '7.x';
  const names = nameTable(dialect);
  let src = text.trim().replace(/^(?:mode:|gfp_mask=|gfp_flags=)\s*/, '');
  if (src === 'none') return 0;
  const report = /^(0[xX][0-9a-fA-F]+)\((.*)\)$/.exec(src);
  if (report !== null) {
    const hex = new ExprParser(src, tokenize(report[1]!), names, dialect).parse();
    const named = new ExprParser(src, tokenize(report[2]!), names, dialect).parse();
    if (hex !== named) {
      throw new GfpError(
        'MISMATCH',
        `'${text}' is inconsistent: ${report[1]} but the names give 0x${named.toString(16)}`,
      );
    }
    return hex;
  }
  src = src.trim();
  return new ExprParser(text, tokenize(src), names, dialect).parse();
}
