import { __GFP_NOWARN, formatGfp, GFP_KERNEL, gfpflagsAllowSpinning, parseGfp } from '@sim/gfp';
import { bench, describe } from 'vitest';

// Results land here so the work cannot be optimised away.
const sink = new Float64Array(1);

// %pGg formatting runs on every allocation-failure report and trace event;
// gfpflags_allow_spinning() on every allocation.
describe('gfp', () => {
  bench('formatGfp(GFP_KERNEL|__GFP_NOWARN)', () => {
    sink[0]! += formatGfp(GFP_KERNEL | __GFP_NOWARN).length;
  });
  bench('parseGfp("GFP_ATOMIC|__GFP_NOWARN")', () => {
    sink[0]! += parseGfp('GFP_ATOMIC|__GFP_NOWARN');
  });
  bench('gfpflagsAllowSpinning x1000', () => {
    for (let i = 0; i < 1000; i++) sink[0]! += gfpflagsAllowSpinning(i) ? 1 : 0;
  });
});
