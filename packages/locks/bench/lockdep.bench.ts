import {
  createLockdepTaskState,
  IrqContext,
  LockClassDescs,
  Lockdep,
  type LockdepHost,
  type LockdepMap,
  type LockdepReport,
  type LockdepTaskState,
} from '@sim/locks';
import { bench, describe } from 'vitest';

// A minimal host: one task in process context with irqs on, constant site.
class BenchHost implements LockdepHost {
  readonly ts: LockdepTaskState = createLockdepTaskState();
  reports = 0;
  private readonly task = { pid: 1, comm: 'bench' };
  private readonly chain = ['bench_fn+0x0/0x10'];
  currentTask() {
    return this.task;
  }
  taskState() {
    return this.ts;
  }
  cpu() {
    return 0;
  }
  now() {
    return 0;
  }
  irqContext() {
    return IrqContext.TASK;
  }
  hardirqCount() {
    return 0;
  }
  softirqCount() {
    return 0;
  }
  hardirqsEnabled() {
    return true;
  }
  softirqsEnabled() {
    return true;
  }
  hardirqThreaded() {
    return false;
  }
  irqConfig() {
    return false;
  }
  preemptRt() {
    return false;
  }
  kernelIdent() {
    return '6.18.0-sim #1 Not tainted';
  }
  callSite() {
    return 'bench_fn+0x0/0x10';
  }
  callChain() {
    return this.chain;
  }
  report(_r: LockdepReport) {
    this.reports++;
  }
}

function setup(enabled: boolean): { ld: Lockdep; maps: LockdepMap[] } {
  const ld = new Lockdep(new BenchHost(), { enabled });
  const maps = ['&a->lock', '&b->lock', '&c->lock'].map((n, i) =>
    ld.initMap(ld.registerClass(n, LockClassDescs.spinlock), 0x1000 + i * 0x40),
  );
  return { ld, maps };
}

const N = 10_000;

// Each iteration runs N acquire+release pairs; pairs/s = N * hz.
describe('lockdep acquire+release', () => {
  const on = setup(true);
  const [a, b, c] = on.maps as [LockdepMap, LockdepMap, LockdepMap];
  bench(`lockdep on, single lock (x${N})`, () => {
    const ld = on.ld;
    for (let i = 0; i < N; i++) {
      ld.acquire(a, 0, false, 0, 1, null, 'f+0x1/0x2');
      ld.lockRelease(a);
    }
  });
  bench(`lockdep on, 3 nested locks (x${N} pairs)`, () => {
    const ld = on.ld;
    for (let i = 0; i < N; i += 3) {
      ld.acquire(a, 0, false, 0, 1, null, 'f+0x1/0x2');
      ld.acquire(b, 0, false, 0, 1, null, 'f+0x1/0x2');
      ld.acquire(c, 0, false, 0, 1, null, 'f+0x1/0x2');
      ld.lockRelease(c);
      ld.lockRelease(b);
      ld.lockRelease(a);
    }
  });
  bench(`lockdep on, lockAcquire() with options, no site (x${N})`, () => {
    const ld = on.ld;
    for (let i = 0; i < N; i++) {
      ld.lockAcquire(a);
      ld.lockRelease(a);
    }
  });
  const off = setup(false);
  const [oa] = off.maps as [LockdepMap];
  bench(`lockdep disabled, single lock (x${N})`, () => {
    const ld = off.ld;
    for (let i = 0; i < N; i++) {
      ld.acquire(oa, 0, false, 0, 1, null, 'f+0x1/0x2');
      ld.lockRelease(oa);
    }
  });
});
