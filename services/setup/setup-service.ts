import { randomUUID } from 'node:crypto';
import { downloadHosts } from '../../knowledge/checks.ts';
import { RECIPES } from '../../knowledge/recipes/index.ts';
import type { LabEvent } from '../../shared/contract/ipc-contract.ts';
import { LabError } from '../../shared/lab-error.ts';
import type {
  DiagnosisView,
  DoctorReportView,
  PlannedStepView,
  RecipeInfo,
  SetupParams,
  SetupPlanView,
  SetupRunEvent,
  VerifyReport,
} from '../../shared/model/setup.ts';
import type { Transport } from '../transport/transport.ts';
import type { Diagnosis } from './diagnose.ts';
import { buildReport } from './doctor.ts';
import { applyEdit } from './edits.ts';
import { ABSENT_EXIT } from './file-ops.ts';
import { formatPlan } from './format-plan.ts';
import { probeHost, type HostContext } from './host-context.ts';
import { readJournal } from './journal.ts';
import { restoreConfigs } from './maintenance.ts';
import { planSetup, type PlannedCommand, type PlannedStep, type SetupPlan } from './plan.ts';
import { choosePrivilege } from './privilege.ts';
import { runSetup, type SetupEvent, type SetupResult } from './run-setup.ts';
import type { ParamValue } from './template.ts';
import { verifyRuntimes } from './verify.ts';
import type { AgentBundle } from '../agent/agent-bundle.ts';

// The app side of the setup wizard: the doctor, the dry run as data, a setup run with live
// progress as LabEvents, cancel, verify and restore, for hosts saved in HostService.
//
// One setup (or verification, or restore) at a time per host. The sudo password, when the
// login user needs one, arrives with setup:run, is tried once with `sudo -S -k true`, and
// then lives only in this object's memory for the session: it is written to sudo's standard
// input by the engine and never put in an argv, a journal, an event or an error. Every
// string that leaves this service is also scrubbed of it, in case a command echoes it.

export interface SetupHosts {
  /** The live connection, opening it when needed (HostService.transport). */
  transport(hostId: string): Promise<Transport>;
  get(hostId: string): { name: string };
}

export interface SetupServiceOptions {
  hosts: SetupHosts;
  emit: (event: LabEvent) => void;
  /** Output chunks are gathered for this long before they are sent (fewer, larger events). */
  outputFlushMs?: number;
  /** How long a probed host context is reused by plan/run before the host is probed again. */
  contextMaxAgeMs?: number;
  /** The agent the verify step's CRI probe uploads (agent-bundle.ts: prebuilt in the packaged app); default built from source. */
  loadAgentBundle?: () => Promise<AgentBundle>;
}

export interface RunInput {
  hostId: string;
  recipes: string[];
  params?: SetupParams;
  sudoPassword?: string;
  autoFix?: boolean;
  fresh?: boolean;
}

interface HostState {
  context: HostContext | null;
  contextAt: number;
  transport: Transport | null;
  sudoPassword: string | null;
  /** Parameters of the last plan or run (auto-fixes included): verify and restore use them. */
  lastParams: Record<string, ParamValue> | null;
  /** What is going on on the host right now, or null. */
  busy: { kind: 'setup' | 'verify' | 'restore'; setupId?: string; controller?: AbortController; done?: Promise<void> } | null;
}

const PROBE_TIMEOUT_MS = 20_000;
const OUTPUT_FAILURE_TAIL = 4_000;
const REDACTED = '[redacted]';

export class SetupService {
  readonly #hosts: SetupHosts;
  readonly #emitRaw: (event: LabEvent) => void;
  readonly #flushMs: number;
  readonly #contextMaxAgeMs: number;
  readonly #state = new Map<string, HostState>();
  readonly #setups = new Map<string, string>();
  readonly #loadAgentBundle: (() => Promise<AgentBundle>) | undefined;

  constructor(options: SetupServiceOptions) {
    this.#hosts = options.hosts;
    this.#emitRaw = options.emit;
    this.#flushMs = options.outputFlushMs ?? 40;
    this.#contextMaxAgeMs = options.contextMaxAgeMs ?? 5 * 60_000;
    this.#loadAgentBundle = options.loadAgentBundle;
  }

