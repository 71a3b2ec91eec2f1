import fs from 'node:fs';
import { LabError } from '../shared/lab-error.ts';
import { runtimePresets } from '../shared/bench/runtime-presets.ts';
import {
  CTR_RUNTIME_TYPE, DEFAULT_CONTAINERD_ADDRESS, DEFAULT_CONTAINERD_NAMESPACE, DEFAULT_CRI_ADDRESS, DEFAULT_DOCKER_HOST, DEFAULT_SNAPSHOTTER, shimBinary,
  type MeasurementMethod, type Plan, type RuntimeSpec,
} from '../shared/model/plan.ts';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import type { EnvironmentInfo } from '../shared/model/run-record.ts';
import { samplesToCsv, runSidecarJson } from '../shared/csv-export.ts';
import { summarizeSamples, type RuntimeSummary } from '../shared/stats.ts';
import { dataFiles, defaultDataDir } from '../services/app-paths.ts';
import { BenchRunner } from '../services/bench/bench-runner.ts';
import { inspectHost } from '../services/inspect/inspect-host.ts';
import { ResultsStore } from '../services/results/results-store.ts';
import type { ConnectionFlags } from './inspect-command.ts';
import { openCliHostLink } from './host-link.ts';
import { formatSummaryTable } from './summary-table.ts';

export interface BenchFlags extends ConnectionFlags {
  method: MeasurementMethod;
  /** Method ctr: the containerd snapshotter (recorded; the run fails if it is not usable). */
  snapshotter?: string;
  /**
   * Method docker: one name is the storage driver dockerd must be using (an expectation, not
   * a change); a comma-separated list (overlay2,vfs) is a storage-driver loop: the plan is
   * measured once per driver, dockerd switched to each and put back afterwards.
   */
  storageDriver?: string;
  containerdAddress?: string;
  /** Method cri: the CRI endpoint's socket. */
  criAddress?: string;
  dockerHost?: string;
  daemonJson?: string;
  runtime: string[];
  iterations: number;
  warmup: number;
  order: 'round-robin' | 'random';
  seed?: number;
  timeout: number;
  csv?: string;
  json?: string;
}

/**
 * `--runtime runc` takes the host's preset; `--runtime name=/path/to/binary` names any
 * binary; with method ctr, `--runtime kata=io.containerd.kata.v2` names a containerd shim.
 */
export function resolveRuntimes(requested: readonly string[], presets: readonly RuntimeSpec[], method: MeasurementMethod = 'oci-direct'): RuntimeSpec[] {
  return requested.map((entry) => {
    const [name, binary] = entry.split(/=(.*)/s) as [string, string | undefined];
    if (binary && CTR_RUNTIME_TYPE.test(binary)) {
      if (method !== 'ctr') throw new LabError('invalid-input', `--runtime ${entry}: a containerd runtime type only works with --method ctr.`);
      return { name, binary: shimBinary(binary), globalArgs: [], lifecycle: 'run' as const, ctr: { runtimeType: binary } };
    }
    if (binary) return { name, binary, globalArgs: [], lifecycle: 'run' as const };
    const preset = presets.find((p) => p.name === name);
    if (!preset) {
      const known = presets.map((p) => p.name).join(', ') || 'none';
      throw new LabError('not-found', `Unknown runtime "${name}" on this host (found: ${known}). Use NAME=/path/to/binary for another binary.`);
    }
    return preset;
  });
}

/** One line on what the numbers depend on: the daemon, its snapshotter or storage driver, cgroups, kernel. */
export function describeEnvironment(env: EnvironmentInfo): string {
  const version = (name: string) => env.components.find((c) => c.component === name)?.version ?? '?';
  const parts: string[] = [];
  if (env.containerd) parts.push(`containerd ${version('containerd')}`, `snapshotter ${env.containerd.snapshotter}`, `namespace ${env.containerd.namespace}`);
  if (env.cri) {
    parts.push(`CRI ${env.cri.runtimeName ?? '?'} ${env.cri.runtimeVersion ?? '?'}`, `sandbox image ${env.cri.sandboxImage ?? '?'}`, `pod network ${env.cri.network}`, `snapshotter ${env.cri.snapshotter ?? '?'}`);
  }
  if (env.docker) {
    const drivers = env.docker.storageDrivers;
    parts.push(`dockerd ${env.docker.serverVersion ?? '?'}`, drivers ? `storage drivers ${drivers.join(', ') || 'none usable'}` : `storage driver ${env.docker.storageDriver ?? '?'}`);
  }
  parts.push(`cgroup ${env.cgroup.mode}${env.cgroup.driver ? `/${env.cgroup.driver}` : ''}`, `kernel ${env.kernel ?? '?'}`);
  if (env.image) parts.push(`image ${env.image.configDigest.slice(0, 19)}`);
  return `environment: ${parts.join(', ')}`;
}

