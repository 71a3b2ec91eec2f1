import { LabError } from '../../shared/lab-error.ts';
import type { Transport } from '../transport/transport.ts';
import type { HostContext } from './host-context.ts';
import { restoreArgv } from './file-ops.ts';
import { planSetup, type PlanOptions } from './plan.ts';
import { daemonArgv } from './daemon-commands.ts';
import { withPrivilege } from './privilege.ts';
import type { DaemonAction } from '../../knowledge/schema.ts';

// What happens outside a setup run: putting back the config files a setup changed, and
// starting or stopping a recipe's daemon the same way the setup does (tests use it to
// leave the machine as they found it; the UI for a "stop lab daemons" button).

/** Restores the backed-up originals (all, or only the paths given); returns what was restored or removed. */
export async function restoreConfigs(transport: Transport, context: HostContext, labDir: string, paths: readonly string[] = []): Promise<string[]> {
  const { argv, stdinPrefix } = withPrivilege(restoreArgv(labDir, paths), true, context.privilege);
  const result = await transport.exec(argv, { timeoutMs: 60_000, ...(stdinPrefix ? { stdin: stdinPrefix } : {}) });
  if (result.exitCode !== 0) throw new LabError('command-failed', `Restoring the original config files on ${transport.label} failed: ${result.stderr.trim()}`);
  return result.stdout.split('\n').filter(Boolean);
}

export async function controlDaemon(
  transport: Transport,
  context: HostContext,
  planOptions: PlanOptions,
  daemonId: string,
  action: DaemonAction,
): Promise<{ ok: boolean; output: string }> {
  const plan = planSetup(context, planOptions);
  const daemon = plan.recipes.flatMap((r) => r.daemons).find((d) => d.id === daemonId);
  if (!daemon) throw new LabError('invalid-input', `No daemon ${daemonId} among ${plan.recipes.map((r) => r.id).join(', ')}.`);
  const { argv, stdinPrefix } = withPrivilege(daemonArgv(daemon, action, plan.params, context.init), true, context.privilege);
  const result = await transport.exec(argv, { timeoutMs: daemon.readyTimeoutMs + 30_000, ...(stdinPrefix ? { stdin: stdinPrefix } : {}) });
  return { ok: result.exitCode === 0, output: `${result.stdout}${result.stderr}` };
}
