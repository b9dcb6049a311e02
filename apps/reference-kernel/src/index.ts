export { buildProgram, runCli } from './cli.js';
export {
  BOOT_PARAMS,
  type BootOptions,
  BootParamError,
  bootParamsTable,
  formatCmdline,
  parseCmdline,
} from './cmdline.js';
export { compareScenario } from './commands/compare.js';
export { type GfpCommandResult, gfpCommand, renderGfp } from './commands/gfp.js';
export { type CliIo, UsageError } from './io.js';
export { type BootExtras, bootKernel, formatRcuStats, type Kernel } from './kernel.js';
export {
  COMPARE_SCHEMA,
  type CompareDocument,
  type ComparedMetric,
  RUN_SCHEMA,
  type RunDocument,
  type RunReport,
} from './report/result.js';
export { mergeCmdlines, resolveScenario, runScenario } from './runner.js';
export {
  defineScenario,
  type Metric,
  type ResultTable,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
  type Series,
} from './scenario.js';
export { SCENARIOS } from './scenarios/index.js';
