import type { HostProbes } from '../../knowledge/checks.ts';
import type { HostFacts } from '../../shared/model/host-facts.ts';
import { LabError } from '../../shared/lab-error.ts';
import { inspectHost } from '../inspect/inspect-host.ts';
import type { Transport } from '../transport/transport.ts';
import type { InitSystem } from './daemon-commands.ts';
import { choosePrivilege, withPrivilege, type Privilege } from './privilege.ts';

// Everything the planner and the doctor need to know about a host: the inspection's
// facts plus a few probes of their own (home folder, init system, the cgroup2 mount's
// controllers, reachability of download hosts) in one more round trip, and, when root is at
// hand, whether root may lower oom_score_adj (containerd's CRI plugin asks for -998).

export interface HostContext {
  facts: HostFacts;
  probes: HostProbes;
  home: string;
  init: InitSystem;
  privilege: Privilege;
}

export interface ProbeOptions {
  /** Download hosts to try over HTTPS (in parallel, 5 s each at most). */
  downloadHosts?: readonly string[];
  /** The sudo password for a user without passwordless sudo; kept in memory only. */
  sudoPassword?: string;
}

// Hosts arrive as positional arguments: nothing is spliced into the script.
const PROBE_SCRIPT = `
printf 'home\\t%s\\n' "$HOME"
printf 'pid1\\t%s\\n' "$(cat /proc/1/comm 2>/dev/null)"
printf 'unified\\t%s\\n' "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)"
for h in "$@"; do
  (
    if command -v curl >/dev/null 2>&1; then
      if curl -sS -o /dev/null -m 5 -I "https://$h/" 2>/dev/null; then r=1; else r=0; fi
    elif command -v wget >/dev/null 2>&1; then
      if wget -q -T 5 -t 1 --spider "https://$h/" 2>/dev/null; then r=1; else r=0; fi
    else r=
    fi
    printf 'reach\\t%s\\t%s\\n' "$h" "$r"
  ) &
done
wait
`;

// A subshell tries the CRI plugin's -998 on itself: the login shell's score is left alone.
const OOM_SCORE_ADJ_SCRIPT = 'if (echo -998 > /proc/self/oom_score_adj) 2>/dev/null; then echo lowered; else echo refused; fi';

export async function probeHost(transport: Transport, options: ProbeOptions = {}): Promise<HostContext> {
  const facts = await inspectHost(transport);
  const result = await transport.exec(['sh', '-c', PROBE_SCRIPT, 'sh', ...(options.downloadHosts ?? [])], { timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new LabError('command-failed', `Probing ${transport.label} failed: ${result.stderr.trim()}`);
  const fields = new Map<string, string>();
  const reachable: Record<string, boolean> = {};
  for (const line of result.stdout.split('\n')) {
    const [key, value = '', extra] = line.split('\t');
    if (key === 'reach' && extra !== undefined && extra !== '') reachable[value] = extra === '1';
    else if (key) fields.set(key, value);
  }
  const home = fields.get('home');
  if (!home) throw new LabError('command-failed', `Could not read the home folder of the login user on ${transport.label}.`);
  const systemd = fields.get('pid1') === 'systemd';
  const privilege = choosePrivilege(facts.user.uid, facts.user.passwordlessSudo, options.sudoPassword);
  return {
    facts,
    home,
    init: systemd ? 'systemd' : 'other',
    privilege,
    probes: {
      systemd,
      unifiedControllers: fields.get('unified') || null,
      reachable,
      sudoPassword: options.sudoPassword !== undefined,
      oomScoreAdjLowerable: await probeOomScoreAdj(transport, privilege),
    },
  };
}

/** Whether root may lower its oom_score_adj to -998; null without root (or when sudo refused). */
async function probeOomScoreAdj(transport: Transport, privilege: Privilege): Promise<boolean | null> {
  if (privilege.mode === 'none') return null;
  const command = withPrivilege(['sh', '-c', OOM_SCORE_ADJ_SCRIPT], true, privilege);
  const result = await transport.exec(command.argv, { timeoutMs: 30_000, ...(command.stdinPrefix !== undefined ? { stdin: command.stdinPrefix } : {}) });
  const answer = result.exitCode === 0 ? result.stdout.trim() : '';
  return answer === 'lowered' ? true : answer === 'refused' ? false : null;
}
