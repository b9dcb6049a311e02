import type { Machine } from '@sim/cpu';

/**
 * A lock-less singly linked list whose head word and `next` links live in
 * simulated memory: a node is the address of an `llist_node` word embedded in
 * an object. Adders use cmpxchg and may run in any context including NMI;
 * `llistDelAll` takes the whole chain with one xchg. A probe between reading
 * the head and the cmpxchg lets an injected NMI race an adder, so the retry
 * loop really runs. Models include/linux/llist.h and lib/llist.c.
 * @public
 */
export class LlistHead {
  private readonly site: number;
  private readonly probeAdd: number;

  /** @internal */
  constructor(
    private readonly m: Machine,
    /** Physical address of the `first` word. */
    readonly addr: number,
    site: string,
  ) {
    this.site = m.siteId(site);
    this.probeAdd = m.defineProbe('llist.add');
  }

  /**
   * Push `node`. Returns true when the list was empty before, the signal
   * kernel users take to queue their worker. Models `llist_add()`.
   */
  add(node: number): boolean {
    return this.addBatch(node, node);
  }

  /** Push the chain `first` … `last` (already linked). Models `llist_add_batch()`. */
  addBatch(first: number, last: number): boolean {
    const m = this.m;
    for (;;) {
      const head = m.load(this.addr, this.site);
      m.store(last, head, this.site);
      m.probe(this.probeAdd);
      if (m.cmpxchg(this.addr, head, first, this.site) === head) return head === 0;
    }
  }

  /** Take every node, newest first; 0 when empty. Models `llist_del_all()`. */
  delAll(): number {
    return this.m.xchg(this.addr, 0, this.site);
  }

  /**
   * Pop the newest node; 0 when empty. Only one consumer at a time (ABA).
   * Models `llist_del_first()`.
   */
  delFirst(): number {
    const m = this.m;
    for (;;) {
      const head = m.load(this.addr, this.site);
      if (head === 0) return 0;
      const next = m.load(head, this.site);
      if (m.cmpxchg(this.addr, head, next, this.site) === head) return head;
    }
  }

  /** Whether the list is empty. Models `llist_empty()`. */
  empty(): boolean {
    return this.m.load(this.addr, this.site) === 0;
  }

  /** The node after `node`, or 0. Models `llist_next()`. */
  next(node: number): number {
    return this.m.load(node, this.site);
  }

  /** Reverse a detached chain (newest-first to oldest-first). Models `llist_reverse_order()`. */
  reverseOrder(first: number): number {
    const m = this.m;
    let head = 0;
    let node = first;
    while (node !== 0) {
      const next = m.load(node, this.site);
      m.store(node, head, this.site);
      head = node;
      node = next;
    }
    return head;
  }
}
