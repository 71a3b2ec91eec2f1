import { runCheck } from '../../knowledge/checks.ts';
import { findRecipe } from '../../knowledge/recipes/index.ts';
import { METHODS, type Method, type ParsedRecipe } from '../../knowledge/schema.ts';
import { LabError } from '../../shared/lab-error.ts';
import type { VerifyCell } from '../../shared/model/setup.ts';
import type { Plan } from '../../shared/model/plan.ts';
import { commandLine } from '../../shared/shell-quote.ts';
import { buildAgentBundle, type AgentBundle } from '../agent/agent-bundle.ts';
import type { Transport } from '../transport/transport.ts';
import { runCriProbe, type CriProbe, type RunAsRoot } from './cri-probe.ts';
import { diagnose, type Diagnosis } from './diagnose.ts';
import type { HostContext } from './host-context.ts';
import { changedSetupSteps, planSetup, type PlannedCommand, type PlannedStep, type SetupPlan } from './plan.ts';
import { withPrivilege } from './privilege.ts';
import { runSetup } from './run-setup.ts';
import { renderArgv, renderScript, type ParamValue } from './template.ts';

// The verify step of the setup wizard: the hello workload through every method a runtime
// supports, on the host, and the runtime × method matrix filled from what really happened.
//
//   oci-direct  the recipe's own smoke test: RUNTIME run --bundle on the test bundle
//   ctr         the recipe's ctr smoke test, when containerd answers on its socket
//   docker      the recipe's docker smoke test, when dockerd answers and has the test image
//   cri         a pod lifecycle (hello container) through Runtime Lab's CRI client, run by the host agent
//
// A cell "works" only after the container printed Hello; it "fails" with the runtime's own
// error line and, when the output matches a failure signature, its meaning and fix; it is
// "unknown" (with why) when the method could not be tried: no daemon, no bundle, no client.
// A recognised failure with a safe auto-fix (runsc's --network=none) is fixed and retried
// once, as the setup does, and the cell says so. A fix that changes a setup step (containerd's
// restrict_oom_score_adj for cri) first applies those steps again through the setup engine.

export interface VerifyOptions {
  runtimes: readonly string[];
  /** The setup's parameters (temp roots, sockets, auto-fixed values); defaults otherwise. */
  params?: Readonly<Record<string, ParamValue>>;
  onCell?: (runtime: string, method: Method, cell: VerifyCell) => void;
  signal?: AbortSignal;
  /** The host agent (method cri runs in it); default: built from source, as the CLI and tests use it. */
  loadAgentBundle?: () => Promise<AgentBundle>;
}

export interface VerifyRow {
  runtime: string;
  title: string;
  cells: Record<Method, VerifyCell>;
}

const OUTPUT_TAIL = 4_000;
const PROBE_TIMEOUT_MS = 20_000;
const CLEANUP_TIMEOUT_MS = 60_000;
const TEST_IMAGE = 'rlab-busybox:latest';
/** The cri check's one iteration, and the agent run around it (bundle, images, pod). */
const CRI_ITERATION_TIMEOUT_MS = 60_000;
const CRI_PROBE_TIMEOUT_MS = 180_000;
/** Smoke-test step ids (knowledge/recipes/smoke.ts) per method. */
const SMOKE_STEP: Record<Exclude<Method, 'cri'>, string> = { 'oci-direct': 'run-direct', ctr: 'run-ctr', docker: 'run-docker' };

export async function verifyRuntimes(transport: Transport, context: HostContext, options: VerifyOptions): Promise<VerifyRow[]> {
  const recipes = options.runtimes.map((id) => {
    const recipe = findRecipe(id);
    if (!recipe || recipe.kind !== 'runtime') throw new LabError('invalid-input', `"${id}" is not a runtime recipe.`);
    return recipe;
  });
  const rows: VerifyRow[] = [];
  for (const recipe of recipes) {
    const verifier = new RuntimeVerifier(transport, context, recipe, options.params ?? {}, options.signal, options.loadAgentBundle ?? buildAgentBundle);
    const cells = {} as Record<Method, VerifyCell>;
    for (const method of METHODS) {
      if (options.signal?.aborted) throw new LabError('invalid-input', 'Verification was cancelled.');
      const cell = await verifier.method(method);
      cells[method] = cell;
      options.onCell?.(recipe.id, method, cell);
    }
    rows.push({ runtime: recipe.id, title: recipe.title, cells });
  }
  return rows;
}

