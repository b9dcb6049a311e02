import { MachineError, show } from './errors.js';
import type { Injection } from './injector.js';

/**
 * Named probe points (tracepoints / kprobe sites): `defineProbe(name)` once,
 * then `probe(id)` on the hot path. An attached flag per probe in a typed
 * array keeps an unattached probe to a single load and compare.
 * @internal
 */
export class ProbeRegistry {
  attached: Uint8Array = new Uint8Array(64);
  readonly names: string[] = [];
  readonly hits: Injection[][] = [];
  private readonly ids = new Map<string, number>();

  define(name: string): number {
    if (typeof name !== 'string' || name.length === 0) {
      throw new MachineError('BAD_PROBE', `probe name ${show(name)}: accepted a non-empty string`);
    }
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.names.length;
    this.names.push(name);
    this.hits.push([]);
    this.ids.set(name, id);
    if (id >= this.attached.length) {
      const a = new Uint8Array(this.attached.length * 2);
      a.set(this.attached);
      this.attached = a;
    }
    return id;
  }

  lookup(name: string): number | undefined {
    return this.ids.get(name);
  }

  check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.names.length) {
      throw new MachineError('BAD_PROBE', `probe id ${show(id)} was not returned by defineProbe()`);
    }
  }

  attach(id: number, inj: Injection): void {
    this.hits[id]!.push(inj);
    this.attached[id] = 1;
  }

  detach(id: number, inj: Injection): void {
    const l = this.hits[id]!;
    const i = l.indexOf(inj);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.attached[id] = 0;
  }
}
