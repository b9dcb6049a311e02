import type { Machine } from '@sim/cpu';
import { hex16 } from './callbacks.js';
import type { RcuTaskState } from './task-state.js';

/** One oracle violation. @public */
export interface GpOracleViolation {
  /** What completed too early: 'callback', 'free', 'synchronize_rcu', 'poll'. */
  readonly what: string;
  /** Address concerned (rcu_head, object, or cookie). */
  readonly addr: number;
  /** Pid of a reader that started before and was still running. */
  readonly readerPid: number;
  /** Virtual time of the violation. */
  readonly time: number;
}

/**
 * The grace-period oracle: an independent check of RCU's guarantee, kept
 * beside the implementation it checks. Every outermost read-side critical
 * section gets a sequence number when it starts; every callback, deferred
 * free, `synchronize_rcu()` and polled cookie records the sequence number at
 * the time it was requested; when it completes, no reader numbered below
 * that may still be running. Violations are reported with kind
 * 'rcu-gp-oracle' and counted.
 * @public
 */
export class GpOracle {
  /** Violations found so far. */
  readonly violations: GpOracleViolation[] = [];
  /** Readers started so far. */
  private seq = 0;
  private readonly active: RcuTaskState[] = [];
  private readonly queued = new Map<number, number>();
  private readonly retired = new Map<number, number>();
  private readonly cookies = new Map<number, number>();
  /** Checks performed. */
  checks = 0;

  /** @internal */
  constructor(private readonly m: Machine) {}

  /** Readers currently inside a read-side critical section. */
  get activeReaders(): number {
    return this.active.length;
  }

  /** @internal outermost reader entry */
  enter(st: RcuTaskState): void {
    if (st.readerSlot >= 0) return;
    st.readerSeq = this.seq++;
    st.readerSlot = this.active.length;
    this.active.push(st);
  }

  /** @internal outermost reader exit */
  exit(st: RcuTaskState): void {
    const i = st.readerSlot;
    if (i < 0) return;
    const a = this.active;
    const last = a.pop()!;
    if (last !== st) {
      a[i] = last;
      last.readerSlot = i;
    }
    st.readerSlot = -1;
    st.readerSeq = -1;
  }

  /** @internal sequence number a request made now must outlive */
  token(): number {
    return this.seq;
  }

  /** @internal a reader that started before `token` and is still running, or null */
  blocker(token: number): RcuTaskState | null {
    const a = this.active;
    for (let i = 0; i < a.length; i++) if (a[i]!.readerSeq < token) return a[i]!;
    return null;
  }

  /** @internal a callback was queued with `head` */
  onQueue(head: number): void {
    this.queued.set(head, this.seq);
  }

  /** @internal the callback queued with `head` is being invoked */
  onInvoke(head: number): void {
    const t = this.queued.get(head);
    if (t === undefined) return;
    this.queued.delete(head);
    this.check(t, 'callback', head);
  }

  /** @internal an object handed to kfree_rcu() */
  onRetire(ptr: number): void {
    this.retired.set(ptr, this.seq);
  }

  /** @internal an object actually freed by kvfree_rcu machinery */
  onFree(ptr: number): void {
    const t = this.retired.get(ptr);
    if (t === undefined) return;
    this.retired.delete(ptr);
    this.check(t, 'free', ptr);
  }

  /** @internal a polled cookie handed out now */
  onCookie(cookie: number): void {
    const prev = this.cookies.get(cookie);
    if (prev === undefined || prev < this.seq) this.cookies.set(cookie, this.seq);
  }

  /** @internal a polled cookie reported as completed */
  onCookieDone(cookie: number): void {
    const t = this.cookies.get(cookie);
    if (t === undefined) return;
    this.cookies.delete(cookie);
    this.check(t, 'poll', cookie);
  }

  /** @internal report `what` if a reader older than `token` still runs */
  check(token: number, what: string, addr: number): void {
    this.checks++;
    const b = this.blocker(token);
    if (b === null) return;
    const m = this.m;
    const v: GpOracleViolation = Object.freeze({
      what,
      addr,
      readerPid: b.task.pid,
      time: m.now(),
    });
    this.violations.push(v);
    m.report({
      kind: 'rcu-gp-oracle',
      lines: [
        `rcu: grace-period oracle: ${what} ${hex16(addr)} completed while reader ${b.task.comm}/${b.task.pid}, which started before it was requested, is still in its read-side critical section`,
      ],
      details: { what, addr, readerPid: b.task.pid },
      withStack: true,
    });
  }
}