interface Ran {
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
  commands: string[];
  durationMs: number;
  message: string;
}

class RuntimeVerifier {
  readonly #transport: Transport;
  readonly #context: HostContext;
  readonly #recipe: ParsedRecipe;
  readonly #signal: AbortSignal | undefined;
  readonly #loadAgentBundle: () => Promise<AgentBundle>;
  #params: Record<string, ParamValue>;
  #plan: SetupPlan;
  /** Signatures whose auto-fix was applied already (once each, as in a setup run); the fixed parameters stay for the next methods. */
  readonly #fixed = new Set<string>();

  constructor(
    transport: Transport, context: HostContext, recipe: ParsedRecipe, params: Readonly<Record<string, ParamValue>>, signal: AbortSignal | undefined, loadAgentBundle: () => Promise<AgentBundle>,
  ) {
    this.#transport = transport;
    this.#loadAgentBundle = loadAgentBundle;
    this.#context = context;
    this.#recipe = recipe;
    this.#signal = signal;
    this.#params = { ...params };
    this.#plan = this.#planFor(this.#params);
  }

  // The runtime with containerd and Docker in one plan: every smoke test renders, with the
  // sockets and paths the setup used (a parameter of a recipe outside a plan is ignored).
  #planFor(params: Readonly<Record<string, ParamValue>>): SetupPlan {
    return planSetup(this.#context, { recipes: [this.#recipe.id, 'containerd', 'docker'], params });
  }

  async method(method: Method): Promise<VerifyCell> {
    const recipe = this.#recipe;
    const support = recipe.methods.find((m) => m.method === method);
    if (!support) return cell('fails', `${recipe.title} has no way to run through ${method}.`);
    if (support.unsupported) return cell('fails', support.unsupported);
    if (recipe.tool && !this.#installed(recipe.tool)) {
      return cell('fails', `${recipe.title} is not installed on this host: set it up first (choose ${recipe.id} and run the setup).`);
    }
    switch (method) {
      case 'oci-direct':
        return this.#ociDirect();
      case 'ctr':
        return this.#ctr();
      case 'docker':
        return this.#docker();
      case 'cri':
        return this.#cri();
    }
  }

