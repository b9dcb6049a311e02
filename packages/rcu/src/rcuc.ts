import { MAX_RT_PRIO, TASK_INTERRUPTIBLE, TASK_RUNNING, type Task } from '@sim/cpu';
import type { CallbackInvoker } from './invoke.js';
import type { RcuState } from './rcu-state.js';

/**
 * The per-CPU rcuc/N kthreads (`rcu_cpu_kthread()`, kernel/rcu/tree.c) that
 * run `rcu_core()` instead of RCU_SOFTIRQ when `rcutree.use_softirq=0`, the
 * PREEMPT_RT default: bottom halves disabled, up to ten rounds while work
 * keeps arriving, then a cond_resched(). SCHED_FIFO 1 when priority boosting
 * is configured (PREEMPT_RT).
 * @internal
 */
export function spawnRcucKthreads(rs: RcuState, invoker: CallbackInvoker): void {
  const m = rs.m;
  const prio = m.rt ? MAX_RT_PRIO - 2 : 120;
  for (let c = 0; c < rs.nr; c++) {
    const cpu = c;
    const t: Task = m.spawn(
      function* rcu_cpu_kthread(self: Task) {
        for (;;) {
          self.state = TASK_INTERRUPTIBLE;
          if (rs.rcuCpuHasWork[cpu] === 0) {
            yield m.schedule();
            continue;
          }
          self.state = TASK_RUNNING;
          let spins = 0;
          for (; spins < 10; spins++) {
            m.localBhDisable();
            const work = rs.rcuCpuHasWork[cpu];
            rs.rcuCpuHasWork[cpu] = 0;
            if (work === 1) invoker.rcuCore();
            m.localBhEnable();
            if (rs.rcuCpuHasWork[cpu] === 0) break;
          }
          // Ten rounds with work still arriving: yield for two jiffies.
          if (spins === 10) yield m.sleep(2 * m.tickNs);
          else yield m.condResched('kernel/rcu/tree.c');
        }
      },
      { comm: `rcuc/${c}`, kthread: true, affinity: [c], cpu: c, prio },
    );
    rs.rcuc[c] = t;
  }
}

/** Wake rcuc/N (`invoke_rcu_core_kthread()`). @internal */
export function wakeRcuc(rs: RcuState, c: number): void {
  const t = rs.rcuc[c];
  if (t !== null && t !== undefined && t !== rs.m.current) rs.m.wakeUpProcess(t);
}
