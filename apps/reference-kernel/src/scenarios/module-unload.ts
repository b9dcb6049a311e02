/**
 * `module-unload` (seed 003): a module that queued `call_rcu()` callbacks
 * into its own text must call `rcu_barrier()` in its exit path, or a
 * callback invoked after the text is freed jumps into nothing — an Oops. A
 * grace period (`synchronize_rcu()`) is not enough: it waits for readers,
 * not for callbacks. The 2008 kfree_rcu() proposal's argument: a module
 * whose only callbacks are kfree_rcu() leaves no function of its own behind,
 * so it needs no barrier. Each case runs on its own freshly booted kernel.
 */
import { GFP_KERNEL } from '@sim/gfp';
import type { Kernel } from '../kernel.js';
import {
  defineScenario,
  type Metric,
  type ScenarioContext,
  type ScenarioResult,
} from '../scenario.js';

/** Size of the module's objects, and where their `rcu_head` sits. */
const OBJ_SIZE = 64;
const RH_OFFSET = 16;
/** How long each case runs after the unload: past kvfree_rcu's 5 s drain. */
const RUN_AFTER_NS = 6e9;
/** How long the busy CPU of the "CPU busy" cases stays busy (Paul's step b). */
const HOG_NS = 50e6;

/** How the module frees its objects. */
type FreeKind = 'call_rcu' | 'kfree_rcu';
/** What `module_exit()` does before the module text goes away. */
type ExitPath = 'nothing' | 'synchronize_rcu' | 'rcu_barrier';

interface UnloadCase {
  readonly name: string;
  /** Extra boot parameters (the design of kfree_rcu for the kfree_rcu-only cases). */
  readonly boot: string;
  readonly free: FreeKind;
  readonly exit: ExitPath;
  /** Keep the last CPU busy with a SCHED_FIFO task for this long, ns (0: none). */
  readonly hogNs: number;
}

interface CaseResult {
  readonly c: UnloadCase;
  readonly design: string;
  readonly queued: number;
  /** Objects freed by the module's callback or by kfree_rcu. */
  readonly freed: number;
  /** Callbacks that Oopsed instead of running. */
  readonly lost: number;
  /** Callbacks pending when the module text was freed. */
  readonly pendingAtUnload: number;
  readonly oopses: number;
  /** The first Oops names the module's callback and the unloaded module. */
  readonly oopsNamesCallback: boolean;
  readonly otherReports: readonly string[];
  /** How long the exit path waited, ns. */
  readonly exitNs: number;
}

function runCase(k: Kernel, c: UnloadCase, perCpu: number): CaseResult {
  const m = k.machine;
  const rcu = k.rcu;
  const slab = k.slab;
  const mod = rcu.loadModule('foo_mod');
  let freedByCb = 0;
  // The module's own RCU callback: container_of() and kfree(), in module text.
  const fooFreeRcu =
    c.free === 'call_rcu'
      ? mod.defineCallback('foo_free_rcu', (head) => {
          freedByCb++;
          slab.kfree(head - RH_OFFSET);
        })
      : null;
  let queued = 0;
  for (let cpu = 0; cpu < m.nrCpus; cpu++) {
    m.spawn(
      function* foo_update() {
        for (let i = 0; i < perCpu; i++) {
          const obj = slab.kmalloc(OBJ_SIZE, GFP_KERNEL);
          if (obj === 0) break;
          queued++;
          if (fooFreeRcu !== null) rcu.callRcu(obj + RH_OFFSET, fooFreeRcu);
          else rcu.kfreeRcu(obj, RH_OFFSET);
        }
        yield m.condResched();
      },
      { comm: `foo_update/${cpu}`, cpu, affinity: [cpu] },
    );
  }
  if (c.hogNs > 0) {
    // A real-time task monopolises the last CPU after its updates: its
    // callbacks' grace period ends, but nothing there gets to invoke them.
    const hogCpu = m.nrCpus - 1;
    m.spawn(
      function* rt_hog() {
        yield m.sleep(5_000);
        yield m.busy(c.hogNs);
      },
      { comm: 'rt_hog', cpu: hogCpu, affinity: [hogCpu], prio: 1 },
    );
  }
  let exitNs = 0;
  let pendingAtUnload = 0;
  // rmmod foo_mod: delete_module() runs module_exit(), then frees the text.
  m.spawn(
    function* rmmod() {
      yield m.sleep(10_000); // after every update above
      const t0 = m.now();
      if (c.exit === 'rcu_barrier') yield* rcu.rcuBarrier();
      else if (c.exit === 'synchronize_rcu') yield* rcu.synchronizeRcu();
      exitNs = m.now() - t0;
      pendingAtUnload = c.free === 'call_rcu' ? queued - freedByCb : 0;
      mod.unload();
    },
    { comm: 'rmmod', cpu: 0, affinity: [0] },
  );
  k.run({ until: m.now() + RUN_AFTER_NS });
  const st = rcu.stats();
  const oops = k.reports('oops');
  const first = oops[0];
  return {
    c,
    design: k.options.kfree_rcu,
    queued,
    freed: c.free === 'call_rcu' ? freedByCb : st.kvfree.freed,
    lost: st.callbacksLost,
    pendingAtUnload,
    oopses: oops.length,
    oopsNamesCallback:
      first !== undefined &&
      first.details.symbol === 'foo_free_rcu' &&
      first.text.includes('[last unloaded: foo_mod]'),
    otherReports: k
      .reports()
      .filter((r) => r.kind !== 'oops')
      .map((r) => r.kind),
    exitNs,
  };
}

