import type { Task } from './task.js';

/** One Chrome trace-event record. @internal */
interface TraceEvent {
  readonly ph: string;
  readonly name?: string;
  readonly cat?: string;
  readonly ts?: number;
  readonly pid: number;
  readonly tid?: number;
  readonly id?: number | string;
  readonly s?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

const CPU_PID = 1;
const TASK_PID = 2;

/**
 * The machine's trace recorder: context slices per CPU track (task, softirq,
 * hardirq, NMI), per-task run slices, instants, counters and async spans,
 * exported in the Chrome trace-event JSON format that ui.perfetto.dev and
 * chrome://tracing open. Timestamps are virtual µs.
 * @internal
 */
export class Tracer {
  private readonly events: TraceEvent[] = [];
  private readonly taskNames = new Map<number, string>();
  private readonly running: (Task | null)[];
  private readonly nrCpus: number;

  constructor(nrCpus: number) {
    this.nrCpus = nrCpus;
    this.running = new Array<Task | null>(nrCpus).fill(null);
  }

  get size(): number {
    return this.events.length;
  }

  begin(cpu: number, ns: number, name: string, cat: string): void {
    this.events.push({ ph: 'B', name, cat, ts: ns / 1000, pid: CPU_PID, tid: cpu });
  }

  end(cpu: number, ns: number): void {
    this.events.push({ ph: 'E', ts: ns / 1000, pid: CPU_PID, tid: cpu });
  }

  contextSwitch(cpu: number, ns: number, prev: Task, next: Task): void {
    const ts = ns / 1000;
    if (!prev.isIdle) {
      this.events.push({ ph: 'E', ts, pid: CPU_PID, tid: cpu });
      this.events.push({ ph: 'E', ts, pid: TASK_PID, tid: prev.pid });
    }
    this.running[cpu] = next.isIdle ? null : next;
    if (!next.isIdle) {
      this.taskName(next);
      this.events.push({
        ph: 'B',
        name: next.comm,
        cat: 'task',
        ts,
        pid: CPU_PID,
        tid: cpu,
        args: { pid: next.pid, prio: next.prio },
      });
      this.events.push({
        ph: 'B',
        name: `CPU ${cpu}`,
        cat: 'run',
        ts,
        pid: TASK_PID,
        tid: next.pid,
      });
    }
  }

  taskName(t: Task): void {
    if (!this.taskNames.has(t.pid)) this.taskNames.set(t.pid, `${t.comm}/${t.pid}`);
  }

  instant(cpu: number, ns: number, name: string, args?: Readonly<Record<string, unknown>>): void {
    this.events.push(
      args === undefined
        ? { ph: 'i', s: 't', name, ts: ns / 1000, pid: CPU_PID, tid: cpu }
        : { ph: 'i', s: 't', name, ts: ns / 1000, pid: CPU_PID, tid: cpu, args },
    );
  }

  counter(ns: number, name: string, value: number): void {
    this.events.push({ ph: 'C', name, ts: ns / 1000, pid: CPU_PID, args: { value } });
  }

  asyncBegin(ns: number, name: string, id: number | string, cat: string): void {
    this.events.push({ ph: 'b', name, cat, id, ts: ns / 1000, pid: CPU_PID });
  }

  asyncEnd(ns: number, name: string, id: number | string, cat: string): void {
    this.events.push({ ph: 'e', name, cat, id, ts: ns / 1000, pid: CPU_PID });
  }

  /** The JSON document; open task slices are closed at each CPU's `clocks` value. */
  export(clocks: Float64Array): string {
    const meta: TraceEvent[] = [
      { ph: 'M', name: 'process_name', pid: CPU_PID, args: { name: 'CPUs' } },
      { ph: 'M', name: 'process_sort_index', pid: CPU_PID, args: { sort_index: 0 } },
      { ph: 'M', name: 'process_name', pid: TASK_PID, args: { name: 'Tasks' } },
      { ph: 'M', name: 'process_sort_index', pid: TASK_PID, args: { sort_index: 1 } },
    ];
    for (let c = 0; c < this.nrCpus; c++) {
      meta.push({ ph: 'M', name: 'thread_name', pid: CPU_PID, tid: c, args: { name: `CPU ${c}` } });
      meta.push({
        ph: 'M',
        name: 'thread_sort_index',
        pid: CPU_PID,
        tid: c,
        args: { sort_index: c },
      });
    }
    for (const [pid, name] of [...this.taskNames].sort((a, b) => a[0] - b[0])) {
      meta.push({ ph: 'M', name: 'thread_name', pid: TASK_PID, tid: pid, args: { name } });
    }
    const tail: TraceEvent[] = [];
    for (let c = 0; c < this.nrCpus; c++) {
      const t = this.running[c];
      if (t === null || t === undefined) continue;
      const ts = clocks[c]! / 1000;
      tail.push({ ph: 'E', ts, pid: CPU_PID, tid: c });
      tail.push({ ph: 'E', ts, pid: TASK_PID, tid: t.pid });
    }
    const all = [...meta, ...this.events, ...tail];
    return `{"displayTimeUnit":"ns","traceEvents":[\n${all.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`;
  }
}