/**
 * The plan's daemon options, every default written out so that the stored plan says which
 * socket, namespace and snapshotter were used. Flags of the other method are refused.
 */
export function methodOptions(
  flags: Pick<BenchFlags, 'method' | 'snapshotter' | 'storageDriver' | 'containerdAddress' | 'dockerHost' | 'daemonJson'> & Pick<Partial<BenchFlags>, 'criAddress'>,
): Pick<Plan, 'containerd' | 'docker' | 'cri'> {
  const only = (flag: string, value: unknown, method: MeasurementMethod) => {
    if (value !== undefined && flags.method !== method) throw new LabError('invalid-input', `${flag} applies to --method ${method} only (this run is --method ${flags.method}).`);
  };
  only('--snapshotter', flags.snapshotter, 'ctr');
  only('--containerd-address', flags.containerdAddress, 'ctr');
  only('--cri-address', flags.criAddress, 'cri');
  only('--storage-driver', flags.storageDriver, 'docker');
  only('--docker-host', flags.dockerHost, 'docker');
  only('--daemon-json', flags.daemonJson, 'docker');
  if (flags.method === 'ctr') {
    return {
      containerd: {
        address: flags.containerdAddress ?? DEFAULT_CONTAINERD_ADDRESS,
        namespace: DEFAULT_CONTAINERD_NAMESPACE,
        snapshotter: flags.snapshotter ?? DEFAULT_SNAPSHOTTER,
      },
    };
  }
  if (flags.method === 'cri') return { cri: { address: flags.criAddress ?? DEFAULT_CRI_ADDRESS, network: 'host' } };
  if (flags.method === 'docker') {
    const host = flags.dockerHost ?? DEFAULT_DOCKER_HOST;
    const drivers = storageDriverList(flags.storageDriver);
    return {
      docker: {
        host: host.includes('://') ? host : `unix://${host}`,
        // Unset: the agent edits the file the dockerd serving this host really reads.
        ...(flags.daemonJson ? { daemonJson: flags.daemonJson } : {}),
        ...(drivers.length === 1 ? { storageDriver: drivers[0] } : drivers.length > 1 ? { storageDrivers: drivers } : {}),
      },
    };
  }
  return {};
}

/** What a command measuring through bench's flow (perf) changes: the workload, and the table printed at the end. */
export interface BenchVariant {
  plan: Pick<Plan, 'workload' | 'perf'>;
  table: (summaries: readonly RuntimeSummary[]) => string;
}

const STARTUP: BenchVariant = { plan: { workload: 'hello' }, table: formatSummaryTable };

/** `--storage-driver overlay2,vfs`: the names in order; a name twice is refused (the loop would measure it twice). */
export function storageDriverList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const drivers = value.split(',').map((d) => d.trim()).filter(Boolean);
  if (drivers.length === 0) throw new LabError('invalid-input', '--storage-driver needs a driver name, or a comma-separated list of them.');
  const twice = drivers.find((d, i) => drivers.indexOf(d) !== i);
  if (twice) throw new LabError('invalid-input', `--storage-driver names ${twice} twice.`);
  return drivers;
}

