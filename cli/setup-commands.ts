import { Command, Option } from 'commander';
import { downloadHosts } from '../knowledge/checks.ts';
import { RECIPES } from '../knowledge/recipes/index.ts';
import { LabError } from '../shared/lab-error.ts';
import { buildReport, formatDoctor } from '../services/setup/doctor.ts';
import { formatPlan } from '../services/setup/format-plan.ts';
import { probeHost, type HostContext } from '../services/setup/host-context.ts';
import { restoreConfigs } from '../services/setup/maintenance.ts';
import { planSetup, type PlanOptions } from '../services/setup/plan.ts';
import { runSetup, type SetupEvent, type SetupResult } from '../services/setup/run-setup.ts';
import type { ParamValue } from '../services/setup/template.ts';
import type { Transport } from '../services/transport/transport.ts';
import { connectFromFlags, type ConnectionFlags } from './inspect-command.ts';
import { withConnectionOptions } from './connection-options.ts';
import { readSecretFromStdin } from './read-stdin.ts';

// `runtime-lab doctor`, `setup` and `restore`: the setup wizard's engine from a terminal.
// `setup --dry-run` prints every command exactly as `setup --yes` runs it; a failed step
// ends the command non-zero with the recognised failure's meaning and fix.

interface SetupFlags extends ConnectionFlags {
  sudoPasswordStdin?: boolean;
}

function connectionOptions(command: Command): Command {
  return withConnectionOptions(command)
    .option('--sudo-password-stdin', 'read the sudo password from standard input (with --password-stdin: the same password); kept in memory only');
}

export function registerSetupCommands(program: Command, out: (text: string) => void): void {
  connectionOptions(
    program
      .command('doctor')
      .description('check a lab host\'s prerequisites (KVM, vhost-vsock, cgroups, disk, memory, sudo, downloads) and show which runtime works through which method (oci-direct, ctr, docker, cri), and why')
      .argument('<target>', 'local | ssh://user@host[:port]'),
  )
    .addOption(new Option('--json', 'print the report as JSON'))
    .option('--check-downloads', "probe the recipes' download hosts over HTTPS from the lab host (sends traffic to the internet)")
    .action(async (target: string, flags: SetupFlags & { json?: boolean; checkDownloads?: boolean }) => {
      await withHost(target, flags, Boolean(flags.checkDownloads), async ({ context, label }) => {
        const report = buildReport(label, context);
        out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      });
    });

  connectionOptions(
    program
      .command('setup')
      .description(`install and wire runtimes on a lab host. Recipes: ${RECIPES.map((r) => r.id).join(', ')}`)
      .argument('<target>', 'local | ssh://user@host[:port]'),
  )
    .option('--runtime <name>', 'a recipe to set up (with what it requires); repeat for each', (v: string, p: string[]) => [...p, v], [])
    .option('--dry-run', 'print every command the setup would run, and run nothing')
    .option('--yes', 'run the setup, with live output')
    .option('--set <name=value>', 'set a recipe parameter (list parameters: values separated by spaces); repeat for each', (v: string, p: string[]) => [...p, v], [])
    .option('--fresh', 'ignore the journal of an earlier run (its resume point and auto-fixed parameters)')
    .option('--no-auto-fix', 'explain recognised failures without applying their safe fixes')
    .action(async (target: string, flags: SetupFlags & { runtime: string[]; dryRun?: boolean; yes?: boolean; set: string[]; fresh?: boolean; autoFix: boolean }) => {
      if (flags.runtime.length === 0) throw new LabError('invalid-input', 'Name at least one --runtime.');
      if (Boolean(flags.dryRun) === Boolean(flags.yes)) throw new LabError('invalid-input', 'Pass --dry-run to see the commands, or --yes to run them.');
      const planOptions: PlanOptions = { recipes: flags.runtime, params: parseSettings(flags.set) };
      await withHost(target, flags, false, async ({ transport, context, label }) => {
        const plan = planSetup(context, planOptions);
        out(formatPrerequisites(buildReport(label, context), plan.recipes.map((r) => r.id)));
        if (flags.dryRun) {
          out(formatPlan(plan, label));
          return;
        }
        const result = await runSetup(transport, context, planOptions, { onEvent: (e) => out(formatEvent(e)), autoFix: flags.autoFix, ...(flags.fresh ? { fresh: true } : {}) });
        out(formatResult(result));
        if (result.status !== 'complete') {
          const meaning = result.failure?.diagnosis?.signature.meaning ?? result.failure?.message ?? result.status;
          throw new LabError('command-failed', `setup ${result.status}${result.failure ? ` at ${result.failure.key}` : ''}: ${meaning}`);
        }
      });
    });

  connectionOptions(
    program
      .command('restore')
      .description('put back the config files a setup changed, as they were before Runtime Lab touched them (restart the affected daemons afterwards)')
      .argument('<target>', 'local | ssh://user@host[:port]'),
  )
    .option('--path <file>', 'only this file; repeat for each', (v: string, p: string[]) => [...p, v], [])
    .option('--lab-dir <dir>', 'the lab folder on the host (default: ~/.runtime-lab)')
    .action(async (target: string, flags: SetupFlags & { path: string[]; labDir?: string }) => {
      await withHost(target, flags, false, async ({ transport, context }) => {
        const done = await restoreConfigs(transport, context, flags.labDir ?? `${context.home}/.runtime-lab`, flags.path);
        out(done.length === 0 ? 'Nothing to restore.\n' : `${done.join('\n')}\n`);
      });
    });
}

