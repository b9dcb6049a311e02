import { benchProject } from '../../vitest.bench.shared.js';

export default benchProject();
