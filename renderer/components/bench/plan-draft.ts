import { create } from 'zustand';
import { CTR_RUNC_SHIM, CTR_RUNTIME_TYPE, Plan, type MeasurementMethod, type RuntimeSpec } from '../../../shared/model/plan.ts';
import type { BenchDraft } from '../../store/runs-store.ts';
import { hasOpenQuote, joinArgs, splitArgs } from './bench-format.ts';

// The Benchmarks form as a plan: every field checked where it is typed, then the whole
// plan through the same schema main validates with, so "Run" is only offered for a plan
// main will accept.

export type DraftErrors = Partial<Record<'runtimes' | 'iterations' | 'warmups' | 'timeout' | 'seed' | 'plan' | 'containerd' | 'docker' | 'daemonSample' | 'cri' | 'memory' | 'perf', string>> & {
  flags?: Record<string, string>;
  /** Runtime name → what is wrong with its per-method choice (ctr runtime type, docker runtime name, CRI handler). */
  methodRuntime?: Record<string, string>;
};

/**
 * How the runtimes are reached, as typed: the method and its options. Text fields left
 * empty mean the documented default (shown as placeholders), so a plan only carries what
 * the user chose. Kept beside BenchDraft (same lifetime: the app session).
 */
/** What a plan measures: container startup (every method), memory footprint, or work inside the container. */
export const MEASUREMENTS = ['startup', 'memory', 'perf'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

/** Docker storage drivers offered for a storage-driver loop (dockerd refuses those the host cannot use). */
export const STORAGE_DRIVERS = ['overlay2', 'fuse-overlayfs', 'vfs', 'btrfs', 'zfs', 'devicemapper'] as const;

export interface MethodDraft {
  method: MeasurementMethod;
  measurement: Measurement;
  containerdAddress: string;
  containerdNamespace: string;
  snapshotter: string;
  dockerHost: string;
  /** The storage driver the comparison expects dockerd to use ('' = no expectation). */
  storageDriver: string;
  /** Daemon CPU/RSS sampling interval in ms, as typed ('' = default, 0 = off). */
  daemonSampleMs: string;
  /** Runtime name → `ctr run --runtime` type as typed ('' = the runc shim with this binary). */
  ctrRuntimeType: Record<string, string>;
  /** Runtime name → docker runtime name as typed ('' = registered under the runtime's own name). */
  dockerRuntime: Record<string, string>;
  /** Storage drivers picked for a loop, in the order picked (empty: no loop, dockerd's own driver). */
  storageDrivers: string[];
  /** The CRI socket as typed ('' = containerd's). */
  criAddress: string;
  /** Runtime name → CRI runtime handler as typed ('' = the runtime's name). */
  criHandler: Record<string, string>;
  /** Memory plan: containers per step as typed ("1, 5, 10"), and the settle time in ms ('' = default). */
  memoryContainers: string;
  memorySettleMs: string;
  /** Perf plan: each kernel's amount of work as typed ('' = default). */
  perfCpuLoops: string;
  perfSyscalls: string;
  perfIoMiB: string;
}

export const DEFAULT_METHOD_DRAFT: MethodDraft = {
  method: 'oci-direct',
  containerdAddress: '',
  containerdNamespace: '',
  snapshotter: '',
  dockerHost: '',
  storageDriver: '',
  daemonSampleMs: '',
  ctrRuntimeType: {},
  dockerRuntime: {},
  measurement: 'startup',
  storageDrivers: [],
  criAddress: '',
  criHandler: {},
  memoryContainers: '1, 5, 10',
  memorySettleMs: '',
  perfCpuLoops: '',
  perfSyscalls: '',
  perfIoMiB: '',
};

export const useMethodDraft = create<{ draft: MethodDraft; set(patch: Partial<MethodDraft>): void }>()((set) => ({
  draft: DEFAULT_METHOD_DRAFT,
  set: (patch) => set((s) => ({ draft: { ...s.draft, ...patch } })),
}));

export const METHOD_LABELS: Record<MeasurementMethod, { label: string; hint: string }> = {
  'oci-direct': { label: 'OCI direct', hint: 'Each runtime binary runs the same OCI bundle itself, as in `time runc run`: no daemon in the path.' },
  ctr: { label: 'ctr', hint: 'containerd starts each container (`ctr run --rm`) through a shim: the daemon and the shim are part of what is measured.' },
  docker: { label: 'docker', hint: 'dockerd starts each container (`docker run --rm`) on top of containerd: the whole Docker path is measured.' },
  cri: { label: 'CRI', hint: 'The kubelet\'s path: each pod lifecycle call (RunPodSandbox … RemovePodSandbox) against the CRI socket, each step timed.' },
};

export function isPicked(draft: BenchDraft, name: string): boolean {
  return draft.picked[name] ?? true;
}

export function flagsText(draft: BenchDraft, preset: RuntimeSpec): string {
  return draft.flags[preset.name] ?? joinArgs(preset.globalArgs);
}

function intIn(text: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

const RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The runtime as the chosen method selects it: ctr's runtime type, docker's runtime name, CRI's handler. */
function withMethodOptions(spec: RuntimeSpec, method: MethodDraft, errors: DraftErrors): RuntimeSpec {
  if (method.method === 'ctr') {
    const type = (method.ctrRuntimeType[spec.name] ?? '').trim();
    if (type === '' || type === CTR_RUNC_SHIM) return spec;
    if (!CTR_RUNTIME_TYPE.test(type)) {
      errors.methodRuntime = { ...errors.methodRuntime, [spec.name]: 'A containerd runtime type: io.containerd.<name>.v<N>.' };
      return spec;
    }
    return { ...spec, ctr: { runtimeType: type } };
  }
  if (method.method === 'docker') {
    const name = (method.dockerRuntime[spec.name] ?? '').trim();
    if (name === '') return spec;
    if (!RUNTIME_NAME.test(name)) {
      errors.methodRuntime = { ...errors.methodRuntime, [spec.name]: 'Letters, digits, dot, dash or underscore.' };
      return spec;
    }
    return { ...spec, docker: { runtime: name } };
  }
  if (method.method === 'cri') {
    const handler = (method.criHandler[spec.name] ?? '').trim();
    if (handler === '') return spec;
    if (!RUNTIME_NAME.test(handler)) {
      errors.methodRuntime = { ...errors.methodRuntime, [spec.name]: 'A handler the CRI endpoint names: letters, digits, dot, dash or underscore.' };
      return spec;
    }
    return { ...spec, cri: { handler } };
  }
  return spec;
}

/** The plan-level options of the chosen method, only what was typed. */
function methodOptions(method: MethodDraft, errors: DraftErrors): Partial<Plan> {
  const out: Partial<Plan> = {};
  if (method.method === 'oci-direct') return out;
  const sample = method.daemonSampleMs.trim();
  if (sample !== '') {
    const n = intIn(sample, 0, 60_000);
    if (n === null || (n !== 0 && n < 50)) errors.daemonSample = 'Milliseconds from 50 to 60,000, or 0 for none.';
    else out.daemonSampleMs = n;
  }
  if (method.method === 'cri') {
    const address = method.criAddress.trim();
    if (address) out.cri = { address };
  } else if (method.method === 'ctr') {
    const address = method.containerdAddress.trim();
    const namespace = method.containerdNamespace.trim();
    const snapshotter = method.snapshotter.trim();
    out.containerd = {
      ...(address ? { address } : {}),
      ...(namespace ? { namespace } : {}),
      ...(snapshotter ? { snapshotter } : {}),
    };
  } else {
    const host = method.dockerHost.trim();
    const storageDriver = method.storageDriver.trim();
    const loop = method.storageDrivers;
    out.docker = { ...(host ? { host } : {}), ...(storageDriver && loop.length === 0 ? { storageDriver } : {}), ...(loop.length > 0 ? { storageDrivers: [...loop] } : {}) };
  }
  return out;
}

/** The memory or perf part of the plan, and the workload that goes with it. */
function measurementOptions(method: MethodDraft, errors: DraftErrors): Partial<Plan> & { workload: Plan['workload'] } {
  if (method.measurement === 'memory') {
    const parts = method.memoryContainers.split(/[\s,]+/).filter(Boolean);
    const containers = parts.map((p) => intIn(p, 1, 1_000));
    if (parts.length === 0 || parts.length > 32 || containers.some((n) => n === null)) {
      errors.memory = 'Up to 32 numbers of containers from 1 to 1,000, separated by commas.';
      return { workload: 'loop' };
    }
    const settle = method.memorySettleMs.trim();
    const settleMs = settle === '' ? undefined : intIn(settle, 0, 600_000);
    if (settleMs === null) errors.memory = 'Settle time: milliseconds from 0 to 600,000.';
    return { workload: 'loop', memory: { containers: containers as number[], ...(settleMs == null ? {} : { settleMs }) } };
  }
  if (method.measurement === 'perf') {
    const field = (text: string, min: number, max: number, what: string): number | undefined => {
      if (text.trim() === '') return undefined;
      const n = intIn(text, min, max);
      if (n === null) errors.perf = `${what}: a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}.`;
      return n ?? undefined;
    };
    const cpuLoops = field(method.perfCpuLoops, 1, 1e12, 'CPU loop iterations');
    const syscalls = field(method.perfSyscalls, 1, 1e10, 'getpid calls');
    const ioMiB = field(method.perfIoMiB, 1, 64 * 1024, 'MiB written');
    return {
      workload: 'perf',
      perf: { ...(cpuLoops === undefined ? {} : { cpuLoops }), ...(syscalls === undefined ? {} : { syscalls }), ...(ioMiB === undefined ? {} : { ioBytes: ioMiB * 1024 * 1024 }) },
    };
  }
  return { workload: 'hello' };
}

export function buildPlan(
  draft: BenchDraft,
  presets: readonly RuntimeSpec[],
  method: MethodDraft = DEFAULT_METHOD_DRAFT,
): { plan: Plan | null; errors: DraftErrors } {
  const errors: DraftErrors = {};
  const runtimes: RuntimeSpec[] = [];
  for (const preset of presets) {
    if (!isPicked(draft, preset.name)) continue;
    const text = flagsText(draft, preset);
    if (hasOpenQuote(text)) {
      errors.flags = { ...errors.flags, [preset.name]: 'A quote is not closed.' };
      continue;
    }
    runtimes.push(withMethodOptions({ ...preset, globalArgs: splitArgs(text) }, method, errors));
  }
  if (runtimes.length === 0) errors.runtimes = 'Pick at least one runtime.';

  // A memory plan measures steps, not iterations: one pass, no warm-up (the schema's own words).
  const memory = method.measurement === 'memory';
  const iterations = memory ? 1 : intIn(draft.iterations, 1, 100_000);
  if (iterations === null) errors.iterations = 'A whole number from 1 to 100,000.';
  const warmups = memory ? 0 : intIn(draft.warmups, 0, 1_000);
  if (warmups === null) errors.warmups = 'A whole number from 0 to 1,000.';
  const timeoutSec = Number(draft.timeoutSec);
  const timeoutMs = Math.round(timeoutSec * 1000);
  const timeoutOk = draft.timeoutSec.trim() !== '' && Number.isFinite(timeoutSec) && timeoutMs >= 100 && timeoutMs <= 600_000;
  if (!timeoutOk) errors.timeout = 'From 0.1 to 600 seconds.';
  let seed: number | undefined;
  if (draft.order === 'random' && draft.seed.trim() !== '') {
    const parsed = intIn(draft.seed, 0, 2 ** 31 - 1);
    if (parsed === null) errors.seed = 'A whole number from 0 to 2147483647, or empty for a fresh one.';
    else seed = parsed;
  }
  const options = methodOptions(method, errors);
  const measured = measurementOptions(method, errors);
  if (measured.workload !== 'hello' && method.method === 'cri') errors.plan = 'Memory and perf plans run through OCI direct, ctr or docker, not CRI.';
  if (Object.keys(errors).length > 0 || iterations === null || warmups === null) return { plan: null, errors };

  const result = Plan.safeParse({
    method: method.method,
    ...options,
    ...measured,
    runtimes,
    iterations,
    warmups,
    order: draft.order,
    ...(seed === undefined ? {} : { seed }),
    timeoutMs,
  });
  if (!result.success) {
    // Method options are checked by the schema itself: say which field, where it is typed.
    const byField: DraftErrors = {};
    const rest: string[] = [];
    for (const issue of result.error.issues) {
      const [first, second] = issue.path;
      const field = first === 'containerd' || first === 'docker' || first === 'cri' || first === 'memory' || first === 'perf' ? first : first === 'daemonSampleMs' ? 'daemonSample' : null;
      const message = second === undefined ? issue.message : `${String(second)}: ${issue.message}`;
      if (field) byField[field] = byField[field] ? `${byField[field]}; ${message}` : message;
      else rest.push(issue.message);
    }
    return { plan: null, errors: { ...byField, ...(rest.length > 0 ? { plan: rest.join('; ') } : {}) } };
  }
  return { plan: result.data, errors };
}
