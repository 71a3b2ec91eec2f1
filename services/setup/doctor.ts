import { downloadHosts, runCheck, type CheckResult } from '../../knowledge/checks.ts';
import { RECIPES } from '../../knowledge/recipes/index.ts';
import { METHODS, type Method, type ParsedRecipe } from '../../knowledge/schema.ts';
import type { Transport } from '../transport/transport.ts';
import { probeHost, type HostContext } from './host-context.ts';

// The doctor: every prerequisite verdict with its reason, and for each runtime × method
// (oci-direct, ctr, docker, cri) whether it works, fails, or is unknown — derived from the
// facts and the checks. "works" means installed with every prerequisite met; running a
// container to prove it is the setup's verification step.

export type CellStatus = 'works' | 'fails' | 'unknown';

export interface MatrixCell {
  status: CellStatus;
  reason: string;
}

export interface DoctorReport {
  host: string;
  /** Checks about the host as a whole. */
  checks: CheckResult[];
  recipes: Array<{ id: string; title: string; kind: ParsedRecipe['kind']; prerequisites: CheckResult[] }>;
  matrix: Array<{ runtime: string; title: string; cells: Record<Method, MatrixCell> }>;
}

const HOST_CHECKS = ['sudo', 'kvm', 'vhost-vsock', 'cgroup-crun', 'oom-score-adj', 'systemd-init', 'node-for-agent'];

export interface DoctorOptions {
  sudoPassword?: string;
  /** Probe the recipes' download hosts over HTTPS from the host. Off by default: it is
   * traffic to the internet, which an offline lab (or a CI sandbox) must not send unasked. */
  checkDownloads?: boolean;
}

export async function doctor(transport: Transport, options: DoctorOptions = {}): Promise<DoctorReport> {
  const context = await probeHost(transport, {
    ...(options.checkDownloads ? { downloadHosts: [...new Set(RECIPES.flatMap((r) => downloadHosts(r)))] } : {}),
    ...(options.sudoPassword !== undefined ? { sudoPassword: options.sudoPassword } : {}),
  });
  return buildReport(transport.label, context);
}

export function buildReport(host: string, context: HostContext): DoctorReport {
  const { facts, probes } = context;
  const prerequisites = (recipe: ParsedRecipe) =>
    recipe.prerequisites.map((ref) => {
      const result = runCheck(ref.id, { facts, probes, recipe, ...(ref.args ? { args: ref.args } : {}) });
      // An optional prerequisite never blocks: its failure is a warning.
      return !ref.required && result.verdict === 'fail' ? { ...result, verdict: 'warn' as const } : result;
    });
  const recipes = RECIPES.map((r) => ({ id: r.id, title: r.title, kind: r.kind, prerequisites: prerequisites(r) }));
  const installed = (tool: string) => facts.tools.some((t) => t.id === tool && t.found);

  const matrix = RECIPES.filter((r) => r.kind === 'runtime').map((recipe) => {
    // Optional prerequisites (a platform choice, download hosts) do not decide whether an installed runtime runs.
    const required = new Set(recipe.prerequisites.filter((ref) => ref.required).map((ref) => ref.id));
    const own = recipes.find((r) => r.id === recipe.id)!.prerequisites.filter((c) => required.has(c.id));
    const cells = Object.fromEntries(METHODS.map((method): [Method, MatrixCell] => {
      const support = recipe.methods.find((m) => m.method === method);
      if (!support) return [method, { status: 'fails', reason: `${recipe.title} has no way to run through ${method}` }];
      if (support.unsupported) return [method, { status: 'fails', reason: support.unsupported }];
      if (recipe.tool && !installed(recipe.tool)) {
        return [method, { status: 'fails', reason: `${recipe.title} is not installed: runtime-lab setup TARGET --runtime ${recipe.id}` }];
      }
      const missingTool = support.tools.find((tool) => !installed(tool));
      if (missingTool) {
        // The recipe whose tool it is, else the method's plumbing (containerd installs ctr).
        const provider = RECIPES.find((r) => r.tool === missingTool) ?? RECIPES.find((r) => support.recipes.includes(r.id));
        return [method, { status: 'fails', reason: `${missingTool} is not installed${provider ? `: runtime-lab setup TARGET --runtime ${provider.id}` : ''}` }];
      }
      const checks = [...own, ...support.checks.map((id) => runCheck(id, { facts, probes, recipe }))]
        // Reachability and the distribution matter for installing, not for running what is installed.
        .filter((c) => c.id !== 'downloads-reachable' && c.id !== 'distro');
      const failed = checks.find((c) => c.verdict === 'fail');
      if (failed) return [method, { status: 'fails', reason: `${failed.title}: ${failed.reason}` }];
      const warned = checks.find((c) => c.verdict === 'warn');
      const note = support.note ? ` (${support.note})` : '';
      if (warned) return [method, { status: 'unknown', reason: `${warned.title}: ${warned.reason}${note}` }];
      return [method, { status: 'works', reason: `installed, prerequisites met; not yet proven by a run${note}` }];
    })) as Record<Method, MatrixCell>;
    return { runtime: recipe.id, title: recipe.title, cells };
  });

  const checks = HOST_CHECKS.map((id) => runCheck(id, { facts, probes }));
  return { host, checks, recipes, matrix };
}

export function formatDoctor(report: DoctorReport): string {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
  const lines = [`Doctor for ${report.host}`, '', 'Host:'];
  for (const c of report.checks) lines.push(`  [${mark[c.verdict]}] ${c.title}: ${c.reason}${c.fix ? `\n         fix: ${c.fix}` : ''}`);
  lines.push('', 'Runtime × method:');
  const width = Math.max(...report.matrix.map((m) => m.runtime.length));
  lines.push(`  ${''.padEnd(width)}  ${METHODS.map((m) => m.padEnd(10)).join(' ')}`);
  for (const row of report.matrix) {
    lines.push(`  ${row.runtime.padEnd(width)}  ${METHODS.map((m) => row.cells[m].status.padEnd(10)).join(' ')}`);
  }
  lines.push('', 'Why:');
  for (const row of report.matrix) {
    for (const m of METHODS) lines.push(`  ${row.runtime} / ${m}: ${row.cells[m].status} — ${row.cells[m].reason}`);
  }
  lines.push('', 'Prerequisites per recipe:');
  for (const r of report.recipes) {
    const bad = r.prerequisites.filter((p) => p.verdict !== 'ok');
    lines.push(`  ${r.id}: ${bad.length === 0 ? 'all ok' : bad.map((p) => `[${mark[p.verdict]}] ${p.title}: ${p.reason}`).join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
