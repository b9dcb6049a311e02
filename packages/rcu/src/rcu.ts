import { type Machine, missesOf, RCU_SOFTIRQ, type Task, type Wait } from '@sim/cpu';
import type { Locking } from '@sim/locks';
import { RcuBarrier } from './barrier.js';
import { CallRcuPath } from './call-rcu.js';
import { RcuCallback, type RcuCallbackFn } from './callbacks.js';
import { KVFREE_RCU_OFFSET_LIMIT, RCU_GP_STATE_NAMES, RCU_HEAD_SIZE } from './constants.js';
import { RcuError, show } from './errors.js';
import { Expedited } from './expedited.js';
import { GpKthread } from './gp-kthread.js';
import { CallbackInvoker } from './invoke.js';
import { BatchedKvfree } from './kvfree/batched.js';
import { KvfreeContext } from './kvfree/context.js';
import { NaiveAtomicKvfree } from './kvfree/naive-atomic.js';
import { Offset2008Kvfree } from './kvfree/offset-2008.js';
import { PerObjectKvfree } from './kvfree/per-object.js';
import { SheafKvfree } from './kvfree/sheaf.js';
import type { KvfreeRcuStats, KvfreeRcuStrategy } from './kvfree/strategy.js';
import { RcuModule } from './module.js';
import { NocbState } from './nocb.js';
import { type RcuNodeGeometry, rcuNodeGeometry } from './node-tree.js';
import { type RcuOptions, type ResolvedRcuOptions, resolveRcuOptions } from './options.js';
import type { GpOracle } from './oracle.js';
import type { ObjectFreer, RcuPageAllocator, RcuSheafProvider, ShrinkerRegistry } from './ports.js';
import { PreemptRcu } from './preempt-rcu.js';
import { QsHooks } from './qs-hooks.js';
import { RcuState } from './rcu-state.js';
import { spawnRcucKthreads, wakeRcuc } from './rcuc.js';
import { RcuReader } from './reader.js';
import { StallDetector } from './stall.js';
import type { RcuStats } from './stats.js';
import { GpWaiters, type RcuGpOldState } from './synchronize.js';

/**
 * The subsystems RCU is built on, passed to {@link createRcu}: the machine,
 * its locking layer, and the allocator ports kvfree_rcu frees through.
 * @public
 */
export interface RcuPorts {
  /** The simulated machine. */
  readonly machine: Machine;
  /** The machine's locking layer (`createLocking(machine)`). */
  readonly locking: Locking;
  /** Frees objects after their grace period (`@sim/slab`). */
  readonly freer: ObjectFreer;
  /** Pages for kvfree_rcu's pointer arrays (`@sim/buddy`). */
  readonly pages: RcuPageAllocator;
  /** Where kvfree_rcu registers its shrinker (`@sim/buddy`). */
  readonly shrinkers: ShrinkerRegistry;
  /** The slab's `rcu_free` sheaf, used by the 'sheaf' strategy. */
  readonly sheaf?: RcuSheafProvider;
}

/** Where `rcu_dereference()` and friends report from when no site is given. */
const DEREF_SITE = 'include/linux/rcupdate.h:0';

const perMachine = new WeakMap<Machine, Rcu>();

function checkPort(name: string, obj: unknown, methods: readonly string[]): void {
  if (typeof obj !== 'object' || obj === null) {
    throw new RcuError(
      'BAD_PORT',
      `rcu port ${name} = ${show(obj)} is invalid: accepted an object with ${methods.join(', ')}`,
    );
  }
  for (const k of methods) {
    if (typeof (obj as Record<string, unknown>)[k] !== 'function') {
      throw new RcuError(
        'BAD_PORT',
        `rcu port ${name} lacks ${k}(): accepted an object with ${methods.join(', ')}`,
      );
    }
  }
}