  recipes(): RecipeInfo[] {
    return RECIPES.map((r) => ({
      id: r.id,
      title: r.title,
      version: r.version,
      kind: r.kind,
      tool: r.tool ?? null,
      requires: [...r.requires],
      after: [...r.after],
      prerequisites: r.prerequisites.map((p) => ({ id: p.id, required: p.required })),
      methods: r.methods.map((m) => ({ method: m.method, tools: [...m.tools], recipes: [...m.recipes], note: m.note ?? null, unsupported: m.unsupported ?? null })),
      params: r.params.map((p) => ({ name: p.name, description: p.description, default: p.default })),
      appliesTo: r.appliesTo.map((a) => `${a.distro} ${a.versions.join('/')}`),
      ran: r.status.ran,
      notRunWhy: r.status.ran ? null : r.status.why,
    }));
  }

  async doctor(hostId: string, options: { checkDownloads?: boolean } = {}): Promise<DoctorReportView> {
    return this.#scrubbing(async () => {
      const transport = await this.#hosts.transport(hostId);
      const context = await this.#probe(hostId, transport, options.checkDownloads ? [...new Set(RECIPES.flatMap((r) => downloadHosts(r)))] : []);
      const report = buildReport(transport.label, context);
      return {
        ...report,
        access: { user: context.facts.user.name, mode: context.privilege.mode },
        collectedAt: context.facts.collectedAt,
      };
    });
  }

  async plan(hostId: string, recipes: string[], params: SetupParams = {}): Promise<SetupPlanView> {
    return this.#scrubbing(async () => {
      const transport = await this.#hosts.transport(hostId);
      const context = await this.#context(hostId, transport);
      // Without a way to root yet, the commands are shown as they will run once the sudo
      // password is given (the password goes to sudo's stdin, so the lines are the same).
      const needsSudoPassword = context.privilege.mode === 'none';
      const shown: HostContext = needsSudoPassword ? { ...context, privilege: { mode: 'sudo-password', password: '' } } : context;
      const first = planSetup(shown, { recipes, params });
      // What an earlier run's auto-fixes changed is kept in the journal and used again.
      const fixes = (await readJournal(transport, first.labDir, first.id))?.fixes ?? {};
      const plan = Object.keys(fixes).length > 0 ? planSetup(shown, { recipes, params: { ...params, ...fixes } }) : first;
      this.#state_(hostId).lastParams = plan.params;
      const done = needsSudoPassword ? new Map<string, boolean | null>() : await alreadyDone(transport, plan);
      return {
        planId: plan.id,
        host: transport.label,
        recipes: plan.recipes.map((r) => ({ id: r.id, title: r.title, version: r.version })),
        params: plan.params,
        paramNotes: plan.paramNotes,
        fixes,
        steps: plan.steps.map((s) => stepView(s, done.get(s.key) ?? null)),
        needsSudoPassword,
        text: formatPlan(plan, transport.label),
      };
    });
  }

  async run(input: RunInput): Promise<{ setupId: string }> {
    const state = this.#state_(input.hostId);
    this.#claim(input.hostId, state, 'setup');
    let transport: Transport;
    let context: HostContext;
    let recipeIds: string[];
    try {
      transport = await this.#hosts.transport(input.hostId);
      context = await this.#withSudo(state, transport, await this.#context(input.hostId, transport), input.sudoPassword);
      // Refuses here, before anything runs: unknown recipes or parameters, no way to root.
      recipeIds = planSetup(context, { recipes: input.recipes, params: input.params ?? {} }).recipes.map((r) => r.id);
    } catch (err) {
      state.busy = null;
      throw this.#scrub(LabError.from(err));
    }

    const setupId = `setup-${randomUUID()}`;
    const controller = new AbortController();
    const out = new EventSink((event) => this.#emit(event), this.#flushMs, recipeIds);
    this.#setups.set(setupId, input.hostId);
    const finished = (result: Pick<SetupResult, 'status' | 'autoFixes' | 'params'> & { failure: SetupResult['failure'] }, error: string | null) => {
      out.emit({
        type: 'setup:finished',
        setupId,
        hostId: input.hostId,
        status: result.status,
        failure: result.failure
          ? {
            key: result.failure.key,
            title: result.failure.title,
            message: result.failure.message,
            output: result.failure.output.slice(-OUTPUT_FAILURE_TAIL),
            diagnosis: diagnosisView(result.failure.diagnosis),
          }
          : null,
        autoFixes: result.autoFixes,
        params: result.params,
        error,
      });
      out.close();
    };
    const done = runSetup(transport, context, { recipes: input.recipes, params: input.params ?? {} }, {
      onEvent: (event) => out.setup(setupId, input.hostId, event),
      signal: controller.signal,
      ...(input.autoFix !== undefined ? { autoFix: input.autoFix } : {}),
      ...(input.fresh ? { fresh: true } : {}),
    }).then(
      (result) => {
        state.lastParams = result.params;
        finished(result, null);
      },
      (err: unknown) => {
        const error = LabError.from(err);
        finished({ status: controller.signal.aborted ? 'cancelled' : 'failed', failure: null, autoFixes: [], params: input.params ?? {} }, error.message);
      },
    ).finally(() => {
      this.#setups.delete(setupId);
      // What the setup installed makes the last probe stale: the next plan or doctor looks again.
      state.context = null;
      if (state.busy?.setupId === setupId) state.busy = null;
    });
    state.busy = { kind: 'setup', setupId, controller, done };
    return { setupId };
  }

  cancel(setupId: string): { ok: boolean } {
    const hostId = this.#setups.get(setupId);
    const busy = hostId ? this.#state.get(hostId)?.busy : undefined;
    if (!busy?.controller || busy.setupId !== setupId) return { ok: false };
    busy.controller.abort();
    return { ok: true };
  }

  async verify(hostId: string, runtimes: string[], params?: SetupParams, sudoPassword?: string): Promise<VerifyReport> {
    const state = this.#state_(hostId);
    this.#claim(hostId, state, 'verify');
    try {
      const transport = await this.#hosts.transport(hostId);
      // Fresh facts: a setup that just ran may have installed what the last probe did not see.
      const context = await this.#withSudo(state, transport, await this.#probe(hostId, transport, []), sudoPassword);
      const verifyId = `verify-${randomUUID()}`;
      const rows = await verifyRuntimes(transport, context, {
        runtimes,
        params: params ?? state.lastParams ?? {},
        onCell: (runtime, method, cell) => this.#emit({ type: 'setup:verify-cell', hostId, verifyId, runtime, method, cell }),
        ...(this.#loadAgentBundle ? { loadAgentBundle: this.#loadAgentBundle } : {}),
      });
      return { verifyId, host: transport.label, at: new Date().toISOString(), rows };
    } catch (err) {
      throw this.#scrub(LabError.from(err));
    } finally {
      state.busy = null;
    }
  }

  async restore(hostId: string, labDir?: string): Promise<{ restored: string[] }> {
    const state = this.#state_(hostId);
    this.#claim(hostId, state, 'restore');
    try {
      const transport = await this.#hosts.transport(hostId);
      const context = await this.#context(hostId, transport);
      const dir = labDir ?? (typeof state.lastParams?.labDir === 'string' ? state.lastParams.labDir : `${context.home}/.runtime-lab`);
      return { restored: await restoreConfigs(transport, context, dir) };
    } catch (err) {
      throw this.#scrub(LabError.from(err));
    } finally {
      state.busy = null;
    }
  }

  /** Cancels running setups and waits for their cleanup (app quit). */
  async dispose(): Promise<void> {
    const running = [...this.#state.values()].map((s) => s.busy).filter((b) => b?.kind === 'setup');
    for (const busy of running) busy?.controller?.abort();
    await Promise.all(running.map((b) => b?.done?.catch(() => undefined)));
    for (const state of this.#state.values()) state.sudoPassword = null;
  }

  // ---- internals --------------------------------------------------------------------

  #state_(hostId: string): HostState {
    this.#hosts.get(hostId);
    let state = this.#state.get(hostId);
    if (!state) {
      state = { context: null, contextAt: 0, transport: null, sudoPassword: null, lastParams: null, busy: null };
      this.#state.set(hostId, state);
    }
    return state;
  }

  #claim(hostId: string, state: HostState, kind: 'setup' | 'verify' | 'restore'): void {
    if (state.busy) {
      const what = { setup: 'A setup is already running', verify: 'A verification is already running', restore: 'Config files are already being restored' }[state.busy.kind];
      throw new LabError('invalid-input', `${what} on ${this.#hosts.get(hostId).name}: wait for it to finish${state.busy.kind === 'setup' ? ' or cancel it' : ''}.`);
    }
    state.busy = { kind };
  }

  /** Reads (doctor, plan) may run while a setup runs; their errors are scrubbed like the rest. */
  async #scrubbing<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      throw this.#scrub(LabError.from(err));
    }
  }

  async #probe(hostId: string, transport: Transport, hosts: string[]): Promise<HostContext> {
    const state = this.#state_(hostId);
    const context = await probeHost(transport, {
      ...(hosts.length > 0 ? { downloadHosts: hosts } : {}),
      ...(state.sudoPassword !== null ? { sudoPassword: state.sudoPassword } : {}),
    });
    Object.assign(state, { context, contextAt: Date.now(), transport });
    return context;
  }

  async #context(hostId: string, transport: Transport): Promise<HostContext> {
    const state = this.#state_(hostId);
    if (state.context && state.transport === transport && Date.now() - state.contextAt < this.#contextMaxAgeMs) return state.context;
    return this.#probe(hostId, transport, []);
  }

  /** A sudo password given for a user who needs one: tried once, then kept in memory for the session. */
  async #withSudo(state: HostState, transport: Transport, context: HostContext, password: string | undefined): Promise<HostContext> {
    if (password === undefined || (context.privilege.mode !== 'none' && context.privilege.mode !== 'sudo-password')) return context;
    await checkSudo(transport, context.facts.user.name, password);
    state.sudoPassword = password;
    state.context = withPassword(context, password);
    return state.context;
  }

  #secrets(): string[] {
    return [...this.#state.values()].map((s) => s.sudoPassword).filter((p): p is string => p !== null && p !== '');
  }

  #emit(event: LabEvent): void {
    this.#emitRaw(scrubDeep(event, this.#secrets()));
  }

  #scrub(error: LabError): LabError {
    const secrets = this.#secrets();
    if (secrets.length === 0) return error;
    const details = error.details ? (scrubDeep(error.details, secrets) as typeof error.details) : undefined;
    return new LabError(error.code, scrubText(error.message, secrets), details);
  }
}

