import type { CallbackRegistry, RcuCallback, RcuCallbackFn } from './callbacks.js';
import { RcuError, show } from './errors.js';

/**
 * A simulated loadable kernel module: it owns functions (RCU callbacks among
 * them) whose text disappears on unload. Invoking a callback after its
 * module was unloaded jumps into freed module memory and Oopses, which is
 * why a module that used `call_rcu()` must call `rcu_barrier()` in its exit
 * path (Documentation/RCU/rcubarrier.rst, seed 003). Create with
 * `rcu.loadModule(name)`.
 * @public
 */
export class RcuModule {
  /** Module name as printed in "Modules linked in:". */
  readonly name: string;
  private live = true;
  private count = 0;
  private readonly owned: RcuCallback[] = [];

  /** @internal */
  constructor(
    name: string,
    private readonly id: number,
    private readonly registry: CallbackRegistry,
    private readonly onUnload: (mod: RcuModule) => void,
  ) {
    this.name = name;
  }

  /** Whether the module is still loaded. */
  get loaded(): boolean {
    return this.live;
  }

  /** Define a function of this module usable as an RCU callback. */
  defineCallback(name: string, fn: RcuCallbackFn): RcuCallback {
    if (!this.live) {
      throw new RcuError(
        'MODULE_UNLOADED',
        `module ${this.name} is unloaded: defineCallback(${show(name)}) accepted only while loaded`,
      );
    }
    const cb = this.registry.define(name, fn, {
      name: this.name,
      id: this.id,
      count: this.count++,
    });
    this.owned.push(cb);
    return cb;
  }

  /**
   * `delete_module()`: run the exit path and free the module's text. Pending
   * callbacks into it are not waited for; that is the caller's `rcuBarrier()`.
   */
  unload(): void {
    if (!this.live) return;
    this.live = false;
    for (const cb of this.owned) this.registry.state[cb.index] = 2;
    this.onUnload(this);
  }
}
