import type { Command } from 'commander';

/** How commands that start containers through a daemon reach it (methods ctr, docker and cri; see methodOptions in bench-command.ts). */
export function withDaemonOptions(command: Command): Command {
  return command
    .option('--snapshotter <name>', 'method ctr: containerd snapshotter (overlayfs, native, devmapper…), recorded with the run; default overlayfs')
    .option('--storage-driver <name[,name…]>', 'method docker: one name is the storage driver dockerd must be using (e.g. overlay2; the run fails before measuring if it uses another); a comma-separated list (overlay2,vfs) measures the whole plan once per driver, switching daemon.json\'s "storage-driver" and restarting dockerd for each, then restoring the original file and driver')
    .option('--containerd-address <socket>', 'method ctr: containerd socket; default /run/containerd/containerd.sock')
    .option('--cri-address <socket>', 'method cri: the CRI endpoint\'s socket (containerd with its CRI plugin); default /run/containerd/containerd.sock')
    .option('--docker-host <host>', 'method docker: dockerd socket, as docker -H takes it; default unix:///var/run/docker.sock')
    .option('--daemon-json <file>', 'method docker: the daemon.json dockerd reads; runtimes are registered there for the run (backed up, restored afterwards); default: the file the dockerd serving --docker-host reads (its --config-file), else /etc/docker/daemon.json');
}
