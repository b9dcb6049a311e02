import type { Scenario } from '../scenario.js';
import { callbackCacheMissesScenario } from './callback-cache-misses.js';
import { kfreeRcuScaleScenario } from './kfree-rcu-scale.js';
import { memoryPressureScenario } from './memory-pressure.js';
import { moduleUnloadScenario } from './module-unload.js';
import { nolockFuzzScenario } from './nolock-fuzz.js';
import { rawLockKfreeRcuScenario } from './raw-lock-kfree-rcu.js';

/** The built-in scenarios, in the order `list` prints them. */
export const SCENARIOS: readonly Scenario[] = [
  kfreeRcuScaleScenario,
  callbackCacheMissesScenario,
  rawLockKfreeRcuScenario,
  memoryPressureScenario,
  nolockFuzzScenario,
  moduleUnloadScenario,
];