// ---- Events -------------------------------------------------------------------------

/** Turns engine events into LabEvents; output is gathered briefly so a chatty apt-get is a few events, not thousands. */
class EventSink {
  readonly #send: (event: SetupRunEvent) => void;
  readonly #flushMs: number;
  readonly #recipes: string[];
  #pending: Extract<SetupRunEvent, { type: 'setup:output' }> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(send: (event: SetupRunEvent) => void, flushMs: number, recipes: string[]) {
    this.#send = send;
    this.#flushMs = flushMs;
    this.#recipes = recipes;
  }

  setup(setupId: string, hostId: string, event: SetupEvent): void {
    switch (event.type) {
      case 'plan':
        return this.emit({ type: 'setup:started', setupId, hostId, planId: event.planId, recipes: this.#recipes, resumedFrom: event.resumedFrom });
      case 'step-start':
        return this.emit({ type: 'setup:step-started', setupId, key: event.key, title: event.title, why: event.why });
      case 'command':
        return this.output(setupId, event.key, 'command', `$ ${event.display}\n`);
      case 'output':
        return this.output(setupId, event.key, event.stream, event.chunk);
      case 'edit':
        return this.output(setupId, event.key, 'note', event.changed ? `wrote ${event.path} (the original is backed up)\n` : `${event.path}: already as wanted\n`);
      case 'step-end':
        return this.emit({ type: 'setup:step-finished', setupId, key: event.key, outcome: event.outcome, detail: event.detail });
      case 'diagnosis':
        return this.emit({ type: 'setup:step-failed', setupId, key: event.key, diagnosis: diagnosisView(event.diagnosis) });
      case 'auto-fix':
        return this.emit({ type: 'setup:auto-fix', setupId, key: event.key, signatureId: event.signatureId, description: event.description });
    }
  }

  output(setupId: string, key: string, stream: 'command' | 'stdout' | 'stderr' | 'note', text: string): void {
    const pending = this.#pending;
    if (pending && pending.key === key && pending.stream === stream && pending.text.length < 64_000) {
      pending.text += text;
    } else {
      this.flush();
      this.#pending = { type: 'setup:output', setupId, key, stream, text };
    }
    this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  emit(event: SetupRunEvent): void {
    this.flush();
    this.#send(event);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const pending = this.#pending;
    this.#pending = null;
    if (pending) this.#send(pending);
  }

  close(): void {
    this.flush();
  }
}

function diagnosisView(diagnosis: Diagnosis | null): DiagnosisView | null {
  if (!diagnosis) return null;
  const { signature } = diagnosis;
  return {
    signatureId: signature.id,
    excerpt: diagnosis.excerpt,
    meaning: signature.meaning,
    fix: signature.fix,
    source: signature.source,
    autoFix: signature.autoFix?.description ?? null,
  };
}

// ---- The plan as data ---------------------------------------------------------------

function stepView(step: PlannedStep, alreadyDone: boolean | null): PlannedStepView {
  return {
    key: step.key,
    recipeId: step.recipeId,
    stepId: step.stepId,
    phase: step.phase,
    title: step.title,
    why: step.why,
    skip: step.skip,
    check: step.check?.display ?? null,
    apply: step.apply.map((c) => c.display),
    edits: step.edits.map((e) => ({ path: e.edit.path, kind: e.edit.kind, read: e.read.display, backup: e.backup?.display ?? null, write: e.write.display })),
    afterChange: step.afterChange.map((c) => c.display),
    onCancel: step.onCancel.map((c) => c.display),
    timeoutMs: step.timeoutMs,
    expectOutput: step.expectOutput ?? null,
    alreadyDone,
  };
}

/** Runs each step's read-only check and reads the files it edits, as the runner would first: done already, or not. */
async function alreadyDone(transport: Transport, plan: SetupPlan): Promise<Map<string, boolean | null>> {
  const done = new Map<string, boolean | null>();
  const exec = (c: PlannedCommand) => transport.exec(c.argv, { timeoutMs: PROBE_TIMEOUT_MS, ...(c.stdinPrefix ? { stdin: c.stdinPrefix } : {}) });
  for (const step of plan.steps) {
    if (step.skip !== null || (step.check === null && step.edits.length === 0)) continue;
    try {
      let ok = step.check ? (await exec(step.check)).exitCode === 0 : true;
      for (const edit of step.edits) {
        if (!ok) break;
        const read = await exec(edit.read);
        if (read.exitCode !== 0 && read.exitCode !== ABSENT_EXIT) {
          ok = false;
          break;
        }
        const current = read.exitCode === ABSENT_EXIT ? null : read.stdout;
        ok = applyEdit(edit.edit, current) === current;
      }
      done.set(step.key, ok);
    } catch {
      done.set(step.key, null);
    }
  }
  return done;
}

// ---- sudo ---------------------------------------------------------------------------

function withPassword(context: HostContext, password: string): HostContext {
  const { uid, passwordlessSudo } = context.facts.user;
  return { ...context, privilege: choosePrivilege(uid, passwordlessSudo, password), probes: { ...context.probes, sudoPassword: true } };
}

/** Tries the password once (`sudo -S -k true`), so a wrong one is refused before anything runs. */
async function checkSudo(transport: Transport, user: string, password: string): Promise<void> {
  const result = await transport.exec(['sudo', '-S', '-k', '-p', '', '--', 'true'], { stdin: `${password}\n`, timeoutMs: PROBE_TIMEOUT_MS });
  if (result.exitCode === 0) return;
  const said = scrubText(`${result.stderr}${result.stdout}`, [password]);
  if (result.exitCode === 127 || /sudo: (command )?not found|No such file/i.test(said)) {
    throw new LabError('unsupported', `sudo is not installed on this host, so ${user} cannot become root: log in as root, or install sudo and allow ${user} to use it.`);
  }
  if (/not in the sudoers|not allowed to/i.test(said)) {
    throw new LabError('unsupported', `${user} may not use sudo on this host: log in as root, or allow ${user} in sudoers.`);
  }
  if (/incorrect password|try again|authentication failure/i.test(said)) {
    throw new LabError('auth-password-rejected', `sudo rejected the password for ${user}. Nothing was run.`);
  }
  throw new LabError('command-failed', `sudo did not accept ${user}'s password: ${said.trim().split('\n').at(-1) ?? `exit ${result.exitCode}`}`);
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join(REDACTED);
  return out;
}

function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return scrubText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, secrets)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets)])) as T;
  }
  return value;
}
