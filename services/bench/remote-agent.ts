import path from 'node:path/posix';
import type { Plan } from '../../shared/model/plan.ts';
import { LabError } from '../../shared/lab-error.ts';
import { execScript, type Transport } from '../transport/transport.ts';
import type { AgentBundle } from '../agent/agent-bundle.ts';

const MIN_NODE_MAJOR = 18;

export interface DeployedAgent {
  /** Absolute path of the Node that runs the agent on the host. */
  node: string;
  /** Absolute path of the uploaded bundle (named by its content hash). */
  agentPath: string;
  /** ~/.runtime-lab of the SSH user: agent bundles and run folders live here. */
  baseDir: string;
  /** Runtimes need root: a non-root user goes through passwordless sudo. */
  sudo: boolean;
}

// Facts the deployment needs, in one round trip. Fixed text: nothing is interpolated.
const PROBE = `
PATH="$PATH:/usr/local/bin:/usr/local/sbin:/usr/sbin:/sbin"
printf 'home\\t%s\\n' "$HOME"
printf 'uid\\t%s\\n' "$(id -u)"
for n in node nodejs; do
  p=$(command -v "$n" 2>/dev/null) || continue
  printf 'node\\t%s\\t%s\\n' "$p" "$("$p" --version 2>/dev/null)"
  break
done
if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then printf 'sudo\\tyes\\n'; fi
`;

function parseProbe(stdout: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split('\t');
    if (key) fields.set(key, rest);
  }
  return fields;
}

/** Makes sure the host can run the agent and has the current bundle; uploads it only when its hash is new. */
export async function deployAgent(transport: Transport, loadBundle: () => Promise<AgentBundle>): Promise<DeployedAgent> {
  const probe = await execScript(transport, PROBE, { timeoutMs: 20_000 });
  const fields = parseProbe(probe.stdout);
  const home = fields.get('home')?.[0];
  if (!home) throw new LabError('command-failed', `Could not read the home folder of the login user on ${transport.label}: ${probe.stderr.trim()}`);
  const [node, version] = fields.get('node') ?? [];
  const major = Number(/^v(\d+)/.exec(version ?? '')?.[1] ?? 0);
  if (!node || major < MIN_NODE_MAJOR) {
    throw new LabError(
      'unsupported',
      `${transport.label} has ${node ? `Node ${version}` : 'no Node.js'}; the measuring agent needs Node ≥ ${MIN_NODE_MAJOR} on the host. ` +
        'Install it (Debian/Ubuntu: sudo apt-get install nodejs; or the official tarball from nodejs.org) and connect again.',
    );
  }
  const uid = Number(fields.get('uid')?.[0] ?? -1);
  const sudo = uid !== 0;
  if (sudo && !fields.has('sudo')) {
    throw new LabError(
      'unsupported',
      `Container runtimes need root, and ${transport.label} logs in as uid ${uid} without passwordless sudo. Log in as root or allow this user "sudo -n" for the benchmark.`,
    );
  }
  const bundle = await loadBundle();
  const baseDir = path.join(home, '.runtime-lab');
  const agentPath = path.join(baseDir, 'agent', `runtime-lab-agent-${bundle.sha256.slice(0, 16)}.cjs`);
  const present = await transport.exec(['test', '-f', agentPath]);
  if (present.exitCode !== 0) {
    await mustSucceed(transport, ['mkdir', '-p', path.dirname(agentPath)]);
    const partial = `${agentPath}.partial`;
    await transport.writeFile(partial, bundle.code, 0o644);
    await mustSucceed(transport, ['mv', '-f', partial, agentPath]);
  }
  return { node, agentPath, baseDir, sudo };
}

export function runDirOf(agent: DeployedAgent, runId: string): string {
  return path.join(agent.baseDir, 'runs', runId);
}

function agentArgv(agent: DeployedAgent, args: string[]): string[] {
  return [...(agent.sudo ? ['sudo', '-n'] : []), agent.node, agent.agentPath, ...args];
}

/**
 * Writes the plan and starts the agent detached in its own session (the agent's --detach
 * re-spawns itself with setsid semantics): closing the laptop lid or losing the SSH link
 * does not stop the measurement.
 */
export async function launchAgentRun(transport: Transport, agent: DeployedAgent, runId: string, plan: Plan): Promise<string> {
  const runDir = runDirOf(agent, runId);
  await mustSucceed(transport, ['mkdir', '-p', runDir]);
  await transport.writeFile(path.join(runDir, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`, 0o644);
  await mustSucceed(transport, agentArgv(agent, ['run', '--run-dir', runDir, '--run-id', runId, '--detach']));
  return runDir;
}

/** Asks the agent to abort; it cleans up the current container and records the run as aborted. */
export async function stopAgentRun(transport: Transport, agent: DeployedAgent, runDir: string): Promise<void> {
  await mustSucceed(transport, agentArgv(agent, ['stop', '--run-dir', runDir]));
}

async function mustSucceed(transport: Transport, argv: string[]): Promise<void> {
  const result = await transport.exec(argv, { timeoutMs: 60_000 });
  if (result.exitCode !== 0) {
    throw new LabError('command-failed', `${argv[0]} failed on ${transport.label}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
  }
}
