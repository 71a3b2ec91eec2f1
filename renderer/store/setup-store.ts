import { create } from 'zustand';
import type { LabEvent } from '../../shared/contract/ipc-contract.ts';
import type {
  DiagnosisView,
  DoctorReportView,
  RecipeInfo,
  SetupFailureView,
  SetupMethod,
  SetupParams,
  SetupPlanView,
  StepOutcome,
  VerifyCell,
  VerifyReport,
} from '../../shared/model/setup.ts';
import { asLabError, call } from '../lab-client.ts';

// The setup wizard's state: the host and recipes chosen, the doctor's report, the dry-run
// plan, the live run (per-step status, log, recognised failure, auto-fix) and the verified
// runtime × method matrix. The sudo password is never kept here: the page holds what the
// user typed until it goes out with setup:run, and main keeps it from then on.

export const WIZARD_STEPS = ['runtimes', 'checks', 'plan', 'run', 'verify'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

export type LogStream = 'command' | 'stdout' | 'stderr' | 'note';
export interface LogChunk {
  id: number;
  stream: LogStream;
  text: string;
}

export type RunStepStatus = 'pending' | 'running' | StepOutcome;

export interface RunStepState {
  key: string;
  recipeId: string;
  title: string;
  why: string;
  phase: 'step' | 'verify';
  status: RunStepStatus;
  detail: string;
  attempts: number;
  diagnosis: DiagnosisView | null;
  /** What the applied auto-fix did, or null. */
  autoFix: string | null;
  log: LogChunk[];
  logSize: number;
}

export interface RunState {
  hostId: string;
  setupId: string | null;
  status: 'starting' | 'running' | 'complete' | 'failed' | 'cancelled';
  planId: string | null;
  resumedFrom: string | null;
  recipes: string[];
  order: string[];
  steps: Record<string, RunStepState>;
  currentKey: string | null;
  failure: SetupFailureView | null;
  autoFixes: { signatureId: string; description: string }[];
  params: SetupParams | null;
  error: string | null;
  cancelling: boolean;
}

export interface VerifyState {
  hostId: string;
  runtimes: string[];
  verifyId: string | null;
  running: boolean;
  cells: Record<string, Partial<Record<SetupMethod, VerifyCell>>>;
  report: VerifyReport | null;
  error: string | null;
}

type Loadable<T> = { key: string; value: T | null; loading: boolean; error: string | null };

interface SetupState {
  hostId: string | null;
  step: WizardStep;
  recipes: RecipeInfo[] | null;
  recipesError: string | null;
  selected: string[];
  paramsText: string;
  checkDownloads: boolean;
  doctor: Loadable<DoctorReportView> | null;
  plan: Loadable<SetupPlanView> | null;
  run: RunState | null;
  verify: VerifyState | null;
  restore: { running: boolean; result: string[] | null; error: string | null } | null;

  loadRecipes(): Promise<void>;
  setHost(hostId: string | null): void;
  setStep(step: WizardStep): void;
  toggle(recipeId: string): void;
  setParamsText(text: string): void;
  setCheckDownloads(on: boolean): void;
  loadDoctor(force?: boolean): Promise<void>;
  loadPlan(force?: boolean): Promise<void>;
  startRun(sudoPassword?: string): Promise<void>;
  cancelRun(): Promise<void>;
  startVerify(sudoPassword?: string): Promise<void>;
  restoreConfigs(): Promise<void>;
  clearRestore(): void;
  applyEvent(event: LabEvent): void;
}

const LOG_LIMIT = 256 * 1024;
let chunkIds = 0;

/** `name=value` per line (as `runtime-lab setup --set`); list parameters take space-separated values. */
export function parseParams(text: string, recipes: readonly RecipeInfo[] | null): { params: SetupParams; errors: string[] } {
  const lists = new Set((recipes ?? []).flatMap((r) => r.params.filter((p) => Array.isArray(p.default)).map((p) => p.name)));
  const params: SetupParams = {};
  const errors: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const name = at > 0 ? line.slice(0, at).trim() : '';
    if (!/^[a-z][A-Za-z0-9]*$/.test(name)) {
      errors.push(`line ${i + 1}: write NAME=VALUE (a parameter name such as labDir)`);
      continue;
    }
    const value = line.slice(at + 1).trim();
    params[name] = lists.has(name) ? value.split(/\s+/).filter(Boolean) : value;
  }
  return { params, errors };
}

