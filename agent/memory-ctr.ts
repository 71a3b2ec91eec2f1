import type { RuntimeSpec } from '../shared/model/plan.ts';
import type { BundleInfo } from '../shared/model/run-record.ts';
import { prepareContainerd, removeCtrContainer, type CtrInvocation } from './ctr-method.ts';
import { daemonContainerId, daemonContainerPrefix, findDaemons, findShims, listingOutput } from './daemon-containers.ts';
import type { DriverSetup, MemoryDriver, MemoryRun } from './memory-method.ts';
import { spawnTimed } from './spawn-timed.ts';
import { failureText } from './command-output.ts';

// Memory plans through ctr: `ctr run -d --null-io` in Runtime Lab's namespace, the runtime
// chosen as the ctr method chooses it (shim v2 name, the runc shim with another binary, the
// legacy v1 runtime). With --null-io the shim gives the container /dev/null: nothing copies
// loop's output. Counting starts from the shims started for this step's containers (found
// by their -namespace/-id/-address) and the tasks' init pids; removal is the ctr method's
// (task kill and delete, container and snapshot removal, a stuck shim killed).

export const CTR_MEMORY_OUTPUT = 'ctr run -d --null-io: stdout and stderr are /dev/null, opened by the shim; nothing copies the output';

export async function createCtrMemoryDriver(run: MemoryRun, bundle: BundleInfo, setup: DriverSetup): Promise<MemoryDriver | null> {
  const { plan, emit } = run;
  const prepared = await prepareContainerd(run, bundle, { runArgs: ['run', '-d', '--null-io'], timing: 'not timed (memory plan)' }, setup);
  if (!prepared) return null;
  const { ctr, options, invocations, image } = prepared;
  const byName = new Map(invocations.map((i) => [i.runtime, i]));
  const invocationOf = (runtime: RuntimeSpec): CtrInvocation => byName.get(runtime.name)!;
  const timeoutMs = plan.timeoutMs;
  const { scratchDir } = setup;
  const remove = (invocation: CtrInvocation, id: string) =>
    removeCtrContainer({ ctr, ...options, invocation, id, timeoutMs, scratchDir, emit });

  return {
    output: CTR_MEMORY_OUTPUT,
    containerId: (runtime, index) => daemonContainerId(run.runId, runtime.name, index),
    async start(runtime, id) {
      const result = await spawnTimed([...ctr, 'run', '-d', '--null-io', ...invocationOf(runtime).flags, image.ref, id], { timeoutMs, scratchDir });
      const error = failureText(result, timeoutMs);
      return error === null ? null : `ctr run -d ${id}: ${error}`;
    },
    async locate(_runtime, ids) {
      const listed = await listingOutput([...ctr, 'task', 'ls'], timeoutMs);
      if (!listed.ok) return { error: listed.error, running: 0 };
      // TASK PID STATUS
      const tasks = new Map(listed.stdout.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 3).map((f) => [f[0]!, { pid: Number(f[1]), status: f[2]! }]));
      const inits = new Set<number>();
      for (const id of ids) {
        const task = tasks.get(id);
        if (!task || task.status !== 'RUNNING' || !(task.pid > 0)) {
          return { error: `container ${id} has ${task ? `a ${task.status} task` : 'no task'}, not a running one, after the settle time`, running: inits.size };
        }
        inits.add(task.pid);
      }
      return { inits, roots: new Set([...inits, ...findShims(options.namespace, ids, options.address)]) };
    },
    async remove(runtime, ids) {
      for (const id of ids.splice(0)) {
        // `task delete --force` kills and deletes a running task in one go; the ctr method's
        // cleanup (a kill, then delete --force at once) races runsc, whose delete then finds
        // "sandbox is not running" and leaves the shim to be killed. Then that cleanup runs.
        await spawnTimed([...ctr, 'task', 'delete', '--force', id], { timeoutMs, scratchDir });
        await remove(invocationOf(runtime), id);
      }
    },
    async sweep() {
      const listed = await listingOutput([...ctr, 'containers', 'ls', '--quiet'], timeoutMs);
      if (!listed.ok) {
        emit({ type: 'log', level: 'warn', message: `leftovers not checked: ${listed.error}` });
        return;
      }
      const ours = listed.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      for (const invocation of invocations) {
        const prefix = daemonContainerPrefix(run.runId, invocation.runtime);
        for (const id of ours.filter((c) => c.startsWith(prefix))) {
          ours.splice(ours.indexOf(id), 1);
          emit({ type: 'log', level: 'warn', message: `${invocation.runtime} left container ${id} in containerd; removing it` });
          await remove(invocation, id);
        }
      }
    },
    daemons: () => findDaemons({ containerdAddress: options.address, dockerHost: null }),
    close: () => Promise.resolve(),
  };
}
