import type { Task } from './task.js';

/**
 * A CPU's run queue: runnable tasks ordered by priority, then FIFO within a
 * priority (`struct rq` reduced to a priority-ordered list). The best task is
 * kept at the end of the array so that picking it is O(1).
 * @internal
 */
export class RunQueue {
  readonly items: Task[] = [];
  private tail = 0;
  private head = 0;

  get length(): number {
    return this.items.length;
  }

  /** Enqueue at the tail of its priority, or at the head when `atHead`. */
  push(t: Task, atHead: boolean): void {
    t.rqSeq = atHead ? --this.head : ++this.tail;
    t.onRq = true;
    const items = this.items;
    // Binary search for the first index whose task is better than t.
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (better(items[mid]!, t)) hi = mid;
      else lo = mid + 1;
    }
    items.splice(lo, 0, t);
  }

  peek(): Task | undefined {
    return this.items[this.items.length - 1];
  }

  pop(): Task | undefined {
    const t = this.items.pop();
    if (t !== undefined) t.onRq = false;
    return t;
  }

  remove(t: Task): boolean {
    const i = this.items.indexOf(t);
    if (i < 0) return false;
    this.items.splice(i, 1);
    t.onRq = false;
    return true;
  }
}

/** Whether `a` runs before `b`. */
function better(a: Task, b: Task): boolean {
  return a.prio < b.prio || (a.prio === b.prio && a.rqSeq < b.rqSeq);
}
