import { describeSlabAllocator } from '@sim/slab/conformance';
import { createSheaves, createSlub } from '../src/index.js';

describeSlabAllocator('slub', createSlub, { kasanOptions: { kasan: true } });
describeSlabAllocator('sheaves', createSheaves, { kasanOptions: { kasan: true } });
describeSlabAllocator('slub on PREEMPT_RT, 4 CPUs', createSlub, {
  preempt: 'rt',
  nrCpus: 4,
  randomOps: 1500,
});
describeSlabAllocator('sheaves with per-cache deferred lists', createSheaves, {
  options: { deferPlacement: 'per-cache' },
  randomOps: 1500,
});
