import type { Plan } from '../shared/model/plan.ts';
import { prepareBundle, type PreparedBundle } from './bundle.ts';
import { prepareLoopBundle } from './loop-workload.ts';
import { preparePerfBundle } from './perf-workload.ts';

/** The bundle of the plan's workload (hello, loop or perf) in `bundleDir`: oci-direct runs it, ctr and docker make their image from it. */
export function prepareWorkloadBundle(plan: Pick<Plan, 'workload' | 'perf'>, bundleDir: string): PreparedBundle {
  switch (plan.workload) {
    case 'hello':
      return prepareBundle(bundleDir);
    case 'loop':
      return prepareLoopBundle(bundleDir);
    case 'perf':
      return preparePerfBundle(bundleDir, plan.perf);
  }
}