/** The chosen recipes plus everything they require, in catalogue order. */
export function withRequired(selected: readonly string[], recipes: readonly RecipeInfo[] | null): string[] {
  const byId = new Map((recipes ?? []).map((r) => [r.id, r]));
  const all = new Set<string>();
  const add = (id: string) => {
    if (all.has(id)) return;
    all.add(id);
    byId.get(id)?.requires.forEach(add);
  };
  selected.forEach(add);
  return (recipes ?? []).map((r) => r.id).filter((id) => all.has(id));
}

function planKey(hostId: string, selected: readonly string[], paramsText: string): string {
  return JSON.stringify([hostId, [...selected].sort(), paramsText.trim()]);
}

function appendLog(step: RunStepState, stream: LogStream, text: string): RunStepState {
  let log = [...step.log, { id: ++chunkIds, stream, text }];
  let size = step.logSize + text.length;
  while (size > LOG_LIMIT && log.length > 1) {
    size -= log[0]!.text.length;
    log = log.slice(1);
  }
  return { ...step, log, logSize: size };
}

function blankStep(key: string, title = key, why = ''): RunStepState {
  return { key, recipeId: key.split('/')[0] ?? '', title, why, phase: 'step', status: 'pending', detail: '', attempts: 0, diagnosis: null, autoFix: null, log: [], logSize: 0 };
}

