import { GFP_KERNEL } from '@sim/gfp';
import { it } from 'vitest';
import { bootKernel } from '../src/kernel.js';

it('prof', () => {
  for (const mem of ['16M', '64M', '16M', '64M']) {
    const t0 = performance.now();
    const k = bootKernel(`nr_cpus=2 mem=${mem} preempt=rt kfree_rcu=batched`);
    const t1 = performance.now();
    const m = k.machine;
    m.spawn(
      function* () {
        yield m.msleep(1100);
      },
      { cpu: 0 },
    );
    k.run();
    const t2 = performance.now();
    m.spawn(
      function* () {
        const objs: number[] = [];
        for (let i = 0; i < 64; i++) objs.push(k.slab.kmalloc(128, GFP_KERNEL));
        for (const p of objs) k.rcu.kfreeRcu(p, 16);
        yield* k.rcu.kvfreeRcuBarrier();
      },
      { cpu: 0 },
    );
    k.run();
    const t3 = performance.now();
    console.log(
      mem,
      'boot',
      (t1 - t0).toFixed(1),
      'sleep',
      (t2 - t1).toFixed(1),
      'barrier',
      (t3 - t2).toFixed(1),
      m.now(),
    );
    console.log(
      m.cache
        .siteStats()
        .filter((s) => s.accesses > 0)
        .map((s) => `${s.label}:${s.accesses}/${s.l1Hits}`)
        .join(' '),
    );
  }
}, 60000);
