import { Completion, createMachine, type Machine } from '@sim/cpu';
import { bench, describe } from 'vitest';

const BATCH = 1000;

/** Two tasks on one CPU handing a token back and forth through completions. */
function pingPong(): { m: Machine; switches: () => number } {
  const m = createMachine({ nrCpus: 1 });
  const a = new Completion(m);
  const b = new Completion(m);
  let n = 0;
  m.spawn(
    function* () {
      for (;;) {
        b.complete();
        n++;
        yield a.wait();
      }
    },
    { comm: 'ping' },
  );
  m.spawn(
    function* () {
      for (;;) {
        a.complete();
        n++;
        yield b.wait();
      }
    },
    { comm: 'pong' },
  );
  return { m, switches: () => n };
}

/** A task that sleeps on an hrtimer and is woken by the timer interrupt, repeatedly. */
function sleeper(): { m: Machine; wakeups: () => number } {
  const m = createMachine({ nrCpus: 2 });
  let n = 0;
  for (let cpu = 0; cpu < 2; cpu++) {
    m.spawn(
      function* () {
        for (;;) {
          yield m.sleep(50_000);
          n++;
        }
      },
      { cpu },
    );
  }
  return { m, wakeups: () => n };
}

describe('tasks (x1000 per iteration)', () => {
  const pp = pingPong();
  bench('context switches: completion ping-pong on one CPU', () => {
    const target = pp.switches() + BATCH;
    while (pp.switches() < target) pp.m.run({ maxEvents: 1 });
  });

  const sl = sleeper();
  bench('sleep/wake cycles: hrtimer -> LOC irq -> wakeup -> switch', () => {
    const target = sl.wakeups() + BATCH;
    while (sl.wakeups() < target) sl.m.run({ maxEvents: 64 });
  });
});