/**
 * Tree RCU and kvfree_rcu on a simulated machine: the read side, `call_rcu()`,
 * grace-period waiting and polling, `rcu_barrier()`, expedited grace
 * periods, stall warnings, NOCB offloading, and `kfree_rcu()` with the
 * design chosen by the `kfreeRcu` option. Create with {@link createRcu}.
 *
 * Plain methods may be called from any context (as their kernel
 * counterparts); generator methods may sleep and are run with `yield*` from
 * a task.
 * @public
 */
export class Rcu {
  /** The machine. */
  readonly machine: Machine;
  /** The locking layer. */
  readonly locking: Locking;
  /** The resolved options. */
  readonly options: ResolvedRcuOptions;
  /** Shape of the rcu_node tree. */
  readonly geometry: RcuNodeGeometry;
  /** The ports' freer as kvfree_rcu uses it (counting frees and checking them with the oracle). */
  readonly freer: ObjectFreer;
  private readonly rs: RcuState;
  private readonly reader: RcuReader;
  private readonly invoker: CallbackInvoker;
  private readonly call: CallRcuPath;
  private readonly waiters: GpWaiters;
  private readonly exp: Expedited;
  private readonly barrierImpl: RcuBarrier;
  private readonly nocb: NocbState | null;
  private readonly kvfree: KvfreeRcuStrategy;
  private readonly kvctx: KvfreeContext;
  private readonly modules: RcuModule[] = [];
  private readonly memBytes: number;
  private lastUnloaded: string | null = null;