  #installed(tool: string): boolean {
    return this.#context.facts.tools.some((t) => t.id === tool && t.found);
  }

  #param(name: string): string {
    const value = this.#plan.params[name];
    return typeof value === 'string' ? value : '';
  }

  #smokeStep(method: Exclude<Method, 'cri'>): PlannedStep | undefined {
    return this.#plan.steps.find((s) => s.recipeId === this.#recipe.id && s.stepId === SMOKE_STEP[method] && s.skip === null);
  }

  async #ociDirect(): Promise<VerifyCell> {
    if (!this.#smokeStep('oci-direct')) return cell('unknown', `The ${this.#recipe.id} recipe has no direct smoke test to run.`);
    const bundle = this.#param('bundleDir');
    const probe = await this.#probe(['sh', '-c', '[ -f "$1/config.json" ] && [ -x "$1/rootfs/bin/busybox" ]', 'sh', bundle], false);
    if (!probe.ok) return cell('unknown', `The test bundle is not at ${bundle}: run the setup for ${this.#recipe.id} first (it creates the bundle), then verify again.`);
    return this.#smoke('oci-direct');
  }

  async #ctr(): Promise<VerifyCell> {
    if (!this.#installed('ctr')) return cell('fails', 'ctr is not installed: set up containerd (it installs containerd and ctr).');
    if (!this.#smokeStep('ctr')) return cell('unknown', `The ${this.#recipe.id} recipe has no ctr smoke test to run.`);
    const address = this.#param('containerdAddress');
    // No socket, no daemon: ctr would wait 10 s for it.
    const up = await this.#probe(['sh', '-c', '[ -S "$1" ] && exec ctr --address "$1" --connect-timeout 5s version', 'sh', address], true);
    if (!up.ok) return cell('unknown', `containerd does not answer at ${address}: set up containerd (it starts the daemon), then verify again.`, up);
    return this.#smoke('ctr');
  }

  async #docker(): Promise<VerifyCell> {
    if (!this.#installed('docker')) return cell('fails', 'The docker client is not installed: set up Docker Engine.');
    if (!this.#smokeStep('docker')) return cell('unknown', `The ${this.#recipe.id} recipe has no docker smoke test to run.`);
    const socket = `unix://${this.#param('dockerSocket')}`;
    const up = await this.#probe(['sh', '-c', '[ -S "$1" ] && exec docker -H "unix://$1" version', 'sh', this.#param('dockerSocket')], true);
    if (!up.ok) return cell('unknown', `dockerd does not answer at ${socket}: set up Docker Engine (it starts the daemon), then verify again.`, up);
    const image = await this.#probe(['docker', '-H', socket, 'image', 'inspect', TEST_IMAGE], true);
    if (!image.ok) return cell('unknown', `dockerd has no ${TEST_IMAGE} image: the Docker setup imports it from the test bundle.`);
    const result = await this.#smoke('docker');
    if (result.status === 'fails' && /unknown or invalid runtime name/.test(result.evidence?.output ?? '')) {
      return { ...result, fix: result.fix ?? `Set up ${this.#recipe.id} together with Docker: the setup registers it in daemon.json and reloads dockerd.` };
    }
    return result;
  }

  /**
   * A real pod lifecycle through Runtime Lab's own CRI client: the host agent runs a cri
   * plan of one iteration (no warm-up) with the runtime's handler (its recipe id) against
   * the setup's containerd, pods on the host network. Works only when the hello container
   * printed Hello; a failed step fails the cell with the endpoint's own error.
   */
  #cri(): Promise<VerifyCell> {
    return this.#withAutoFix(() => this.#criOnce());
  }

  /**
   * Runs `attempt`; a recognised failure with a safe auto-fix is fixed (its commands, then its
   * parameters, applying again every setup step they change) and tried once more.
   */
  async #withAutoFix(attempt: () => Promise<{ cell: VerifyCell; diagnosis: Diagnosis | null }>): Promise<VerifyCell> {
    let fixedHere: string | null = null;
    for (;;) {
      const { cell: result, diagnosis } = await attempt();
      if (result.status === 'works') {
        return fixedHere ? { ...result, reason: `${result.reason}, after the auto-fix: ${fixedHere}`, autoFixed: fixedHere } : result;
      }
      const fix = diagnosis?.signature.autoFix;
      if (!diagnosis || !fix || this.#fixed.has(diagnosis.signature.id)) {
        return fixedHere ? { ...result, reason: `${result.reason}; the auto-fix was tried first (${fixedHere})` } : result;
      }
      this.#fixed.add(diagnosis.signature.id);
      for (const command of fix.commands) {
        const params = { ...this.#plan.params, ...diagnosis.groups };
        const argv = 'argv' in command ? renderArgv(command.argv, params) : 'script' in command ? ['sh', '-c', renderScript(command.script, params)] : null;
        if (argv) await this.#exec([this.#privileged(argv, fix.needsRoot)], CLEANUP_TIMEOUT_MS);
      }
      const applied = await this.#applyParams(fix.setParams);
      if (applied !== null) return { ...result, reason: `${result.reason}; the auto-fix (${fix.description}) could not be applied: ${applied}` };
      fixedHere = fix.description;
    }
  }

  /**
   * Sets parameters for the rest of the verification and applies again, through the setup
   * engine, every setup step they change (containerd's config, which restarts it). Returns
   * why that failed, or null.
   */
  async #applyParams(setParams: Readonly<Record<string, string>>): Promise<string | null> {
    const before = this.#plan;
    this.#params = { ...this.#params, ...setParams };
    this.#plan = this.#planFor(this.#params);
    const recipes = [...new Set(changedSetupSteps(before, this.#plan).map((s) => s.recipeId))];
    if (recipes.length === 0) return null;
    const result = await runSetup(this.#transport, this.#context, { recipes, params: this.#params }, { autoFix: false, fresh: true, ...(this.#signal ? { signal: this.#signal } : {}) });
    if (result.status === 'complete') return null;
    return result.failure ? `${result.failure.title}: ${result.failure.message}` : `the setup of ${recipes.join(', ')} was ${result.status}`;
  }

  async #criOnce(): Promise<{ cell: VerifyCell; diagnosis: Diagnosis | null }> {
    const recipe = this.#recipe;
    const address = this.#param('containerdAddress');
    const up = await this.#probe(['sh', '-c', '[ -S "$1" ]', 'sh', address], true);
    if (!up.ok) {
      return { cell: cell('unknown', `containerd's socket ${address} is not there: set up containerd (it starts the daemon with its CRI plugin), then verify again.`, up), diagnosis: null };
    }
    const plan: Plan = {
      method: 'cri', workload: 'hello', iterations: 1, warmups: 0, order: 'round-robin', timeoutMs: CRI_ITERATION_TIMEOUT_MS, daemonSampleMs: 0,
      runtimes: [{ name: recipe.id, binary: recipe.tool ?? recipe.id, globalArgs: [], lifecycle: 'run', cri: { handler: recipe.id } }],
      cri: { address, network: 'host' },
    };
    const asRoot: RunAsRoot = async (argv, timeoutMs) => {
      const command = this.#privileged(argv, true);
      const result = await this.#transport.exec(command.argv, {
        timeoutMs, ...(command.stdinPrefix ? { stdin: command.stdinPrefix } : {}), ...(this.#signal ? { signal: this.#signal } : {}),
      });
      return { ...result, display: command.display };
    };
    let probe: CriProbe;
    try {
      probe = await runCriProbe(this.#transport, asRoot, this.#loadAgentBundle, plan, CRI_PROBE_TIMEOUT_MS);
    } catch (err) {
      return { cell: cell('unknown', `Runtime Lab's CRI client runs in the host agent, which could not be started here: ${LabError.from(err).message}`), diagnosis: null };
    }
    const failedStep = probe.steps.find((s) => !s.ok)?.step ?? null;
    const ran: Ran = {
      ok: probe.whole?.ok === true, exitCode: probe.exitCode, timedOut: probe.timedOut, output: probe.output, commands: probe.commands, durationMs: probe.durationMs,
      message: probe.whole ? `the pod lifecycle failed${failedStep ? ` at ${failedStep}` : ''}` : `the CRI run ${probe.status ?? 'ended without a result'}`,
    };
    if (ran.ok) {
      const steps = probe.steps.map((s) => `${String(s.step)} ${s.durationMs.toFixed(0)} ms`).join(', ');
      return { cell: cell('works', `a pod through Runtime Lab's CRI client with handler "${recipe.id}" printed "Hello" (${steps})`, ran), diagnosis: null };
    }
    if (!probe.whole) return { cell: cell('fails', `${probe.message ?? lastLine(probe.output)} (${ran.message})`, ran), diagnosis: null };
    const diagnosis = this.#diagnose(ran);
    return { cell: this.#failed(ran, diagnosis), diagnosis };
  }

  /** Runs a method's smoke test, through #withAutoFix. */
  #smoke(method: Exclude<Method, 'cri'>): Promise<VerifyCell> {
    return this.#withAutoFix(async () => {
      const step = this.#smokeStep(method);
      if (!step) return { cell: cell('unknown', `The ${this.#recipe.id} recipe has no ${method} smoke test with these parameters.`), diagnosis: null };
      const ran = await this.#exec(step.apply, step.timeoutMs, step.expectOutput);
      if (ran.timedOut) await this.#cleanup(step);
      if (ran.ok) return { cell: cell('works', `printed "Hello" through ${method} (${(ran.durationMs / 1000).toFixed(2)} s)`, ran), diagnosis: null };
      const diagnosis = this.#diagnose(ran);
      return { cell: this.#failed(ran, diagnosis), diagnosis };
    });
  }

  #diagnose(ran: Ran): Diagnosis | null {
    const { facts, probes } = this.#context;
    return diagnose({ output: ran.output, timedOut: ran.timedOut }, this.#recipe.id, this.#recipe.signatures, this.#plan.params, (id) => runCheck(id, { facts, probes }).verdict);
  }

  #failed(ran: Ran, diagnosis: Diagnosis | null): VerifyCell {
    const own = diagnosis?.excerpt && !ran.timedOut ? diagnosis.excerpt : lastLine(ran.output);
    return {
      ...cell('fails', own ? `${own} (${ran.message})` : ran.message, ran),
      signatureId: diagnosis?.signature.id ?? null,
      meaning: diagnosis?.signature.meaning ?? null,
      fix: diagnosis?.signature.fix ?? null,
    };
  }

  async #probe(argv: string[], needsRoot: boolean): Promise<Ran> {
    return this.#exec([this.#privileged(argv, needsRoot)], PROBE_TIMEOUT_MS);
  }

  #privileged(argv: string[], needsRoot: boolean): PlannedCommand {
    const wrapped = withPrivilege(argv, needsRoot, this.#context.privilege);
    return { argv: wrapped.argv, display: commandLine(wrapped.argv), ...(wrapped.stdinPrefix !== undefined ? { stdinPrefix: wrapped.stdinPrefix } : {}) };
  }

  async #cleanup(step: PlannedStep): Promise<void> {
    for (const command of step.onCancel) {
      await this.#transport.exec(command.argv, { timeoutMs: CLEANUP_TIMEOUT_MS, ...(command.stdinPrefix ? { stdin: command.stdinPrefix } : {}) }).catch(() => undefined);
    }
  }

  async #exec(commands: readonly PlannedCommand[], timeoutMs: number, expectOutput?: string): Promise<Ran> {
    const started = Date.now();
    let output = '';
    let exitCode: number | null = 0;
    let timedOut = false;
    let message = 'done';
    const shown: string[] = [];
    for (const command of commands) {
      shown.push(command.display);
      const result = await this.#transport.exec(command.argv, {
        timeoutMs,
        ...(command.stdinPrefix ? { stdin: command.stdinPrefix } : {}),
        ...(this.#signal ? { signal: this.#signal } : {}),
      });
      output += `${result.stdout}${result.stderr}`;
      exitCode = result.exitCode;
      timedOut = result.timedOut;
      if (result.exitCode !== 0) {
        message = result.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited with ${result.exitCode ?? result.signal}`;
        return { ok: false, exitCode, timedOut, output, commands: shown, durationMs: Date.now() - started, message };
      }
    }
    if (expectOutput !== undefined && !output.includes(expectOutput)) {
      return { ok: false, exitCode, timedOut, output, commands: shown, durationMs: Date.now() - started, message: `the output does not contain "${expectOutput}"` };
    }
    return { ok: true, exitCode, timedOut, output, commands: shown, durationMs: Date.now() - started, message };
  }
}

function cell(status: VerifyCell['status'], reason: string, ran?: Ran): VerifyCell {
  return {
    status,
    reason,
    signatureId: null,
    meaning: null,
    fix: null,
    autoFixed: null,
    evidence: ran ? { commands: ran.commands, exitCode: ran.exitCode, durationMs: ran.durationMs, output: ran.output.slice(-OUTPUT_TAIL) } : null,
  };
}

function lastLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, 400);
}
