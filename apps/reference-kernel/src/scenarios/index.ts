import type { Scenario } from '../scenario.js';
import { rawLockKfreeRcuScenario } from './raw-lock-kfree-rcu.js';

/** The built-in scenarios, in the order `list` prints them. */
export const SCENARIOS: readonly Scenario[] = [rawLockKfreeRcuScenario];
