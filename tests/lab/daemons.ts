// containerd and dockerd for tests, started the way the setup engine starts them on a host
// without systemd (services/setup/daemon-commands.ts: setsid, pidfile and log under
// {labDir}/daemons, a bounded wait for the daemon to answer), from the recipes' own daemon
// definitions. Everything lives under one temp folder: sockets, state, data, configs.
// dockerd uses this containerd (--containerd), as Debian's docker.io does with the system one.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerd as containerdRecipe } from '../../knowledge/recipes/containerd.ts';
import { docker as dockerRecipe } from '../../knowledge/recipes/docker.ts';
import { Daemon } from '../../knowledge/schema.ts';
import { daemonArgv, daemonFiles } from '../../services/setup/daemon-commands.ts';
import type { Params } from '../../services/setup/template.ts';

export interface TestDaemons {
  root: string;
  containerdAddress: string;
  /** As `docker -H` takes it. */
  dockerHost: string;
  daemonJson: string;
  /** dockerd's pid as it writes it itself (--pidfile): still right after a restart by the code under test. */
  dockerdPid(): number | null;
  /** Stops both daemons, then kills what they left (shims, runsc sandboxes) and the folders under /run they made. */
  stop(): void;
}

// Folders the daemons create outside the temp root; removed at the end only if they did not exist before.
const RUN_DIRS = ['/run/containerd/runc', '/run/containerd/s', '/run/containerd/fifo', '/run/containerd', '/run/docker/plugins', '/run/docker'];

const CONTAINERD_CONFIG = 'version = 2\n# No pods in these tests: the CRI plugin only slows the start down.\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n';

/** `namespaces`: the containerd namespaces the tests use, whose runc state under /run is removed at the end. */
export function startDaemons(root: string, daemonJsonContent: string, namespaces: readonly string[]): TestDaemons {
  const preexisting = new Set(RUN_DIRS.filter((d) => existsSync(d)));
  const shimSocketsBefore = new Set(listShimSockets());
  for (const dir of ['etc', 'containerd', 'docker', 'lab']) mkdirSync(join(root, dir), { recursive: true });
  const params: Params = {
    labDir: join(root, 'lab'),
    containerdConfig: join(root, 'etc', 'containerd.toml'),
    containerdRoot: join(root, 'containerd', 'root'),
    containerdState: join(root, 'containerd', 'state'),
    containerdAddress: join(root, 'containerd', 'containerd.sock'),
    dockerDaemonJson: join(root, 'etc', 'daemon.json'),
    dockerDataRoot: join(root, 'docker', 'data'),
    dockerExecRoot: join(root, 'docker', 'exec'),
    dockerPidfile: join(root, 'docker', 'dockerd.pid'),
    dockerSocket: join(root, 'docker', 'docker.sock'),
    // No iptables and no bridge inside this sandboxed VM (lab-environment.md).
    dockerdExtraArgs: ['--iptables=false', '--bridge=none', '--containerd', join(root, 'containerd', 'containerd.sock')],
  };
  writeFileSync(String(params.containerdConfig), CONTAINERD_CONFIG);
  writeFileSync(String(params.dockerDaemonJson), daemonJsonContent);
  const containerd = Daemon.parse(containerdRecipe.daemons?.[0]);
  const dockerd = Daemon.parse(dockerRecipe.daemons?.[0]);

  const control = (daemon: Daemon, action: 'start' | 'stop') => {
    const [command, ...args] = daemonArgv(daemon, action, params, 'other');
    const result = spawnSync(command!, args, { encoding: 'utf8', timeout: 150_000 });
    if (result.status !== 0) {
      const log = readOptional(daemonFiles(daemon, params).log);
      throw new Error(`${daemon.id} ${action} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}\n${log.slice(-2000)}`);
    }
  };
  const dockerdPid = () => {
    const pid = Number(readOptional(String(params.dockerPidfile)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };

  control(containerd, 'start');
  try {
    control(dockerd, 'start');
  } catch (err) {
    control(containerd, 'stop');
    throw err;
  }

  return {
    root,
    containerdAddress: String(params.containerdAddress),
    dockerHost: `unix://${String(params.dockerSocket)}`,
    daemonJson: String(params.dockerDaemonJson),
    dockerdPid,
    stop() {
      // A dockerd restarted by the code under test is not the one the setup pidfile names.
      const pid = dockerdPid();
      if (pid !== null) writeFileSync(daemonFiles(dockerd, params).pidfile, `${pid}\n`);
      try {
        control(dockerd, 'stop');
      } finally {
        control(containerd, 'stop');
        killLeftovers(root);
        removeDeadShimSockets(shimSocketsBefore);
        for (const ns of namespaces) rmSync(`/run/containerd/runc/${ns}`, { recursive: true, force: true });
        for (const dir of RUN_DIRS.filter((d) => !preexisting.has(d))) spawnSync('rmdir', [dir]);
      }
    },
  };
}

/** Every process whose command line mentions the temp root (shims, runsc-sandbox, runsc-gofer), SIGKILLed. */
function killLeftovers(root: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(root)) {
      try {
        process.kill(Number(name), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

function listShimSockets(): string[] {
  try {
    return readdirSync('/run/containerd/s').map((f) => `/run/containerd/s/${f}`);
  } catch {
    return [];
  }
}

/**
 * Shim sockets that appeared during the tests and that no process binds any more (a shim
 * killed at stop leaves its socket). Sockets of live shims — another suite's — stay.
 */
function removeDeadShimSockets(before: ReadonlySet<string>): void {
  const bound = readOptional('/proc/net/unix');
  for (const socket of listShimSockets()) {
    if (!before.has(socket) && !bound.includes(socket)) rmSync(socket, { force: true });
  }
}

function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
