import { TimerList } from '@sim/cpu';
import { hex16 } from './callbacks.js';
import { RCU_HEAD_FUNC } from './constants.js';
import type { NocbState } from './nocb.js';
import type { RcuState } from './rcu-state.js';

/**
 * `call_rcu()` (`__call_rcu_common()` in kernel/rcu/tree.c): store the
 * function in `rcu_head->func`, append the head to this CPU's segmented list
 * with irqs disabled, and handle floods. Safe from any context but NMI:
 * task, softirq, hardirq, irqs off, raw spinlocks held on PREEMPT_RT.
 * @internal
 */
export class CallRcuPath {
  /** Per-CPU timer that stands in for `tick_nohz_irq_exit()` re-evaluating `rcu_needs_cpu()`. */
  private readonly kick: TimerList[] = [];
  private doubleFreeReports = 0;
  /** Set when NOCB offloading is configured. */
  nocb: NocbState | null = null;

  constructor(private readonly rs: RcuState) {
    const m = rs.m;
    for (let c = 0; c < rs.nr; c++) {
      const cpu = c;
      this.kick.push(
        new TimerList(function rcu_nohz_kick(timer: TimerList) {
          // The tick that fired for this timer ran rcu_sched_clock_irq(); keep
          // waking the CPU while its callbacks still need it.
          if (!rs.cbs.empty(cpu) && rs.cbs.offloaded[cpu] === 0 && !m.tickRunning(cpu)) {
            m.modTimer(timer, m.jiffies + 1);
          }
        }),
      );
    }
  }

  /**
   * Queue `head` with function word `word`. Returns false (nothing queued)
   * when CONFIG_DEBUG_OBJECTS_RCU_HEAD caught a double queueing.
   */
  callRcu(head: number, word: number): boolean {
    const rs = this.rs;
    const m = rs.m;
    const dq = rs.debugQueued;
    if (dq !== null) {
      if (dq.has(head)) {
        this.doubleFree(head, word);
        return false;
      }
      dq.add(head);
    }
    const irqsWereOff = m.irqsDisabled();
    const flags = m.localIrqSave();
    const c = m.cpu;
    m.store(head + RCU_HEAD_FUNC, word, rs.siteEnqueue);
    m.probe(rs.probeCallRcu);
    rs.nCbsQueued[c] = rs.nCbsQueued[c]! + 1;
    if (rs.oracle !== null) rs.oracle.onQueue(head);
    if (rs.cbs.len[c]! >= rs.opts.qovld) rs.cbovld = true;
    if (rs.cbs.offloaded[c] === 1 && this.nocb !== null) {
      this.nocb.enqueue(c, head);
      m.localIrqRestore(flags);
      return true;
    }
    rs.cbs.enqueue(c, head, rs.siteEnqueue);
    if (!irqsWereOff) rs.callRcuFlood(c, head);
    if (!m.tickRunning(c)) {
      const k = this.kick[c]!;
      if (!m.timerPending(k)) m.modTimer(k, m.jiffies + 1);
    }
    m.localIrqRestore(flags);
    return true;
  }

  /**
   * CONFIG_DEBUG_OBJECTS_RCU_HEAD caught `head` being queued twice: the
   * kernel leaks the callback and prints "Double-freed CB" for the first
   * few occurrences.
   */
  private doubleFree(head: number, word: number): void {
    const rs = this.rs;
    const m = rs.m;
    if (this.doubleFreeReports >= 5) return;
    this.doubleFreeReports++;
    const i = rs.registry.decode(word);
    const sym = i >= 0 ? rs.registry.callbacks[i]!.toString() : `0x${word.toString(16)}`;
    m.report({
      kind: 'rcu-double-free',
      lines: [
        'ODEBUG: activate active (active state 1) object: ' +
          `${hex16(head)} object type: rcu_head hint: 0x0`,
        `__call_rcu_common(): Double-freed CB ${hex16(head)}->${sym}()!!!  ${'non-slab/vmalloc memory'}`,
      ],
      details: { head, func: word, symbol: sym },
      taint: 'W',
      withStack: true,
      frames: ['__call_rcu_common', 'call_rcu'],
      level: 'warning',
    });
  }
}
