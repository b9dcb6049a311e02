import { createMachine } from '@sim/cpu';
import { bench, describe } from 'vitest';

const BATCH = 1000;

describe('hot-path primitives (x1000 per iteration)', () => {
  const m = createMachine({ nrCpus: 2 });
  const p = m.defineProbe('bench:unattached');
  const q = m.defineProbe('bench:attached');
  m.attachProgram('bench:attached', { nth: 1e12 }, () => {});
  const addr = m.memory.memblockAlloc(64, 64);
  const site = m.siteId('bench.word');

  bench('probe() with nothing attached', () => {
    for (let i = 0; i < BATCH; i++) m.probe(p);
  });
  bench('probe() with an Nth-hit program attached', () => {
    for (let i = 0; i < BATCH; i++) m.probe(q);
  });
  bench('preemptDisable()+preemptEnable()', () => {
    for (let i = 0; i < BATCH; i++) {
      m.preemptDisable();
      m.preemptEnable();
    }
  });
  bench('preemptCountAdd(2)+preemptCountSub(2)', () => {
    for (let i = 0; i < BATCH; i++) {
      m.preemptCountAdd(2);
      m.preemptCountSub(2);
    }
  });
  bench('localIrqSave()+localIrqRestore()', () => {
    for (let i = 0; i < BATCH; i++) m.localIrqRestore(m.localIrqSave());
  });
  bench('fnEnter()+fnExit()', () => {
    for (let i = 0; i < BATCH; i++) {
      m.fnEnter(5);
      m.fnExit();
    }
  });
  bench('machine.load() hitting L1', () => {
    for (let i = 0; i < BATCH; i++) m.load(addr, site);
  });
});