async function withHost(
  target: string,
  flags: SetupFlags,
  probeDownloads: boolean,
  body: (host: { transport: Transport; context: HostContext; label: string }) => Promise<void>,
): Promise<void> {
  const { transport, label, secret } = await connectFromFlags(target, flags);
  try {
    const sudoPassword = flags.sudoPasswordStdin ? (secret ?? await readSecretFromStdin()) : undefined;
    const context = await probeHost(transport, {
      ...(probeDownloads ? { downloadHosts: [...new Set(RECIPES.flatMap((r) => downloadHosts(r)))] } : {}),
      ...(sudoPassword !== undefined ? { sudoPassword } : {}),
    });
    await body({ transport, context, label });
  } finally {
    await transport.close();
  }
}

/** `name=value`; a list parameter takes space-separated values. */
export function parseSettings(settings: readonly string[]): Record<string, ParamValue> {
  const lists = new Set(RECIPES.flatMap((r) => r.params.filter((p) => Array.isArray(p.default)).map((p) => p.name)));
  return Object.fromEntries(settings.map((setting) => {
    const at = setting.indexOf('=');
    if (at <= 0) throw new LabError('invalid-input', `--set takes NAME=VALUE, not "${setting}".`);
    const name = setting.slice(0, at);
    const value = setting.slice(at + 1);
    return [name, lists.has(name) ? value.split(/\s+/).filter(Boolean) : value];
  }));
}

function formatPrerequisites(report: ReturnType<typeof buildReport>, recipeIds: readonly string[]): string {
  const lines = ['Prerequisites:'];
  for (const recipe of report.recipes.filter((r) => recipeIds.includes(r.id))) {
    for (const check of recipe.prerequisites) {
      lines.push(`  ${recipe.id}: [${check.verdict}] ${check.title}: ${check.reason}${check.fix ? ` — fix: ${check.fix}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n\n`;
}

function formatEvent(event: SetupEvent): string {
  switch (event.type) {
    case 'plan':
      return `Setup ${event.planId}${event.resumedFrom ? `: resuming at ${event.resumedFrom} (journal of an interrupted run)` : ''}\n`;
    case 'step-start':
      return `\n== ${event.key}: ${event.title}\n   ${event.why}\n`;
    case 'command':
      return `$ ${event.display}\n`;
    case 'output':
      return event.chunk;
    case 'edit':
      return event.changed ? `   wrote ${event.path} (original backed up)\n` : `   ${event.path}: already as wanted\n`;
    case 'step-end':
      return `-- ${event.key}: ${event.outcome}${event.detail ? ` (${event.detail})` : ''}\n`;
    case 'diagnosis':
      return event.diagnosis
        ? `!! recognised: ${event.diagnosis.signature.id}\n   seen: ${event.diagnosis.excerpt}\n   meaning: ${event.diagnosis.signature.meaning}\n   fix: ${event.diagnosis.signature.fix}\n`
        : '!! not a known failure: read the output above\n';
    case 'auto-fix':
      return `>> applying the safe fix: ${event.description}\n`;
  }
}

function formatResult(result: SetupResult): string {
  const counts = new Map<string, number>();
  for (const s of result.steps) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  const summary = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
  const fixes = result.autoFixes.map((f) => `\n  auto-fixed: ${f.signatureId} (${f.description})`).join('');
  return `\nSetup ${result.status}: ${summary}${fixes}\n`;
}