/** Where the kernel would Oops: a module callback still pending when its text is freed. */
function expectOops(r: CaseResult): boolean {
  return r.pendingAtUnload > 0;
}

/**
 * Seed 003: module unload with and without `rcu_barrier()`, and the 2008
 * argument that kfree_rcu()-only modules need none.
 * @public
 */
export const moduleUnloadScenario = defineScenario({
  name: 'module-unload',
  title: 'module unload with call_rcu() callbacks pending: rcu_barrier() or an Oops (seed 003)',
  seeds: ['003'],
  run(ctx: ScenarioContext): ScenarioResult {
    const perCpu = ctx.small ? 25 : 250;
    const design = ctx.boot().options.kfree_rcu;
    const cases: UnloadCase[] = [
      {
        name: 'call_rcu(), no rcu_barrier()',
        boot: '',
        free: 'call_rcu',
        exit: 'nothing',
        hogNs: 0,
      },
      {
        name: 'call_rcu(), synchronize_rcu() instead',
        boot: '',
        free: 'call_rcu',
        exit: 'synchronize_rcu',
        hogNs: 0,
      },
      {
        name: 'call_rcu(), synchronize_rcu() instead, a CPU busy (PREEMPT_RT: rcuc starved)',
        boot: 'preempt=rt',
        free: 'call_rcu',
        exit: 'synchronize_rcu',
        hogNs: HOG_NS,
      },
      {
        name: 'call_rcu(), rcu_barrier()',
        boot: '',
        free: 'call_rcu',
        exit: 'rcu_barrier',
        hogNs: 0,
      },
      {
        name: 'call_rcu(), rcu_barrier(), a CPU busy (PREEMPT_RT: rcuc starved)',
        boot: 'preempt=rt',
        free: 'call_rcu',
        exit: 'rcu_barrier',
        hogNs: HOG_NS,
      },
      {
        name: `kfree_rcu() only (kfree_rcu=${design}), no barrier`,
        boot: '',
        free: 'kfree_rcu',
        exit: 'nothing',
        hogNs: 0,
      },
    ];
    if (design !== 'offset-2008') {
      cases.push({
        name: 'kfree_rcu() only (kfree_rcu=offset-2008), no barrier',
        boot: 'kfree_rcu=offset-2008',
        free: 'kfree_rcu',
        exit: 'nothing',
        hogNs: 0,
      });
    }
    const results: CaseResult[] = [];
    cases.forEach((c, i) => {
      results.push(runCase(ctx.boot(c.boot), c, perCpu));
      ctx.progress((i + 1) / cases.length);
    });

    // The Oops must appear exactly where a callback was still pending at
    // unload, once per such callback, naming the module's function; nowhere else.
    const mismatches: string[] = [];
    for (const r of results) {
      const want = expectOops(r);
      if (want && r.oopses === 0) mismatches.push(`${r.c.name}: no Oops`);
      if (!want && r.oopses > 0) mismatches.push(`${r.c.name}: unexpected Oops`);
      if (want && r.oopses !== r.pendingAtUnload)
        mismatches.push(
          `${r.c.name}: ${r.oopses} Oopses for ${r.pendingAtUnload} pending callbacks`,
        );
      if (want && !r.oopsNamesCallback)
        mismatches.push(
          `${r.c.name}: the Oops does not name foo_free_rcu [last unloaded: foo_mod]`,
        );
      if (r.freed + r.lost !== r.queued)
        mismatches.push(`${r.c.name}: ${r.queued - r.freed - r.lost} objects unaccounted for`);
      if (r.otherReports.length > 0)
        mismatches.push(`${r.c.name}: other reports (${r.otherReports.join(', ')})`);
    }
    const byExit = (free: FreeKind, exit: ExitPath, busy = false) =>
      results.find((r) => r.c.free === free && r.c.exit === exit && r.c.hogNs > 0 === busy)!;
    const none = byExit('call_rcu', 'nothing');
    const sync = byExit('call_rcu', 'synchronize_rcu');
    const syncBusy = byExit('call_rcu', 'synchronize_rcu', true);
    const barrier = byExit('call_rcu', 'rcu_barrier');
    const barrierBusy = byExit('call_rcu', 'rcu_barrier', true);
    const kfreeOnly = results.filter((r) => r.c.free === 'kfree_rcu');
    const ok =
      mismatches.length === 0 &&
      none.oopses > 0 &&
      barrier.oopses === 0 &&
      barrierBusy.oopses === 0;
    const syncText =
      syncBusy.oopses > 0
        ? `; ${syncBusy.oopses} after synchronize_rcu() while a CPU was too busy to invoke its callbacks (a grace period does not wait for callbacks), ${sync.oopses} when every CPU kept up`
        : `; ${sync.oopses + syncBusy.oopses} after synchronize_rcu()`;
    const summary = ok
      ? `Oops exactly where the kernel has one: ${none.oopses} for ${none.pendingAtUnload} callbacks pending at unload without rcu_barrier()${syncText}; none with rcu_barrier() (it waited ${barrier.exitNs} ns, ${barrierBusy.exitNs} ns with a busy CPU); none for kfree_rcu()-only modules without a barrier`
      : `the Oopses do not match the kernel: ${mismatches.join('; ') || 'no Oops without rcu_barrier()'}`;
    const metrics: Metric[] = [
      {
        id: 'oops_without_barrier',
        label: 'Oopses, call_rcu() module unloaded without rcu_barrier()',
        value: none.oopses,
        unit: '',
      },
      {
        id: 'oops_after_synchronize_rcu',
        label: 'Oopses, synchronize_rcu() instead of rcu_barrier()',
        value: sync.oopses,
        unit: '',
      },
      {
        id: 'oops_after_synchronize_rcu_busy_cpu',
        label: 'Oopses, synchronize_rcu() instead of rcu_barrier(), a CPU busy',
        value: syncBusy.oopses,
        unit: '',
      },
      {
        id: 'oops_with_barrier',
        label: 'Oopses, rcu_barrier() before unload',
        value: barrier.oopses,
        unit: '',
        better: 'lower',
      },
      {
        id: 'oops_kfree_rcu_only',
        label: 'Oopses, kfree_rcu()-only modules without a barrier',
        value: kfreeOnly.reduce((a, r) => a + r.oopses, 0),
        unit: '',
        better: 'lower',
      },
      {
        id: 'rcu_barrier_ns',
        label: 'rcu_barrier() latency in the exit path',
        value: barrier.exitNs,
        unit: 'ns',
        better: 'lower',
      },
      {
        id: 'rcu_barrier_busy_cpu_ns',
        label: 'rcu_barrier() latency with a CPU busy',
        value: barrierBusy.exitNs,
        unit: 'ns',
        better: 'lower',
      },
      {
        id: 'callbacks_lost',
        label: 'callbacks lost to Oopses (objects leaked)',
        value: results.reduce((a, r) => a + r.lost, 0),
        unit: '',
      },
    ];
    return {
      verdict: { ok, summary },
      metrics,
      tables: [
        {
          title: 'one kernel per case',
          columns: [
            'case',
            'objects',
            'freed',
            'pending at unload',
            'Oopses',
            'expected Oops',
            'exit path waited (ns)',
          ],
          rows: results.map((r) => [
            r.c.name,
            r.queued,
            r.freed,
            r.pendingAtUnload,
            r.oopses,
            expectOops(r) ? 'yes' : 'no',
            r.exitNs,
          ]),
        },
      ],
      notes: [
        `Each case boots its own kernel; foo_mod queues ${perCpu} objects of ${OBJ_SIZE} bytes per CPU (rcu_head at offset ${RH_OFFSET}) from a task on each CPU, then rmmod on CPU 0 runs the exit path and frees the module text. Each kernel then runs ${RUN_AFTER_NS / 1e9} s of virtual time, past kvfree_rcu's drain delay.`,
        "An Oops is expected exactly when one of the module's own callbacks is still pending when its text is freed (counted at the unload); the simulated kernel does not panic, so each such callback Oopses and its object leaks.",
        `The "CPU busy" cases boot with preempt=rt (callbacks are invoked by rcuc/N kthreads) and run a SCHED_FIFO task on the last CPU for ${HOG_NS / 1e6} ms after its updates, as in Paul McKenney's steps a-e (seed 003): whatever the grace period waited for, that CPU's callbacks are invoked only once it gets the CPU back, so synchronize_rcu() can return on CPU 0 with them still queued, while rcu_barrier() waits for them.`,
        'kfree_rcu()-only cases: the module queues no function of its own (the callback, the offset in ->func, or the pointer array belongs to the core kernel), so nothing is left to jump into.',
      ],
    };
  },
});

export default moduleUnloadScenario;
