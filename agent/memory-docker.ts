import type { BundleInfo } from '../shared/model/run-record.ts';
import { daemonContainerId, findDaemons, findShims, listingOutput } from './daemon-containers.ts';
import { runPrefix } from './oci-direct.ts';
import type { DaemonJsonEdit } from './daemon-json.ts';
import { prepareDocker } from './docker-method.ts';
import type { DriverSetup, MemoryDriver, MemoryRun } from './memory-method.ts';
import { spawnTimed } from './spawn-timed.ts';
import { NOT_THERE, failureText } from './command-output.ts';

// Memory plans through docker: `docker run -d --log-driver none --runtime X`, runtimes
// registered in daemon.json exactly as the docker method does (backup, reload, restore at
// the end — also after a failure or an abort). dockerd keeps its containers in containerd's
// "moby" namespace under their full IDs: counting starts from those shims and the
// containers' init pids (docker inspect). Docker always attaches a detached container's
// stdout and stderr: the shim copies loop's output into FIFOs that dockerd reads and,
// with the "none" log driver, throws away — that copying is part of docker's footprint.

export const DOCKER_MEMORY_OUTPUT =
  'docker run -d --log-driver none: the shim copies stdout and stderr to FIFOs that dockerd reads and discards; no log file';

/** dockerd's containerd namespace. */
const MOBY = 'moby';

export async function createDockerMemoryDriver(run: MemoryRun, bundle: BundleInfo, setup: DriverSetup): Promise<MemoryDriver | null> {
  const { plan, emit } = run;
  const held: { edit: DaemonJsonEdit | null } = { edit: null };
  const runArgs = ['run', '-d', '--log-driver', 'none'];
  let prepared: Awaited<ReturnType<typeof prepareDocker>>;
  try {
    prepared = await prepareDocker(run, bundle, { runArgs, timing: 'not timed (memory plan)' }, setup, held);
  } catch (err) {
    await held.edit?.restore();
    throw err;
  }
  if (!prepared) {
    await held.edit?.restore();
    return null;
  }
  const { docker, options, runtimes, image } = prepared;
  const timeoutMs = plan.timeoutMs;
  const { scratchDir } = setup;
  const removeOne = async (id: string) => {
    const removed = await spawnTimed([...docker, 'rm', '--force', id], { timeoutMs: Math.max(timeoutMs, 30_000), scratchDir });
    if (removed.exitCode !== 0 && !NOT_THERE.test(removed.stderr)) {
      emit({ type: 'log', level: 'warn', message: `cleanup of ${id} failed: ${failureText(removed, timeoutMs) ?? ''}` });
    }
  };

  return {
    output: DOCKER_MEMORY_OUTPUT,
    containerId: (runtime, index) => daemonContainerId(run.runId, runtime.name, index),
    async start(runtime, id) {
      const argv = [...docker, ...runArgs, '--runtime', runtimes.get(runtime.name)!.name, '--network', options.network, '--name', id, image.ref];
      const result = await spawnTimed(argv, { timeoutMs, scratchDir });
      const error = failureText(result, timeoutMs);
      return error === null ? null : `docker run -d ${id}: ${error}`;
    },
    async locate(_runtime, ids) {
      if (ids.length === 0) return { inits: new Set(), roots: new Set() };
      const listed = await listingOutput([...docker, 'inspect', '--format', '{{.Name}} {{.Id}} {{.State.Status}} {{.State.Pid}}', ...ids], timeoutMs);
      if (!listed.ok) return { error: listed.error, running: 0 };
      const states = new Map(listed.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 4).map((f) => [f[0]!.replace(/^\//, ''), { id: f[1]!, status: f[2]!, pid: Number(f[3]) }]));
      const inits = new Set<number>();
      const fullIds: string[] = [];
      for (const id of ids) {
        const state = states.get(id);
        if (!state || state.status !== 'running' || !(state.pid > 0)) {
          return { error: `container ${id} is ${state?.status ?? 'not listed'}, not running, after the settle time`, running: inits.size };
        }
        inits.add(state.pid);
        fullIds.push(state.id);
      }
      return { inits, roots: new Set([...inits, ...findShims(MOBY, fullIds, null)]) };
    },
    async remove(_runtime, ids) {
      for (const id of ids.splice(0)) await removeOne(id);
    },
    async sweep() {
      const prefix = runPrefix(run.runId);
      const listed = await listingOutput([...docker, 'ps', '--all', '--filter', `name=${prefix}`, '--format', '{{.Names}}'], timeoutMs);
      if (!listed.ok) {
        emit({ type: 'log', level: 'warn', message: `leftovers not checked: ${listed.error}` });
        return;
      }
      for (const name of listed.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(prefix))) {
        emit({ type: 'log', level: 'warn', message: `container ${name} of this run was left in dockerd; removing it` });
        await removeOne(name);
      }
    },
    daemons: () => findDaemons({ containerdAddress: null, dockerHost: options.host }),
    // Not given the abort signal: an aborted run must still give the user's file back.
    close: async () => held.edit?.restore(),
  };
}