  /** @internal use {@link createRcu} */
  constructor(ports: RcuPorts, options: RcuOptions) {
    if (typeof ports !== 'object' || ports === null) {
      throw new RcuError(
        'BAD_PORT',
        `rcu ports ${show(ports)} are invalid: accepted { machine, locking, freer, pages, shrinkers, sheaf? }`,
      );
    }
    const m = ports.machine;
    checkPort('machine', m, ['spawn', 'onTick', 'onContextSwitch', 'openSoftirq']);
    checkPort('locking', ports.locking, ['rawSpinLock', 'mutex', 'setRcuReadLockHooks']);
    checkPort('freer', ports.freer, ['kfree', 'kfreeBulk']);
    checkPort('pages', ports.pages, ['getFreePage', 'freePage']);
    checkPort('shrinkers', ports.shrinkers, ['registerShrinker']);
    if (ports.sheaf !== undefined) checkPort('sheaf', ports.sheaf, ['kfreeRcuSheaf']);
    if (perMachine.has(m)) {
      throw new RcuError(
        'ALREADY_CREATED',
        'this machine already has RCU: accepted one createRcu() per machine',
      );
    }
    const opts = resolveRcuOptions(options, m);
    if (opts.kfreeRcu === 'sheaf' && ports.sheaf === undefined) {
      throw new RcuError(
        'BAD_PORT',
        "rcu option kfreeRcu = 'sheaf' needs ports.sheaf (an RcuSheafProvider)",
      );
    }
    for (const c of opts.rcuNocbs) m.checkCpu(c, 'rcuNocbs');
    perMachine.set(m, this);
    this.machine = m;
    this.memBytes = m.memory.sizeBytes;
    this.locking = ports.locking;
    this.options = opts;
    this.geometry = rcuNodeGeometry(m.nrCpus, opts.fanout, opts.fanoutLeaf);

    const rs = new RcuState(m, ports.locking, opts);
    this.rs = rs;
    const prcu = new PreemptRcu(rs);
    this.reader = new RcuReader(rs, ports.locking, prcu);
    this.invoker = new CallbackInvoker(rs);
    this.invoker.modulesLine = () => this.modulesLine();
    this.call = new CallRcuPath(rs);
    this.waiters = new GpWaiters(rs, ports.locking, this.call);
    this.exp = new Expedited(rs, ports.locking, this.waiters);
    this.barrierImpl = new RcuBarrier(rs, ports.locking);
    const stall = new StallDetector(rs);
    const qs = new QsHooks(rs, prcu);
    this.nocb = opts.rcuNocbs.length > 0 ? new NocbState(rs, ports.locking, this.invoker) : null;
    this.call.nocb = this.nocb;
    this.barrierImpl.nocb = this.nocb;
    const nocb = this.nocb;
    rs.hooks = {
      reportExpRdp: (c) => this.exp.reportExpRdp(c),
      reportExpRnp: (rnp) => this.exp.reportExpRnp(rnp),
      preemptDeferredQs: (st, c) => prcu.preemptDeferredQs(st, c),
      checkCpuStall: (c) => stall.check(c),
      probeHoldout: (c) => stall.probeHoldout(c),
      wakeRcuc: (c) => wakeRcuc(rs, c),
      nocbGpCleanup: (rnp) => {
        if (nocb !== null) nocb.gpCleanup(rnp);
      },
    };

    // rcu_init() and rcu_bootup_announce_oddness().
    m.printk(
      'info',
      rs.preemptible
        ? 'rcu: Preemptible hierarchical RCU implementation.'
        : 'rcu: Hierarchical RCU implementation.',
    );
    if (opts.fanoutLeaf !== 16) {
      m.printk(
        'info',
        `rcu: Adjusting geometry for rcu_fanout_leaf=${opts.fanoutLeaf}, nr_cpu_ids=${m.nrCpus}`,
      );
    }
    m.printk(
      'info',
      `rcu: RCU calculated value of scheduler-enlistment delay is ${opts.jiffiesTillSchedQs} jiffies.`,
    );
    if (!opts.useSoftirq) m.printk('info', 'rcu: \tRCU_SOFTIRQ processing moved to rcuc kthreads.');
    if (opts.rcuNocbs.length > 0)
      m.printk('info', `rcu: \tOffload RCU callbacks from CPUs: ${cpulistString(opts.rcuNocbs)}.`);
    if (opts.delayClamped) {
      m.printk(
        'info',
        `Adjusting rcutree.rcu_delay_page_cache_fill_msec to ${opts.rcuDelayPageCacheFillMsec} ms.`,
      );
    }

    // Hooks into the machine and the locking layer.
    m.onTick((c, user) => qs.tick(c, user));
    m.onContextSwitch((c, prev, next) => qs.contextSwitch(c, prev, next));
    m.onIdleEnter((c) => qs.idleEnter(c));
    m.onIdleExit((c) => qs.idleExit(c));
    // rcu_needs_cpu(): keep the tick for callbacks this CPU must invoke.
    m.setNeedsCpuProvider((c) => rs.cbs.len[c] !== 0 && rs.cbs.offloaded[c] === 0);
    if (opts.useSoftirq) {
      const inv = this.invoker;
      m.openSoftirq(RCU_SOFTIRQ, function rcu_core_si() {
        inv.rcuCore();
      });
    }
    const reader = this.reader;
    if (rs.preemptible) m.setRcuNestDepthProvider((t: Task) => rs.taskState(t).nesting);
    ports.locking.setRcuReadLockHooks({
      enter: () => reader.rtEnter(),
      exit: () => reader.rtExit(),
      depth: () => reader.depth(),
    });

    // Kthreads.
    new GpKthread(rs).spawn();
    if (!opts.useSoftirq) spawnRcucKthreads(rs, this.invoker);
    if (this.nocb !== null) this.nocb.spawn();

    // kvfree_rcu_init().
    const freer = ports.freer;
    this.kvctx = new KvfreeContext(
      rs,
      ports.locking,
      this.call,
      this.waiters,
      freer,
      ports.pages,
      ports.shrinkers,
      ports.sheaf ?? null,
      () => this.rcuBarrier(),
    );
    const ctx = this.kvctx;
    this.freer = {
      kfree: (a) => ctx.kfree(a),
      kfreeBulk: (a, n) => {
        const f = a instanceof Float64Array ? a : Float64Array.from(a);
        ctx.kfreeBulk(f, n);
      },
      kvfree: (a) => ctx.kvfree(a),
    };
    switch (opts.kfreeRcu) {
      case 'batched':
        this.kvfree = new BatchedKvfree(ctx);
        break;
      case 'naive-atomic-alloc':
        this.kvfree = new NaiveAtomicKvfree(ctx);
        break;
      case 'per-object':
        this.kvfree = new PerObjectKvfree(ctx);
        break;
      case 'offset-2008': {
        const s = new Offset2008Kvfree(ctx);
        this.invoker.offsetHook = s;
        this.kvfree = s;
        break;
      }
      case 'sheaf':
        this.kvfree = new SheafKvfree(ctx);
        break;
    }
  }

