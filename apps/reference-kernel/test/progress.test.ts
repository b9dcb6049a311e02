import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress.js';

function tty(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (s: string) => writes.push(s) }, writes };
}

describe('progress bar', () => {
  it('stays silent for runs shorter than a second', () => {
    const { stream, writes } = tty(true);
    let t = 0;
    const p = createProgress('run', stream, () => t);
    t = 500;
    p.update(0.5);
    p.done();
    expect(writes).toEqual([]);
  });

  it('draws on a TTY once a run passes a second, and clears the line at the end', () => {
    const { stream, writes } = tty(true);
    let t = 0;
    const p = createProgress('kfree-rcu-scale', stream, () => t);
    t = 1500;
    p.update(0.5);
    p.update(0.5); // same percentage: not redrawn
    p.update(1);
    p.done();
    expect(writes.length).toBe(3);
    expect(writes[0]).toContain('kfree-rcu-scale [###############...............]  50%');
    expect(writes[2]).toBe('\r\x1b[K');
  });

  it('never draws when the stream is not a TTY (pipes, --json consumers)', () => {
    const { stream, writes } = tty(false);
    let t = 0;
    const p = createProgress('run', stream, () => t);
    t = 5000;
    p.update(0.9);
    p.done();
    expect(writes).toEqual([]);
  });
});
