/**
 * The one place that maps an executor name to its module, and the rules that pick an executor from the
 * flags given: `--executor` when given, else `--stages` means ramp, `--writers` closed, anything else
 * constant. A flag that belongs to another executor is refused, whichever way round it was given.
 */
import { ConfigError } from '../../../core/event-store.ts';
import type { ExecutorName } from '../scenario.ts';
import { closedExecutor } from './closed.ts';
import { constantExecutor } from './constant.ts';
import { FLAG_NAMES, type ExecutorFlag, type ExecutorFlags, type ExecutorModule, type ExecutorOptions } from './executor-module.ts';
import { maxExecutor } from './max.ts';
import { rampExecutor } from './ramp.ts';

export const executors = {
  constant: constantExecutor,
  ramp: rampExecutor,
  closed: closedExecutor,
  max: maxExecutor,
} satisfies Record<ExecutorName, ExecutorModule>;

export type { ExecutorFlags, ExecutorModule };

function owners(flag: ExecutorFlag): string {
  return Object.values(executors)
    .filter((e) => (e.flags as readonly string[]).includes(flag))
    .map((e) => e.name)
    .join(' or ');
}

/** The executor the flags ask for, its scenario fields and notices; ConfigError on any conflict. */
export function executorFromFlags(
  explicit: string | undefined,
  flags: ExecutorFlags,
  defaults: { rate: string; durationMs: number },
): { executor: ExecutorName } & ExecutorOptions {
  if (explicit !== undefined && !Object.hasOwn(executors, explicit)) {
    throw new ConfigError(`--executor ${JSON.stringify(explicit)}: use one of ${Object.keys(executors).join(', ')}`);
  }
  const given = (Object.keys(FLAG_NAMES) as ExecutorFlag[]).filter((f) => flags[f] !== undefined);
  let name: ExecutorName;
  let because: string;
  if (explicit !== undefined) {
    name = explicit as ExecutorName;
    because = `--executor ${name}`;
  } else if (flags.stages !== undefined) {
    name = 'ramp';
    because = '--stages (a ramp)';
  } else if (flags.writers !== undefined) {
    name = 'closed';
    because = '--writers (a closed loop)';
  } else {
    name = 'constant';
    because = flags.rate !== undefined ? '--rate (a constant rate)' : '--executor constant (the default)';
  }
  const module: ExecutorModule = executors[name];
  for (const f of given) {
    if (!(module.flags as readonly string[]).includes(f)) {
      throw new ConfigError(`${FLAG_NAMES[f]} cannot be combined with ${because}: ${FLAG_NAMES[f]} belongs to --executor ${owners(f)}; drop one of them`);
    }
  }
  return { executor: name, ...module.fromFlags(flags, defaults) };
}