  // ==== read side =====================================================================

  /** `rcu_read_lock()`: enter a read-side critical section. */
  rcuReadLock(): void {
    this.reader.lock();
  }

  /** `rcu_read_unlock()`. */
  rcuReadUnlock(): void {
    this.reader.unlock();
  }

  /** `rcu_read_lock_bh()`: a reader with bottom halves disabled. */
  rcuReadLockBh(): void {
    this.reader.lockBh();
  }

  /** `rcu_read_unlock_bh()`. */
  rcuReadUnlockBh(): void {
    this.reader.unlockBh();
  }

  /** `rcu_read_lock_sched()`: a reader with preemption disabled. */
  rcuReadLockSched(): void {
    this.reader.lockSched();
  }

  /** `rcu_read_unlock_sched()`. */
  rcuReadUnlockSched(): void {
    this.reader.unlockSched();
  }

  /** `rcu_preempt_depth()`: the current task's reader nesting (0 without preemptible RCU). */
  rcuPreemptDepth(): number {
    return this.reader.depth();
  }

  /** `rcu_read_lock_held()` (true when lockdep cannot tell). */
  rcuReadLockHeld(): boolean {
    const ld = this.locking.lockdep;
    if (!ld.debugLocks) return true;
    return ld.lockIsHeld(ld.rcuLockMap);
  }

  /** `rcu_read_lock_bh_held()`. */
  rcuReadLockBhHeld(): boolean {
    const ld = this.locking.lockdep;
    if (!ld.debugLocks) return true;
    const m = this.machine;
    return ld.lockIsHeld(ld.rcuBhLockMap) || m.inSoftirq() || m.irqsDisabled();
  }

  /** `rcu_read_lock_sched_held()`. */
  rcuReadLockSchedHeld(): boolean {
    const ld = this.locking.lockdep;
    if (!ld.debugLocks) return true;
    return ld.lockIsHeld(ld.rcuSchedLockMap) || !this.machine.preemptible();
  }

  /** `rcu_read_lock_any_held()`: any flavour of reader, or preemption disabled. */
  rcuReadLockAnyHeld(): boolean {
    const ld = this.locking.lockdep;
    if (!ld.debugLocks) return true;
    return (
      ld.lockIsHeld(ld.rcuLockMap) ||
      ld.lockIsHeld(ld.rcuBhLockMap) ||
      ld.lockIsHeld(ld.rcuSchedLockMap) ||
      !this.machine.preemptible()
    );
  }

  /**
   * `rcu_dereference(*pp)`: load the RCU-protected pointer stored at `pp`,
   * with the lockdep-RCU check that a reader is in progress ("suspicious
   * rcu_dereference_check() usage" at `site`, given as "file:line").
   */
  rcuDereference(pp: number, site: string = DEREF_SITE): number {
    if (!this.rcuReadLockHeld()) this.suspicious(site, 'suspicious rcu_dereference_check() usage');
    return this.machine.load(pp);
  }

  /** `rcu_dereference_check(*pp, cond)`: also legal when `cond` holds (e.g. the update-side lock). */
  rcuDereferenceCheck(pp: number, cond: boolean, site: string = DEREF_SITE): number {
    if (!cond && !this.rcuReadLockHeld())
      this.suspicious(site, 'suspicious rcu_dereference_check() usage');
    return this.machine.load(pp);
  }