export const useSetup = create<SetupState>()((set, get) => {
  const updateRun = (setupId: string, change: (run: RunState) => RunState) => {
    const run = get().run;
    if (!run || run.setupId !== setupId) return;
    set({ run: change(run) });
  };
  const updateStep = (setupId: string, key: string, change: (step: RunStepState) => RunStepState) =>
    updateRun(setupId, (run) => {
      const step = run.steps[key] ?? blankStep(key);
      return { ...run, order: run.order.includes(key) ? run.order : [...run.order, key], steps: { ...run.steps, [key]: change(step) } };
    });

  return {
    hostId: null,
    step: 'runtimes',
    recipes: null,
    recipesError: null,
    selected: [],
    paramsText: '',
    checkDownloads: false,
    doctor: null,
    plan: null,
    run: null,
    verify: null,
    restore: null,

    async loadRecipes() {
      try {
        set({ recipes: await call('setup:recipes', {}), recipesError: null });
      } catch (err) {
        set({ recipesError: asLabError(err).message });
      }
    },

    setHost(hostId) {
      if (hostId === get().hostId) return;
      set({ hostId, doctor: null, plan: null, verify: null, restore: null, step: get().step === 'run' || get().step === 'verify' ? 'runtimes' : get().step });
      if (hostId) void get().loadDoctor();
    },

    setStep(step) {
      set({ step });
      if (step === 'checks') void get().loadDoctor();
      if (step === 'plan') void get().loadPlan();
    },

    toggle(recipeId) {
      const selected = get().selected;
      set({ selected: selected.includes(recipeId) ? selected.filter((id) => id !== recipeId) : [...selected, recipeId] });
    },

    setParamsText(paramsText) {
      set({ paramsText });
    },

    setCheckDownloads(checkDownloads) {
      set({ checkDownloads });
    },

    async loadDoctor(force = false) {
      const { hostId, doctor, checkDownloads } = get();
      if (!hostId) return;
      const key = JSON.stringify([hostId, checkDownloads]);
      if (!force && doctor?.key === key && (doctor.loading || doctor.value)) return;
      set({ doctor: { key, value: force && doctor?.key === key ? doctor.value : null, loading: true, error: null } });
      try {
        const value = await call('setup:doctor', { hostId, ...(checkDownloads ? { checkDownloads: true } : {}) });
        if (get().doctor?.key === key) set({ doctor: { key, value, loading: false, error: null } });
      } catch (err) {
        if (get().doctor?.key === key) set({ doctor: { key, value: null, loading: false, error: asLabError(err).message } });
      }
    },

    async loadPlan(force = false) {
      const { hostId, selected, paramsText, plan, recipes } = get();
      if (!hostId || selected.length === 0) return;
      const key = planKey(hostId, selected, paramsText);
      if (!force && plan?.key === key && (plan.loading || plan.value)) return;
      const { params, errors } = parseParams(paramsText, recipes);
      if (errors.length > 0) {
        set({ plan: { key, value: null, loading: false, error: `Parameters: ${errors.join('; ')}` } });
        return;
      }
      set({ plan: { key, value: null, loading: true, error: null } });
      try {
        const value = await call('setup:plan', { hostId, recipes: selected, params });
        if (get().plan?.key === key) set({ plan: { key, value, loading: false, error: null } });
      } catch (err) {
        if (get().plan?.key === key) set({ plan: { key, value: null, loading: false, error: asLabError(err).message } });
      }
    },

    async startRun(sudoPassword) {
      const { hostId, selected, paramsText, plan, recipes } = get();
      if (!hostId || selected.length === 0) return;
      const { params } = parseParams(paramsText, recipes);
      const planned = plan?.value && plan.key === planKey(hostId, selected, paramsText) ? plan.value : null;
      const steps: Record<string, RunStepState> = {};
      for (const s of planned?.steps ?? []) {
        steps[s.key] = { ...blankStep(s.key, s.title, s.why), recipeId: s.recipeId, phase: s.phase, status: s.skip !== null ? 'skipped' : 'pending', detail: s.skip ?? '' };
      }
      set({
        step: 'run',
        verify: null,
        run: {
          hostId,
          setupId: null,
          status: 'starting',
          planId: planned?.planId ?? null,
          resumedFrom: null,
          recipes: planned?.recipes.map((r) => r.id) ?? withRequired(selected, recipes),
          order: planned?.steps.map((s) => s.key) ?? [],
          steps,
          currentKey: null,
          failure: null,
          autoFixes: [],
          params: null,
          error: null,
          cancelling: false,
        },
      });
      try {
        const { setupId } = await call('setup:run', { hostId, recipes: selected, params, ...(sudoPassword ? { sudoPassword } : {}) });
        const run = get().run;
        if (run && run.hostId === hostId && (run.setupId === null || run.setupId === setupId)) {
          set({ run: { ...run, setupId, status: run.status === 'starting' ? 'running' : run.status } });
        }
      } catch (err) {
        const run = get().run;
        if (run && run.setupId === null) set({ run: { ...run, status: 'failed', error: asLabError(err).message } });
      }
    },

    async cancelRun() {
      const run = get().run;
      if (!run?.setupId || (run.status !== 'running' && run.status !== 'starting')) return;
      set({ run: { ...run, cancelling: true } });
      try {
        await call('setup:cancel', { setupId: run.setupId });
      } catch (err) {
        updateRun(run.setupId, (r) => ({ ...r, cancelling: false, error: asLabError(err).message }));
      }
    },

    async startVerify(sudoPassword) {
      const { hostId, selected, recipes, run, paramsText } = get();
      if (!hostId) return;
      const runtimes = selected.filter((id) => recipes?.find((r) => r.id === id)?.kind === 'runtime');
      if (runtimes.length === 0) return;
      // The run's final parameters carry its auto-fixes (runsc --network=none…).
      const params = run && run.hostId === hostId && run.params ? run.params : parseParams(paramsText, recipes).params;
      set({ verify: { hostId, runtimes, verifyId: null, running: true, cells: {}, report: null, error: null } });
      try {
        const report = await call('setup:verify', { hostId, runtimes, params, ...(sudoPassword ? { sudoPassword } : {}) });
        const current = get().verify;
        if (current?.hostId !== hostId || !current.running) return;
        const cells = Object.fromEntries(report.rows.map((r) => [r.runtime, r.cells]));
        set({ verify: { ...current, verifyId: report.verifyId, running: false, cells, report } });
      } catch (err) {
        const current = get().verify;
        if (current?.hostId === hostId) set({ verify: { ...current, running: false, error: asLabError(err).message } });
      }
    },

    async restoreConfigs() {
      const { hostId, paramsText, recipes, run } = get();
      if (!hostId) return;
      const labDir = parseParams(paramsText, recipes).params.labDir ?? run?.params?.labDir;
      set({ restore: { running: true, result: null, error: null } });
      try {
        const { restored } = await call('setup:restore', { hostId, ...(typeof labDir === 'string' && labDir ? { labDir } : {}) });
        set({ restore: { running: false, result: restored, error: null }, plan: null });
      } catch (err) {
        set({ restore: { running: false, result: null, error: asLabError(err).message } });
      }
    },

    clearRestore() {
      set({ restore: null });
    },

    applyEvent(event) {
      switch (event.type) {
        case 'setup:started': {
          const run = get().run;
          // The reply to setup:run and the first event may arrive in either order.
          if (!run || run.hostId !== event.hostId || (run.setupId !== null && run.setupId !== event.setupId)) return;
          set({ run: { ...run, setupId: event.setupId, status: 'running', planId: event.planId, resumedFrom: event.resumedFrom, recipes: event.recipes } });
          return;
        }
        case 'setup:step-started':
          updateRun(event.setupId, (run) => ({ ...run, currentKey: event.key }));
          updateStep(event.setupId, event.key, (step) => {
            const again = step.attempts > 0;
            const base = { ...step, title: event.title, why: event.why, status: 'running' as const, attempts: step.attempts + 1, detail: '' };
            return again ? appendLog(base, 'note', `\n── attempt ${step.attempts + 1} ──\n`) : base;
          });
          return;
        case 'setup:output':
          updateStep(event.setupId, event.key, (step) => appendLog(step, event.stream, event.text));
          return;
        case 'setup:step-finished':
          updateStep(event.setupId, event.key, (step) => ({ ...step, status: event.outcome, detail: event.detail }));
          return;
        case 'setup:step-failed':
          updateStep(event.setupId, event.key, (step) => ({ ...step, diagnosis: event.diagnosis, status: step.status === 'running' ? 'running' : step.status }));
          return;
        case 'setup:auto-fix':
          updateStep(event.setupId, event.key, (step) => appendLog({ ...step, autoFix: event.description }, 'note', `>> applying the safe fix: ${event.description}\n`));
          return;
        case 'setup:finished': {
          const mine = get().run?.setupId === event.setupId;
          updateRun(event.setupId, (run) => ({
            ...run,
            status: event.status,
            failure: event.failure,
            autoFixes: event.autoFixes,
            params: event.params,
            error: event.error,
            cancelling: false,
            // A step still "running" was interrupted (a lost connection).
            steps: Object.fromEntries(Object.entries(run.steps).map(([k, s]) => [k, s.status === 'running' ? { ...s, status: event.status === 'cancelled' ? 'cancelled' : 'failed' } : s])),
          }));
          // What the run changed makes the plan's "already done" flags and the doctor's facts stale.
          if (mine && get().hostId === event.hostId) {
            set({ plan: null });
            void get().loadDoctor(true);
          }
          return;
        }
        case 'setup:verify-cell': {
          const verify = get().verify;
          if (!verify?.running || verify.hostId !== event.hostId || (verify.verifyId !== null && verify.verifyId !== event.verifyId)) return;
          set({
            verify: {
              ...verify,
              verifyId: event.verifyId,
              cells: { ...verify.cells, [event.runtime]: { ...verify.cells[event.runtime], [event.method]: event.cell } },
            },
          });
          return;
        }
        default:
          return;
      }
    },
  };
});
