/**
 * The simulated call chain: per-CPU stacks of interned function names that
 * subsystems push and pop on their entry points (`fnEnter`/`fnExit`), so that
 * reports can print a "Call Trace:" the way `dump_stack()` walks the real one.
 * A task's frames travel with it across context switches.
 */

// The hot paths read this module-local constant: an exported binding is read
// through a module cell whose type the compiler does not know, which turned
// the clamp in top() into a floating-point Math.min.
const MAX_DEPTH = 128;

/** Most frames kept per CPU; deeper calls are counted but not recorded. @public */
export const MAX_CALL_DEPTH = MAX_DEPTH;

/** Frame id marking entry into hardirq context. @internal */
export const FRAME_IRQ = 1;
/** Frame id marking entry into NMI context. @internal */
export const FRAME_NMI = 2;
/** Frame id marking softirqs run on the softirq stack from task context. @internal */
export const FRAME_SOFTIRQ = 3;

/**
 * Where a task keeps its frames while it is off the CPU: a buffer it reuses
 * and how many frames of it are valid.
 * @internal
 */
export interface SavedFrames {
  frames: Int32Array | null;
  nrFrames: number;
}

/**
 * Interned function names and the per-CPU frame stacks.
 * @internal
 */
export class CallChain {
  readonly stack: Int32Array;
  readonly depth: Int32Array;
  private readonly names: string[] = ['?', '<IRQ>', '<NMI>', '<SOFTIRQ>'];
  private readonly ids = new Map<string, number>();

  constructor(nrCpus: number) {
    this.stack = new Int32Array(nrCpus * MAX_CALL_DEPTH);
    this.depth = new Int32Array(nrCpus);
  }

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  name(id: number): string {
    return this.names[id] ?? '?';
  }

  enter(c: number, id: number): void {
    const d = this.depth[c]!;
    if (d < MAX_DEPTH) this.stack[c * MAX_DEPTH + d] = id;
    this.depth[c] = d + 1;
  }

  exit(c: number): void {
    const d = this.depth[c]!;
    if (d > 0) this.depth[c] = d - 1;
  }

  /** Innermost recorded frame of CPU `c` (0 when empty). */
  top(c: number): number {
    const d = Math.min(this.depth[c]!, MAX_DEPTH);
    return d > 0 ? this.stack[c * MAX_DEPTH + d - 1]! : 0;
  }

  /**
   * Save the frames of the task leaving CPU `c` into its own buffer (grown
   * once, reused at every switch so context switches allocate nothing).
   */
  save(c: number, t: SavedFrames): void {
    const d = Math.min(this.depth[c]!, MAX_CALL_DEPTH);
    t.nrFrames = d;
    if (d === 0) return;
    let buf = t.frames;
    if (buf === null || buf.length < d) {
      buf = new Int32Array(Math.max(d, 16));
      t.frames = buf;
    }
    const base = c * MAX_CALL_DEPTH;
    for (let i = 0; i < d; i++) buf[i] = this.stack[base + i]!;
  }

  /** Install the frames of the task entering CPU `c` (none for null). */
  restore(c: number, t: SavedFrames | null): void {
    const d = t === null ? 0 : t.nrFrames;
    this.depth[c] = d;
    if (d === 0) return;
    const buf = t!.frames!;
    const base = c * MAX_CALL_DEPTH;
    for (let i = 0; i < d; i++) this.stack[base + i] = buf[i]!;
  }

  /** Names of the recorded frames of CPU `c`, innermost first, markers included. */
  frames(c: number): number[] {
    const d = Math.min(this.depth[c]!, MAX_CALL_DEPTH);
    const out: number[] = [];
    for (let i = d - 1; i >= 0; i--) out.push(this.stack[c * MAX_CALL_DEPTH + i]!);
    return out;
  }

  /** Plain function names of CPU `c`, innermost first, without context markers. */
  names_(c: number): string[] {
    const out: string[] = [];
    for (const id of this.frames(c)) if (id > FRAME_SOFTIRQ) out.push(this.name(id));
    return out;
  }

  /**
   * Format the "Call Trace:" block: `extra` frames (innermost first) sit on top
   * of CPU `c`'s recorded chain; context markers become ` <IRQ>`/` </IRQ>` etc.
   */
  format(c: number, extra: readonly string[]): string[] {
    const ids = this.frames(c);
    // Split innermost-first frames into segments at context markers; a
    // segment belongs to the context whose marker lies just outside it.
    const segments: { ctx: string; frames: string[] }[] = [{ ctx: 'TASK', frames: [...extra] }];
    for (const id of ids) {
      const marker = markerName(id);
      if (marker !== null) {
        segments[segments.length - 1]!.ctx = marker;
        segments.push({ ctx: 'TASK', frames: [] });
      } else {
        segments[segments.length - 1]!.frames.push(this.name(id));
      }
    }
    const lines: string[] = ['Call Trace:'];
    for (const seg of segments) {
      lines.push(` <${seg.ctx}>`);
      for (const f of seg.frames) lines.push(` ${f}`);
      lines.push(` </${seg.ctx}>`);
    }
    return lines;
  }
}

function markerName(id: number): string | null {
  if (id === FRAME_IRQ) return 'IRQ';
  if (id === FRAME_NMI) return 'NMI';
  if (id === FRAME_SOFTIRQ) return 'SOFTIRQ';
  return null;
}