export async function benchCommand(
  targetText: string, flags: BenchFlags, out: (text: string) => void, err: (text: string) => void, variant: BenchVariant = STARTUP,
): Promise<number> {
  // Checked before connecting; a loop multiplies the iterations by its drivers.
  const drivers = Math.max(1, storageDriverList(flags.storageDriver).length);
  const { link, label, firstTransport } = await openCliHostLink(targetText, flags);

  const store = ResultsStore.open(dataFiles(defaultDataDir()).results);
  if (store.recovery) err(`runtime-lab: ${store.recovery.message}\n`);
  const counts = new Map<string, { done: number; failed: number }>();
  const total = (flags.iterations + flags.warmup) * flags.runtime.length * drivers;
  const onEvent = (event: LabEvent): void => {
    if (event.type === 'run:samples') {
      // Iterations, not their parts: step samples (CRI calls, perf kernels) are not counted.
      for (const s of event.samples.filter((x) => (x.step ?? null) === null)) {
        const c = counts.get(s.runtime) ?? { done: 0, failed: 0 };
        c.done += 1;
        if (!s.ok) c.failed += 1;
        counts.set(s.runtime, c);
      }
      const done = [...counts.values()].reduce((a, c) => a + c.done, 0);
      const perRuntime = [...counts.entries()].map(([r, c]) => `${r} ${c.done}${c.failed ? ` (${c.failed} failed)` : ''}`).join(', ');
      err(`\r[${done}/${total}] ${perRuntime}   `);
    } else if (event.type === 'run:phase' && event.message) {
      err(`\n${event.phase}: ${event.message}\n`);
    } else if (event.type === 'run:log' && event.level !== 'info') {
      err(`\n${event.level}: ${event.message}\n`);
    }
  };
  const runner = new BenchRunner({ store, emit: onEvent });
  try {
    const facts = await inspectHost(firstTransport);
    const plan: Plan = {
      method: flags.method,
      runtimes: resolveRuntimes(flags.runtime, runtimePresets(facts), flags.method),
      ...methodOptions(flags),
      ...variant.plan,
      iterations: flags.iterations,
      warmups: flags.warmup,
      order: flags.order,
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      timeoutMs: flags.timeout,
    };
    const runId = await runner.start(link, plan, facts);
    err(`run ${runId} on ${label}: ${plan.runtimes.map((r) => r.name).join(', ')}, ${plan.warmups} warm-ups + ${plan.iterations} iterations each, ${plan.order}\n`);
    const onSignal = (): void => {
      err('\naborting: the agent cleans up the current container…\n');
      void runner.abort(runId, link).catch((e: unknown) => err(`runtime-lab: ${LabError.from(e).message}\n`));
    };
    process.once('SIGINT', onSignal);
    const status = await runner.follow(runId, link);
    process.removeListener('SIGINT', onSignal);
    err('\n');
    const { meta, samples } = store.getRun(runId);
    const summaries = summarizeSamples(samples);
    out(variant.table(summaries));
    if (flags.csv) fs.writeFileSync(flags.csv, samplesToCsv(meta, samples));
    const environment = store.getEnvironment(runId);
    if (environment) err(`${describeEnvironment(environment)}\n`);
    if (flags.json) {
      const daemonUsage = store.getDaemonUsage(runId);
      fs.writeFileSync(flags.json, `${JSON.stringify({ run: JSON.parse(runSidecarJson(meta)), environment, summaries, samples, daemonUsage }, null, 2)}\n`);
    }
    if (status === 'detached') throw new LabError('connection-lost', `Lost the host; run ${runId} goes on there. Open it in the app to resume reading.`);
    if (status !== 'completed') throw new LabError('command-failed', `Run ${runId} ${status}${meta.statusMessage ? `: ${meta.statusMessage}` : ''}.`);
    // A runtime that failed throughout is reported; the run only fails when nothing worked.
    for (const s of summaries.filter((x) => x.n === 0 && x.failures > 0)) {
      const example = samples.find((x) => !x.ok && !x.warmup && x.runtime === s.runtime && (x.storageDriver ?? null) === s.storageDriver)?.error ?? '';
      err(`warning: every sample of ${s.runtime}${s.storageDriver ? ` on ${s.storageDriver}` : ''} failed: ${example.split('\n')[0]}\n`);
    }
    if (summaries.every((s) => s.n === 0)) throw new LabError('command-failed', `Run ${runId}: all samples failed.`);
    return 0;
  } finally {
    runner.dispose();
    await link.reset();
    store.close();
  }
}
