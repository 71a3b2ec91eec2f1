import type { ParamValue } from '../../services/setup/template.ts';

/**
 * Setup-recipe parameters that keep everything a real setup run creates — containerd's and
 * dockerd's state, sockets and configs, runsc's wrapper — under `root`, so tests neither
 * clash with each other nor touch a system daemon.
 */
export function labParams(root: string): Record<string, ParamValue> {
  return {
    labDir: `${root}/lab`,
    containerdConfig: `${root}/etc/containerd/config.toml`,
    containerdRoot: `${root}/containerd/root`,
    containerdState: `${root}/containerd/state`,
    containerdAddress: `${root}/containerd/containerd.sock`,
    // No CNI plugins on the test machine and no pods are started: host network only.
    criPodNetwork: 'host',
    runscCtrWrapper: `${root}/bin/runsc-runtime-lab`,
    dockerDaemonJson: `${root}/etc/docker/daemon.json`,
    dockerDataRoot: `${root}/docker/data`,
    dockerExecRoot: `${root}/docker/exec`,
    dockerPidfile: `${root}/docker/docker.pid`,
    dockerSocket: `${root}/docker/docker.sock`,
    // As in lab-environment.md: no iptables and no bridge inside this sandboxed VM.
    dockerdExtraArgs: ['--iptables=false', '--bridge=none'],
  };
}
