/**
 * The simulated machine every subsystem runs on: CPUs and their contexts,
 * virtual time and events, tasks and scheduling, interrupts, timers,
 * workqueues, per-CPU data, memory words and the cache model, probes and
 * injection, the kernel log and the trace.
 *
 * @packageDocumentation
 */
export * from './call-chain.js';
export * from './clock.js';
export * from './config.js';
export * from './context.js';
export * from './costs.js';
export * from './errors.js';
export * from './event-queue.js';
export * from './hardirq.js';
export * from './hrtimer.js';
export * from './injector.js';
export * from './irq-work.js';
export * from './machine.js';
export * from './memory/index.js';
export * from './might-sleep.js';
export * from './nmi.js';
export * from './percpu.js';
export * from './preempt-count.js';
export * from './printk.js';
export * from './prng.js';
export * from './probes.js';
export * from './report.js';
export * from './runqueue.js';
export * from './scheduler.js';
export * from './smp.js';
export * from './softirq.js';
export * from './taint.js';
export * from './task.js';
export * from './task-state.js';
export * from './tick.js';
export * from './timer.js';
export * from './trace.js';
export * from './wait.js';
export * from './workqueue.js';
