import { execFile } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_CONTAINERD_ADDRESS, DEFAULT_DOCKER_HOST } from '../shared/model/plan.ts';
import type { MemoryDaemon } from '../shared/model/run-record.ts';
import { flagValue, socketPath } from './daemon-sampler.ts';
import { containerId, containerPrefix } from './oci-direct.ts';
import { descendants, listProcesses, readArgv } from './process-tree.ts';

// What the ctr and docker memory drivers share: container IDs both daemons accept, the
// shims containerd started for given containers, the daemons serving a socket, and listing
// commands whose output may be long.

/** containerd IDs allow no doubled separators ("a..b"), as in the ctr method; docker names accept the same. */
export function daemonContainerId(runId: string, runtime: string, index: number): string {
  return containerId(runId, runtime, index).replace(/[._-]{2,}/g, '-');
}

/** What every daemonContainerId of one runtime in one run starts with. */
export function daemonContainerPrefix(runId: string, runtime: string): string {
  return `${containerPrefix(runId, runtime)}-`.replace(/[._-]{2,}/g, '-');
}

/**
 * The shims of `ids` in containerd namespace `namespace` (of the containerd at `address`,
 * when given), by their own arguments: shim v2 has -namespace, -id, -address; the legacy
 * v1 shim has no -id, its -workdir ends in NAMESPACE/ID. Other users' shims never match.
 */
export function findShims(namespace: string, ids: readonly string[], address: string | null): number[] {
  const wanted = new Set(ids);
  const found: number[] = [];
  for (const p of listProcesses()) {
    if (!p.comm.startsWith('containerd-shim')) continue;
    const argv = readArgv(p.pid);
    if (!path.basename(argv[0] ?? '').startsWith('containerd-shim')) continue;
    if (flagValue(argv, ['-namespace']) !== namespace) continue;
    const shimAddress = flagValue(argv, ['-address']);
    if (address !== null && shimAddress !== null && socketPath(shimAddress) !== socketPath(address)) continue;
    const id = flagValue(argv, ['-id']) ?? path.basename(flagValue(argv, ['-workdir']) ?? '');
    if (wanted.has(id)) found.push(p.pid);
  }
  return found;
}

/** Kills the shim of task `id` and everything under it; the pids it killed. */
export function killShim(address: string, namespace: string, id: string): number[] {
  const victims = [...descendants(listProcesses(), findShims(namespace, [id], address))];
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return victims;
}

/**
 * containerd serving `address`, and (for docker) dockerd serving `dockerHost` with the
 * containerd it names (--containerd, else its own child, else the default socket). A
 * daemon told its socket only in a config file is taken to serve the default one.
 */
export function findDaemons(scope: { containerdAddress: string | null; dockerHost: string | null }): Array<Pick<MemoryDaemon, 'process' | 'pid'>> {
  const all = listProcesses();
  const argvOf = new Map<number, string[]>();
  const argv = (pid: number) => {
    let found = argvOf.get(pid);
    if (!found) {
      found = readArgv(pid);
      argvOf.set(pid, found);
    }
    return found;
  };
  const dockerd = scope.dockerHost === null ? undefined : all.find((p) => p.comm === 'dockerd' &&
    socketPath(flagValue(argv(p.pid), ['-H', '--host']) ?? DEFAULT_DOCKER_HOST) === socketPath(scope.dockerHost!));
  const containerds = all.filter((p) => p.comm === 'containerd');
  let containerd: (typeof all)[number] | undefined;
  if (scope.containerdAddress !== null) {
    containerd = containerds.find((p) => socketPath(flagValue(argv(p.pid), ['--address', '-a']) ?? DEFAULT_CONTAINERD_ADDRESS) === socketPath(scope.containerdAddress!));
  } else if (dockerd) {
    const named = flagValue(argv(dockerd.pid), ['--containerd']);
    containerd = named !== null
      ? containerds.find((p) => socketPath(flagValue(argv(p.pid), ['--address', '-a']) ?? DEFAULT_CONTAINERD_ADDRESS) === socketPath(named))
      : (containerds.find((p) => p.ppid === dockerd.pid) ?? containerds.find((p) => flagValue(argv(p.pid), ['--address', '-a']) === null));
  }
  return [
    ...(containerd ? [{ process: 'containerd' as const, pid: containerd.pid }] : []),
    ...(dockerd ? [{ process: 'dockerd' as const, pid: dockerd.pid }] : []),
  ];
}

/** stdout of a listing command (`ctr task ls`, `docker inspect`), which may exceed spawnTimed's output cap. */
export function listingOutput(argv: readonly string[], timeoutMs: number): Promise<{ ok: true; stdout: string } | { ok: false; error: string }> {
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    execFile(command!, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) resolve({ ok: false, error: `${argv.join(' ')}: ${stderr.trim() || err.message}` });
      else resolve({ ok: true, stdout });
    });
  });
}
