import type { Machine } from '@sim/cpu';
import type { Locking, RawSpinLock } from '@sim/locks';
import type { RcuTaskState } from './task-state.js';

/**
 * Geometry of the rcu_node combining tree (`rcu_init_geometry()`,
 * kernel/rcu/tree.c): leaves cover `fanoutLeaf` CPUs each, interior nodes
 * `fanout` children each, up to a single root. Nodes are numbered
 * breadth-first, root first, like `rcu_state.node[]`.
 * @public
 */
export interface RcuNodeGeometry {
  /** Number of levels (`rcu_num_lvls`). */
  readonly levels: number;
  /** Nodes per level, root level first (`num_rcu_lvl[]`). */
  readonly levelSizes: readonly number[];
  /** Total nodes (`rcu_num_nodes`). */
  readonly nodes: number;
}

/** One rcu_node's identity, as the stall warnings print it. @public */
export interface RcuNodeInfo {
  /** Position in `rcu_state.node[]`, breadth-first. */
  readonly index: number;
  /** Depth, 0 at the root. */
  readonly level: number;
  /** Lowest and highest CPU covered (`grplo`, `grphi`). */
  readonly grplo: number;
  /** Highest CPU covered. */
  readonly grphi: number;
  /** Parent index, or -1 for the root. */
  readonly parent: number;
  /** Position among the parent's children (`grpnum`). */
  readonly grpnum: number;
}

/**
 * Compute the rcu_node tree shape for `nrCpus` CPUs.
 * @public
 */
export function rcuNodeGeometry(
  nrCpus: number,
  fanout: number,
  fanoutLeaf: number,
): RcuNodeGeometry {
  const sizes: number[] = [];
  let n = Math.ceil(nrCpus / fanoutLeaf);
  sizes.unshift(n);
  while (n > 1) {
    n = Math.ceil(n / fanout);
    sizes.unshift(n);
  }
  return { levels: sizes.length, levelSizes: sizes, nodes: sizes.reduce((a, b) => a + b, 0) };
}

/**
 * The rcu_node tree at run time: per node the quiescent-state bits of its
 * children (`qsmask`), its `gp_seq`, its raw spinlock and, for leaves, the
 * list of tasks preempted inside RCU read-side critical sections
 * (`blkd_tasks`). Bits are kept one byte per child so masks wider than 32
 * bits need no big-integer arithmetic.
 * @internal
 */
export class RcuNodeTree {
  readonly geometry: RcuNodeGeometry;
  readonly info: RcuNodeInfo[] = [];
  /** Index of the first leaf (leaves are the last level). */
  readonly firstLeaf: number;
  /** Leaf node of each CPU (`rdp->mynode`). */
  readonly leafOf: Int32Array;
  /** Bit position of each CPU in its leaf (`rdp->grpnum`). */
  readonly cpuBit: Int32Array;
  /** Offset of each node's child bits in `qsBits`. */
  readonly bitBase: Int32Array;
  /** Children per node. */
  readonly nChildren: Int32Array;
  /** `qsmask` bits, one byte per child. */
  readonly qsBits: Uint8Array;
  /** Set bits per node (`qsmask != 0`). */
  readonly qsCount: Int32Array;
  /** `expmask` bits for expedited grace periods. */
  readonly expBits: Uint8Array;
  readonly expCount: Int32Array;
  /** `gp_seq` per node. */
  readonly gpSeq: Float64Array;
  /** Address of each node's structure in memory (its `qsmask` word). */
  readonly addr: Float64Array;
  /** `rnp->lock`. */
  readonly locks: RawSpinLock[] = [];
  /** `blkd_tasks` of each node (leaves only are used). */
  readonly blkd: RcuTaskState[][] = [];
  /** Blocked tasks that block the current normal grace period (`gp_tasks` onwards). */
  readonly blkdGp: Int32Array;
  /** Blocked tasks that block the current expedited grace period (`exp_tasks` onwards). */
  readonly blkdExp: Int32Array;

  constructor(m: Machine, locking: Locking, nrCpus: number, fanout: number, fanoutLeaf: number) {
    const g = rcuNodeGeometry(nrCpus, fanout, fanoutLeaf);
    this.geometry = g;
    const nodes = g.nodes;
    this.leafOf = new Int32Array(nrCpus);
    this.cpuBit = new Int32Array(nrCpus);
    this.bitBase = new Int32Array(nodes);
    this.nChildren = new Int32Array(nodes);
    this.qsCount = new Int32Array(nodes);
    this.expCount = new Int32Array(nodes);
    this.gpSeq = new Float64Array(nodes);
    this.addr = new Float64Array(nodes);
    this.blkdGp = new Int32Array(nodes);
    this.blkdExp = new Int32Array(nodes);
    // Build breadth-first: level l has levelSizes[l] nodes; the CPUs covered by
    // a node are split evenly as the kernel's span computation does.
    const spans: number[] = [];
    let span = fanoutLeaf;
    for (let l = g.levels - 1; l >= 0; l--) {
      spans[l] = span;
      span *= fanout;
    }
    let index = 0;
    const levelStart: number[] = [];
    for (let l = 0; l < g.levels; l++) {
      levelStart[l] = index;
      for (let j = 0; j < g.levelSizes[l]!; j++) {
        const grplo = j * spans[l]!;
        const grphi = Math.min(grplo + spans[l]! - 1, nrCpus - 1);
        const parent = l === 0 ? -1 : levelStart[l - 1]! + Math.floor(j / fanout);
        const grpnum = l === 0 ? 0 : j % fanout;
        this.info.push(Object.freeze({ index, level: l, grplo, grphi, parent, grpnum }));
        index++;
      }
    }
    this.firstLeaf = levelStart[g.levels - 1]!;
    let bits = 0;
    for (let i = 0; i < nodes; i++) {
      const inf = this.info[i]!;
      let n: number;
      if (i >= this.firstLeaf) n = inf.grphi - inf.grplo + 1;
      else n = this.info.filter((x) => x.parent === i).length;
      this.nChildren[i] = n;
      this.bitBase[i] = bits;
      bits += n;
      this.blkd.push([]);
    }
    this.qsBits = new Uint8Array(bits);
    this.expBits = new Uint8Array(bits);
    for (let i = this.firstLeaf; i < nodes; i++) {
      const inf = this.info[i]!;
      for (let c = inf.grplo; c <= inf.grphi; c++) {
        this.leafOf[c] = i;
        this.cpuBit[c] = c - inf.grplo;
      }
    }
    // ____cacheline_internodealigned_in_smp: one 128-byte block per node.
    const base = m.memory.memblockAlloc(nodes * 128, 128);
    for (let i = 0; i < nodes; i++) {
      this.addr[i] = base + i * 128;
      this.locks.push(locking.rawSpinLock(`rcu_node_${this.info[i]!.level}`));
    }
  }

  get nodes(): number {
    return this.geometry.nodes;
  }

  isLeaf(i: number): boolean {
    return i >= this.firstLeaf;
  }

  /** `qsmask` of node `i` as `%#lx` prints it. */
  qsmaskHex(i: number, exp = false): string {
    const bits = exp ? this.expBits : this.qsBits;
    let v = 0n;
    const b = this.bitBase[i]!;
    for (let k = 0; k < this.nChildren[i]!; k++) if (bits[b + k] === 1) v |= 1n << BigInt(k);
    return v === 0n ? '0x0' : `0x${v.toString(16)}`;
  }
}
