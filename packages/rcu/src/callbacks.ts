import { RcuError, show } from './errors.js';

/**
 * An RCU callback body: runs after a grace period with the address of the
 * `rcu_head` it was queued with, in softirq context (or in an rcuc/rcuo
 * kthread with bottom halves disabled). Models `rcu_callback_t`.
 * @public
 */
export type RcuCallbackFn = (head: number) => void;

/** Lowest simulated function address: kernel text never lives in the first page. */
const FUNC_BASE = 0x10000;
/** Spacing of simulated function addresses. */
const FUNC_STRIDE = 16;

/**
 * A function that can be stored in `rcu_head->func`: its simulated text
 * address (what is written into memory), its symbol name and the module that
 * owns it, if any. Create with `rcu.defineCallback()` or
 * `module.defineCallback()`.
 * @public
 */
export class RcuCallback {
  /** The word stored in `rcu_head->func` (≥ 4096, so never mistaken for an offset). */
  readonly addr: number;
  /** Symbol name printed in traces and reports. */
  readonly name: string;
  /** Owning module name, or null for built-in code. */
  readonly module: string | null;
  /** @internal registry index */
  readonly index: number;

  /** @internal */
  constructor(index: number, name: string, module: string | null) {
    this.index = index;
    this.addr = FUNC_BASE + index * FUNC_STRIDE;
    this.name = name;
    this.module = module;
  }

  /** The symbol as `%pS` prints it (`name+0x0/0x40 [module]`). */
  toString(): string {
    return this.module === null
      ? `${this.name}+0x0/0x40`
      : `${this.name}+0x0/0x40 [${this.module}]`;
  }
}

/**
 * The simulated kernel text that RCU callbacks live in: built-in functions
 * and module functions, addressed by index so invocation decodes a
 * `->func` word with one array lookup.
 * @internal
 */
export class CallbackRegistry {
  /** Function bodies by index. */
  readonly fns: (RcuCallbackFn | null)[] = [];
  /** Callback handles by index. */
  readonly callbacks: RcuCallback[] = [];
  /** Call-chain ids, for traces. */
  readonly fnIds: number[] = [];
  /** Per function: 0 built-in, 1 module loaded, 2 module text freed. */
  readonly state: number[] = [];
  /** Printable `%px` address per function. */
  readonly printable: string[] = [];
  private readonly byFn = new Map<RcuCallbackFn, RcuCallback>();
  private coreCount = 0;

  constructor(private readonly fnId: (name: string) => number) {}

  /** Define a function at the next text address (built-in, or in `module`). */
  define(
    name: string,
    fn: RcuCallbackFn,
    module: { name: string; id: number; count: number } | null,
  ): RcuCallback {
    if (typeof fn !== 'function') {
      throw new RcuError(
        'BAD_CALLBACK',
        `callback body ${show(fn)} is invalid: accepted a function (head) => void`,
      );
    }
    if (typeof name !== 'string' || name.length === 0) {
      throw new RcuError(
        'BAD_CALLBACK',
        `callback name ${show(name)} is invalid: accepted a non-empty symbol name`,
      );
    }
    const index = this.fns.length;
    const cb = new RcuCallback(index, name, module === null ? null : module.name);
    this.fns.push(fn);
    this.callbacks.push(cb);
    this.fnIds.push(this.fnId(name));
    this.state.push(module === null ? 0 : 1);
    let text: number;
    if (module === null) {
      // Built-in text: ffffffff81xxxxxx.
      text = 0x81400000 + this.coreCount++ * 0x40;
    } else {
      // Module text is vmalloc'd in the module area: ffffffffc0xxxxxx.
      text = 0xc0200000 + module.id * 0x10000 + module.count * 0x40;
    }
    this.printable.push(`ffffffff${text.toString(16).padStart(8, '0')}`);
    return cb;
  }

  /** The callback for a plain function, defining it on first use (built-in text). */
  forFunction(fn: RcuCallbackFn): RcuCallback {
    let cb = this.byFn.get(fn);
    if (cb === undefined) {
      cb = this.define(fn.name || 'rcu_callback', fn, null);
      this.byFn.set(fn, cb);
    }
    return cb;
  }

  /** Registry index of a `->func` word, or -1 if it is no known function. */
  decode(word: number): number {
    const i = (word - FUNC_BASE) / FUNC_STRIDE;
    if (i >= 0 && i < this.fns.length && Number.isInteger(i)) return i;
    return -1;
  }
}

/** `%px` of an arbitrary word (16 hex digits). @internal */
export function hex16(word: number): string {
  return Math.max(0, Math.floor(word)).toString(16).padStart(16, '0');
}
