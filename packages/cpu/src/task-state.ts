/**
 * Task states and priorities (include/linux/sched.h, include/linux/sched/prio.h).
 */

/** Runnable or running (`TASK_RUNNING`). @public */
export const TASK_RUNNING = 0x0000;
/** Sleeping, wakeable by signals in the kernel (`TASK_INTERRUPTIBLE`). @public */
export const TASK_INTERRUPTIBLE = 0x0001;
/** Sleeping until explicitly woken (`TASK_UNINTERRUPTIBLE`). @public */
export const TASK_UNINTERRUPTIBLE = 0x0002;
/** Exited (`TASK_DEAD`). @public */
export const TASK_DEAD = 0x0080;

/** Priorities below this are real-time (SCHED_FIFO 99-1 map to 0-98); normal tasks use 100-139 (`MAX_RT_PRIO`). @public */
export const MAX_RT_PRIO = 100;
/** Priority of a nice-0 task (`DEFAULT_PRIO`). @public */
export const DEFAULT_PRIO = 120;
/** Longest command name, as `TASK_COMM_LEN - 1`. @public */
export const TASK_COMM_MAX = 15;