  /** `rcu_dereference_bh(*pp)`. */
  rcuDereferenceBh(pp: number, site: string = DEREF_SITE): number {
    if (!this.rcuReadLockBhHeld())
      this.suspicious(site, 'suspicious rcu_dereference_check() usage');
    return this.machine.load(pp);
  }

  /** `rcu_dereference_sched(*pp)`. */
  rcuDereferenceSched(pp: number, site: string = DEREF_SITE): number {
    if (!this.rcuReadLockSchedHeld())
      this.suspicious(site, 'suspicious rcu_dereference_check() usage');
    return this.machine.load(pp);
  }

  /** `rcu_dereference_protected(*pp, cond)`: update side, `cond` must hold. */
  rcuDereferenceProtected(pp: number, cond: boolean, site: string = DEREF_SITE): number {
    if (!cond) this.suspicious(site, 'suspicious rcu_dereference_protected() usage');
    return this.machine.load(pp);
  }

  /** `rcu_access_pointer(*pp)`: fetch without dereferencing; no check. */
  rcuAccessPointer(pp: number): number {
    return this.machine.load(pp);
  }

  /** `rcu_assign_pointer(*pp, v)`: publish `v` (a release store). */
  rcuAssignPointer(pp: number, v: number): void {
    this.machine.store(pp, v);
  }

  private suspicious(site: string, msg: string): void {
    const mm = /^(.*):(\d+)$/.exec(site);
    const file = mm === null ? site : mm[1]!;
    const line = mm === null ? 0 : Number(mm[2]);
    this.locking.lockdep.lockdepRcuSuspicious(file, line, msg);
  }

  // ==== callbacks ======================================================================

  /** Define a built-in function usable as an RCU callback (its text never goes away). */
  defineCallback(name: string, fn: RcuCallbackFn): RcuCallback {
    return this.rs.registry.define(name, fn, null);
  }

