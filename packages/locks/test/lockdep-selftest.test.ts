import { describe, expect, it } from 'vitest';
import {
  dotest,
  FAILURE,
  runSelftest,
  type SelftestRun,
  selftestSections,
} from './fixtures/selftest.js';

// lib/locking-selftest.c run on the engine: every case with the kernel's
// expected outcome, judged like dotest() (did lockdep turn itself off?).

let cached: SelftestRun | undefined;
const run = (): SelftestRun => {
  cached ??= runSelftest();
  return cached;
};

/** Which report a failing case must produce, by case-name prefix. */
const EXPECTED_KIND: [RegExp, readonly string[]][] = [
  [/^AA_|^rsem_AA1|^rlock_AA[23]|^rsem_AA[23]|^fs_reclaim_wrong/, ['lockdep-recursive']],
  [
    /^AB|^rlock_ABBA|^rwsem_ABBA|^rlock_chaincache|^W1|^queued_read_lock_hardirq_RE_Er/,
    ['lockdep-circular'],
  ],
  [/^double_unlock/, ['lockdep-bad-unlock']],
  [/^init_held/, ['lockdep-held-lock-freed']],
  [/^irqsafe[12]|^irqsafe3|^irq_read_recursion_/, ['lockdep-inconsistent']],
  [
    /^irqsafe4|^irq_inversion|^irq_read_recursion[23]|^queued_read_lock_hardirq_inversion/,
    ['lockdep-inconsistent', 'lockdep-irq-inversion', 'lockdep-irq-unsafe'],
  ],
  [/_in_/, ['lockdep-invalid-wait-context']],
  [/^local_lock_3B|^hardirq_deadlock/, ['lockdep-irq-unsafe']],
];

describe('lib/locking-selftest.c on the lockdep engine', () => {
  it('prints the kernel matrix and every case has the expected outcome', () => {
    const r = run();
    // Like debug_locks_verbose=: DEBUG_LOCKS_VERBOSE=1 shows the matrix.
    if (process.env.DEBUG_LOCKS_VERBOSE === '1') console.log(r.lines.join('\n'));
    expect(r.unexpected).toEqual([]);
    expect(r.lines.slice(0, 5)).toEqual([
      '------------------------',
      '| Locking API testsuite:',
      '----------------------------------------------------------------------------',
      '                                 | spin |wlock |rlock |mutex | wsem | rsem |',
      '  --------------------------------------------------------------------------',
    ]);
    expect(r.lines).toContain(
      '                     A-A deadlock:  ok  |  ok  |  ok  |  ok  |  ok  |  ok  |',
    );
    expect(r.lines).toContain(
      '              recursive read-lock:             |  ok  |             |  ok  |',
    );
    expect(r.lines).toContain('      hard-irq read-recursion/123:      |  ok  |  ok  |');
    expect(r.lines).toContain('in hardirq context (not threaded):  ok  |  ok  |  ok  |  ok  |');
    expect(r.lines.some((l) => l.includes('FAILED|'))).toBe(false);
    expect(r.lines.at(-2)).toBe(`Good, all ${r.total} testcases passed! |`);
    // Rows are "%33s:" then 7-character cells.
    for (const l of r.lines.filter((x) => x.includes('|  ok  |') || x.endsWith('  ok  |'))) {
      expect(l[33]).toBe(':');
      expect((l.length - 34) % 7).toBe(0);
    }
  });

  it('runs the same families as the kernel', () => {
    const names = selftestSections().flatMap((s) =>
      s.rows.flatMap((r) => r.cells.map((c) => c.name)),
    );
    for (const fam of [
      'AA_spin',
      'ABBA_mutex',
      'ABBCCA_rsem',
      'ABCDBDDA_wlock',
      'double_unlock_spin',
      'init_held_rsem',
      'irqsafe1_hard_spin_12',
      'irqsafe2A_soft_rlock_21',
      'irqsafe4_soft_wlock_321',
      'irq_inversion_hard_rlock_231',
      'irq_read_recursion3_soft_wlock_312',
      'rlock_chaincache_ABBA1',
      'W1W2_R2R3_R3W1_213',
      'mutex_in_RCU_SCHED',
      'spinlock_in_NOTTHREADED_HARDIRQ',
      'local_lock_3B',
      'fs_reclaim_protected_nesting',
      'queued_read_lock_hardirq_ER_rE',
    ]) {
      expect(names).toContain(fam);
    }
    expect(names.length).toBe(run().total);
  });

  it('every expected failure is reported with the kernel report for that bug', () => {
    const r = run();
    const cells = selftestSections().flatMap((s) => s.rows.flatMap((x) => x.cells));
    let checked = 0;
    for (const cell of cells) {
      const res = r.results.get(cell.name);
      expect(res, cell.name).toBeDefined();
      if (res === undefined) continue;
      if (cell.expected !== FAILURE) {
        expect(res.reports, cell.name).toEqual([]);
        continue;
      }
      // Exactly one report: lockdep turned itself off after it.
      expect(res.reports.length, cell.name).toBe(1);
      const kind = res.reports[0]?.kind ?? '';
      const rule = EXPECTED_KIND.find(([re]) => re.test(cell.name));
      expect(rule, `no expectation for ${cell.name}`).toBeDefined();
      expect(rule?.[1], `${cell.name} reported ${kind}`).toContain(kind);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('A-B-B-A names both locks in the circular report', () => {
    const r = dotest((e) => {
      e.LOCK_UNLOCK_2('spin', 'A', 'B');
      e.LOCK_UNLOCK_2('spin', 'B', 'A');
    }, FAILURE);
    expect(r.ok).toBe(true);
    const d = r.reports[0]?.details as { chain: { class: string }[] };
    expect(d.chain.map((c) => c.class)).toEqual(['lock_B', 'lock_A']);
  });

  it('hardirq-safe -> hardirq-unsafe through a chain names the HARDIRQ class', () => {
    const res = run().results.get('hardirq_deadlock_softirq_not_deadlock');
    expect(res?.reports[0]?.details).toMatchObject({
      irqClass: 'HARDIRQ',
      safe: 'lock_A',
      unsafe: 'lock_D',
      safeUsage: 'IN-HARDIRQ-W',
      unsafeUsage: 'HARDIRQ-ON-W',
    });
  });
});
