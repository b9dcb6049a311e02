import { MachineError, show } from './errors.js';
import type { Machine } from './machine.js';
import type { Rng } from './prng.js';

/**
 * When an injection fires: on exactly the Nth hit of its probe, at a seeded
 * rate on every hit, or on every hit.
 * @public
 */
export type InjectionTrigger =
  | { readonly nth: number }
  | { readonly rate: number }
  | { readonly every: true };

/** What an injection runs; it receives the machine. @public */
export type InjectionHandler = (machine: Machine) => void;

/** Where an injection's handler runs: in NMI context, or in the probed context. @public */
export type InjectionKind = 'nmi' | 'program';

/** Validate a trigger object. @internal */
export function checkTrigger(trigger: InjectionTrigger): void {
  const t = trigger as Partial<{ nth: unknown; rate: unknown; every: unknown }>;
  if (typeof trigger === 'object' && trigger !== null) {
    const keys = Object.keys(trigger);
    if (keys.length === 1) {
      if (keys[0] === 'nth' && Number.isInteger(t.nth) && (t.nth as number) >= 1) return;
      if (keys[0] === 'rate' && typeof t.rate === 'number' && t.rate >= 0 && t.rate <= 1) return;
      if (keys[0] === 'every' && t.every === true) return;
    }
  }
  throw new MachineError(
    'BAD_TRIGGER',
    `injection trigger ${show(trigger)}: accepted { nth: integer >= 1 }, { rate: number in [0, 1] } or { every: true }`,
  );
}

/**
 * A handler attached to a probe: an injected NMI or a "program" running in
 * the probed context like a BPF program on a tracepoint. Deterministic: the
 * rate trigger draws from its own PRNG stream.
 * @public
 */
export class Injection {
  readonly kind: InjectionKind;
  /** Name of the probe it is attached to. */
  readonly probe: string;
  readonly trigger: InjectionTrigger;
  /** Probe hits seen while attached. */
  hits = 0;
  /** Times the handler ran (or, for NMIs, was delivered or queued). */
  fires = 0;
  /** Program runs skipped because the program was already running on that CPU. */
  misses = 0;
  /** Virtual times of the fires, in order. */
  readonly fireTimes: number[] = [];
  private readonly handler: InjectionHandler;
  private readonly rng: Rng | null;
  private readonly active: Uint8Array;
  private readonly m: Machine;
  private readonly probeId: number;
  private attached = true;

  /** @internal */
  constructor(
    m: Machine,
    kind: InjectionKind,
    probe: string,
    probeId: number,
    trigger: InjectionTrigger,
    handler: InjectionHandler,
    rng: Rng | null,
  ) {
    this.m = m;
    this.kind = kind;
    this.probe = probe;
    this.probeId = probeId;
    this.trigger = trigger;
    this.handler = handler;
    this.rng = rng;
    this.active = new Uint8Array(m.nrCpus);
  }

  /** Remove the injection from its probe. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.m.detachInjection(this.probeId, this);
  }

  /** @internal called from a probe hit on CPU `c` */
  hit(c: number): void {
    const n = ++this.hits;
    const trig = this.trigger as { nth?: number; rate?: number };
    let fire: boolean;
    if (trig.nth !== undefined) fire = n === trig.nth;
    else if (trig.rate !== undefined) fire = this.rng!.float() < trig.rate;
    else fire = true;
    if (!fire) return;
    const m = this.m;
    if (this.kind === 'nmi') {
      this.fires++;
      this.fireTimes.push(m.clock[c]!);
      // NMIs do not nest: one hit inside an NMI is taken after it returns.
      if (m.ctx.inNmi()) m.nmi.raise(c, this.handler);
      else m.nmi.run(c, this.handler);
      return;
    }
    // Like bpf_prog_active: a program does not re-enter itself on a CPU.
    if (this.active[c] === 1) {
      this.misses++;
      return;
    }
    this.fires++;
    this.fireTimes.push(m.clock[c]!);
    this.active[c] = 1;
    try {
      this.handler(m);
    } finally {
      this.active[c] = 0;
    }
  }
}