  /** Load a simulated module whose callbacks vanish when it is unloaded (seed 003). */
  loadModule(name: string): RcuModule {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_]+$/.test(name)) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `module name ${show(name)} is invalid: accepted letters, digits and '_'`,
      );
    }
    const mod = new RcuModule(name, this.modules.length, this.rs.registry, (md) => {
      this.lastUnloaded = md.name;
      this.machine.printk('info', `${md.name}: module unloaded`);
    });
    this.modules.push(mod);
    return mod;
  }

  private modulesLine(): string {
    const live = this.modules.filter((x) => x.loaded).map((x) => ` ${x.name}`);
    return `${live.join('')}${this.lastUnloaded === null ? '' : ` [last unloaded: ${this.lastUnloaded}]`}`;
  }

  private checkHead(head: number, what: string): void {
    if (typeof head !== 'number' || !Number.isSafeInteger(head) || head <= 0) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `${what}: rcu_head address ${show(head)} is invalid: accepted a positive physical address`,
      );
    }
    if (head % 8 !== 0) {
      throw new RcuError(
        'MISALIGNED_HEAD',
        `${what}: rcu_head at ${head} is misaligned: accepted an 8-byte aligned address`,
      );
    }
    if (head + RCU_HEAD_SIZE > this.machine.memory.sizeBytes) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `${what}: rcu_head at ${head} is outside memory: accepted addresses below ${this.machine.memory.sizeBytes - RCU_HEAD_SIZE}`,
      );
    }
  }

  private funcWord(fn: RcuCallback | RcuCallbackFn, what: string): number {
    if (fn instanceof RcuCallback) return fn.addr;
    if (typeof fn === 'function') return this.rs.registry.forFunction(fn).addr;
    throw new RcuError(
      'BAD_CALLBACK',
      `${what}: callback ${show(fn)} is invalid: accepted an RcuCallback or a function (head) => void`,
    );
  }

  /**
   * `call_rcu(head, func)`: invoke `fn(head)` after a grace period. The
   * `rcu_head` (two words: next, func) lives at `head` in simulated memory,
   * usually inside the object being freed.
   */
  callRcu(head: number, fn: RcuCallback | RcuCallbackFn): void {
    this.checkHead(head, 'callRcu');
    const word = this.funcWord(fn, 'callRcu');
    this.call.callRcu(head, word);
  }

  /** `call_rcu_hurry()`: the same, never lazy (lazy callbacks are not modelled). */
  callRcuHurry(head: number, fn: RcuCallback | RcuCallbackFn): void {
    this.callRcu(head, fn);
  }

  // ==== waiting for grace periods ====================================================

  /** `synchronize_rcu()`: sleep until a full grace period has elapsed. */
  *synchronizeRcu(): Generator<Wait<unknown>, void, unknown> {
    const w = this.waiters;
    w.checkNotInReader('synchronize_rcu()', 4185);
    this.machine.mightSleep('kernel/rcu/tree.c:4189');
    const oracle = this.rs.oracle;
    const token = oracle === null ? 0 : oracle.token();
    if (this.options.rcuExpedited && !this.options.rcuNormal) yield* this.exp.synchronize();
    else yield* w.waitRcuGp();
    if (oracle !== null) oracle.check(token, 'synchronize_rcu', 0);
  }

  /** `synchronize_rcu_expedited()`: a grace period forced by IPIs (normal on PREEMPT_RT: `rcu_normal`). */
  *synchronizeRcuExpedited(): Generator<Wait<unknown>, void, unknown> {
    const w = this.waiters;
    w.checkNotInReader('synchronize_rcu_expedited()', 1011);
    this.machine.mightSleep('kernel/rcu/tree_exp.h:1015');
    const oracle = this.rs.oracle;
    const token = oracle === null ? 0 : oracle.token();
    if (this.options.rcuNormal) yield* w.waitRcuGp();
    else yield* this.exp.synchronize();
    if (oracle !== null) oracle.check(token, 'synchronize_rcu_expedited', 0);
  }

  /** `rcu_barrier()`: wait for every callback queued before the call, on every CPU. */
  *rcuBarrier(): Generator<Wait<unknown>, void, unknown> {
    yield* this.barrierImpl.barrier();
  }

  /** `get_state_synchronize_rcu()`: a cookie for the polled API; starts nothing. */
  getStateSynchronizeRcu(): number {
    return this.waiters.getState();
  }

  /** `start_poll_synchronize_rcu()`: a cookie, and a grace period is sure to start. */
  startPollSynchronizeRcu(): number {
    return this.waiters.startPoll();
  }

  /** `poll_state_synchronize_rcu(cookie)`: has a full grace period elapsed since the cookie? */
  pollStateSynchronizeRcu(cookie: number): boolean {
    if (typeof cookie !== 'number' || !Number.isSafeInteger(cookie) || cookie < 0) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `pollStateSynchronizeRcu(${show(cookie)}): accepted a cookie from getStateSynchronizeRcu()`,
      );
    }
    return this.waiters.pollState(cookie);
  }

  /** `cond_synchronize_rcu(cookie)`: wait only if the grace period has not elapsed. */
  *condSynchronizeRcu(cookie: number): Generator<Wait<unknown>, void, unknown> {
    if (!this.pollStateSynchronizeRcu(cookie)) yield* this.synchronizeRcu();
  }

  /** `get_state_synchronize_rcu_full()`. */
  getStateSynchronizeRcuFull(): RcuGpOldState {
    return this.waiters.getStateFull();
  }

  /** `poll_state_synchronize_rcu_full()`: a normal or an expedited grace period elapsed. */
  pollStateSynchronizeRcuFull(state: RcuGpOldState): boolean {
    return this.waiters.pollStateFull(state);
  }

  /** `cond_synchronize_rcu_full()`. */
  *condSynchronizeRcuFull(state: RcuGpOldState): Generator<Wait<unknown>, void, unknown> {
    if (!this.pollStateSynchronizeRcuFull(state)) yield* this.synchronizeRcu();
  }

  // ==== kvfree_rcu ======================================================================

  /**
   * `kfree_rcu(ptr, rhf)`: free the object at `ptr` after a grace period;
   * its `rcu_head` is at `ptr + headOffset` (an offset the kernel checks at
   * build time to be below 4096). Callable from any context but NMI,
   * including under raw spinlocks on PREEMPT_RT. `ptr` 0 is a no-op.
   */
  kfreeRcu(ptr: number, headOffset: number): void {
    if (typeof ptr !== 'number' || !Number.isSafeInteger(ptr) || ptr < 0 || ptr % 8 !== 0) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `kfreeRcu: object address ${show(ptr)} is invalid: accepted an 8-byte aligned address`,
      );
    }
    if (
      typeof headOffset !== 'number' ||
      !Number.isInteger(headOffset) ||
      headOffset < 0 ||
      headOffset >= KVFREE_RCU_OFFSET_LIMIT ||
      headOffset % 8 !== 0
    ) {
      throw new RcuError(
        'BAD_OFFSET',
        `kfreeRcu: rcu_head offset ${show(headOffset)} is invalid: accepted a multiple of 8 below ${KVFREE_RCU_OFFSET_LIMIT} (BUILD_BUG_ON in kvfree_rcu_arg_2)`,
      );
    }
    if (ptr === 0) return;
    if (ptr + headOffset + RCU_HEAD_SIZE > this.memBytes)
      this.checkHead(ptr + headOffset, 'kfreeRcu');
    const ctx = this.kvctx;
    ctx.noteQueued(ptr);
    if (this.rs.oracle !== null) this.rs.oracle.onRetire(ptr);
    this.kvfree.queue(ptr + headOffset, ptr);
  }

  /** `kvfree_rcu(ptr, rhf)`: the same for kmalloc'd or vmalloc'd objects. */
  kvfreeRcu(ptr: number, headOffset: number): void {
    this.kfreeRcu(ptr, headOffset);
  }

  /**
   * `kvfree_rcu_mightsleep(ptr)`: the headless form, for objects without an
   * `rcu_head`. May sleep (it starts with `might_sleep()`): when no page can
   * be had it waits for a grace period inline and frees the object itself.
   */
  *kvfreeRcuMightsleep(ptr: number): Generator<Wait<unknown>, void, unknown> {
    if (typeof ptr !== 'number' || !Number.isSafeInteger(ptr) || ptr < 0 || ptr % 8 !== 0) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `kvfreeRcuMightsleep: object address ${show(ptr)} is invalid: accepted an 8-byte aligned address`,
      );
    }
    if (ptr === 0) return;
    const m = this.machine;
    m.mightSleep('mm/slab_common.c:1954');
    const ctx = this.kvctx;
    ctx.noteQueued(ptr);
    if (this.rs.oracle !== null) this.rs.oracle.onRetire(ptr);
    if (this.kvfree.queue(0, ptr)) return;
    ctx.headlessInline++;
    yield* this.waiters.waitRcuGp();
    ctx.kvfree(ptr);
  }

  /** `kfree_rcu_mightsleep(ptr)`: alias of {@link Rcu.kvfreeRcuMightsleep}. */
  kfreeRcuMightsleep(ptr: number): Generator<Wait<unknown>, void, unknown> {
    return this.kvfreeRcuMightsleep(ptr);
  }

  /** `kvfree_rcu_barrier()`: wait until every object queued by kfree_rcu() so far is freed. */
  *kvfreeRcuBarrier(): Generator<Wait<unknown>, void, unknown> {
    this.machine.mightSleep('mm/slab_common.c:2068');
    yield* this.kvfree.barrier();
  }

  // ==== state and statistics ==========================================================

  /** `rcu_state.gp_seq`. */
  get gpSeq(): number {
    return this.rs.gpSeq;
  }

  /** `rcu_gp_in_progress()`. */
  gpInProgress(): boolean {
    return this.rs.gpInProgress();
  }

  /** The grace-period oracle, when enabled with the `oracle` option. */
  get oracle(): GpOracle | null {
    return this.rs.oracle;
  }

  /** The grace-period kthread. */
  get gpKthread(): Task {
    return this.rs.gpKthread!;
  }

  /** Callbacks queued on CPU `cpu` (or all CPUs) and not yet invoked. */
  callbacksPending(cpu?: number): number {
    const rs = this.rs;
    if (cpu !== undefined) {
      this.machine.checkCpu(cpu, 'callbacksPending');
      return rs.cbs.len[cpu]! + (this.nocb === null ? 0 : this.nocb.bypassLen(cpu));
    }
    let s = 0;
    for (let c = 0; c < rs.nr; c++)
      s += rs.cbs.len[c]! + (this.nocb === null ? 0 : this.nocb.bypassLen(c));
    return s;
  }

  /** kvfree_rcu counters. */
  kvfreeStats(): KvfreeRcuStats {
    return this.kvfree.stats();
  }

  /** A snapshot of every counter, for reports and tests. */
  stats(): RcuStats {
    const rs = this.rs;
    const m = this.machine;
    const perCpu = [];
    let queued = 0;
    let invoked = 0;
    let lost = 0;
    for (let c = 0; c < rs.nr; c++) {
      queued += rs.nCbsQueued[c]!;
      invoked += rs.nCbsInvoked[c]!;
      lost += rs.nCbsLost[c]!;
      perCpu.push({
        cpu: c,
        pending: this.callbacksPending(c),
        queued: rs.nCbsQueued[c]!,
        invoked: rs.nCbsInvoked[c]!,
        blimit: rs.blimit[c]!,
        offloaded: rs.cbs.offloaded[c] === 1,
        gpSeq: rs.rdpGpSeq[c]!,
      });
    }
    let blocked = 0;
    for (const l of rs.tree.blkd) blocked += l.length;
    const sites = m.cache
      .siteStats()
      .filter((s) => s.label.startsWith('rcu.') || s.label.startsWith('kvfree_rcu.'))
      .map((s) => ({
        label: s.label,
        accesses: s.accesses,
        l2Misses: s.llcHits + s.dramMisses + s.transfers,
        misses: missesOf(s),
      }));
    const o = rs.oracle;
    return {
      flavor: rs.name,
      gpSeq: rs.gpSeq,
      gpState: RCU_GP_STATE_NAMES[rs.gpState] ?? '???',
      gpStarted: rs.gpStarted,
      gpCompleted: rs.gpCompleted,
      gpMaxJiffies: rs.gpMaxJiffies,
      expGpCompleted: this.exp.completed,
      fqsScans: rs.nForceQs,
      callbacksQueued: queued,
      callbacksInvoked: invoked,
      callbacksPending: this.callbacksPending(),
      callbacksLost: lost,
      batches: this.invoker.batches,
      barriers: this.barrierImpl.count,
      synchronizeCalls: this.waiters.synchronizeCalls,
      stallWarnings: rs.stallWarnings,
      blockedTasks: blocked,
      nocbBypassed: this.nocb === null ? 0 : this.nocb.bypassed,
      perCpu,
      kvfree: this.kvfree.stats(),
      sites,
      oracle: o === null ? null : { checks: o.checks, violations: o.violations.length },
    };
  }
}

function cpulistString(cpus: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < cpus.length) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Boot RCU on a machine (`rcu_init()` + `kvfree_rcu_init()`): validate the
 * options, build the rcu_node tree, start the grace-period kthread (and rcuc
 * or rcuo kthreads as configured), hook the tick, context switches and idle,
 * and register kvfree_rcu's shrinker. One per machine.
 * @throws {@link RcuError} for a bad option or port, before anything is built.
 * @public
 */
export function createRcu(ports: RcuPorts, options: RcuOptions = {}): Rcu {
  return new Rcu(ports, options);
}
