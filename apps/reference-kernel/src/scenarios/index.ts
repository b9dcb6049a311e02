import type { Scenario } from '../scenario.js';

/** The built-in scenarios, in the order `list` prints them. */
export const SCENARIOS: readonly Scenario[] = [];
