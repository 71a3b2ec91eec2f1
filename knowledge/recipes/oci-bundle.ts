import type { Recipe } from '../schema.ts';
import { aptInstall } from './apt.ts';

// The smallest OCI bundle every low-level runtime can run: a static BusyBox that prints
// "Hello" and exits (talk 1's hello.c, without needing a compiler on the host). The
// runtimes' verification steps run it; Docker and ctr use its rootfs as their image.

const CONFIG = {
  ociVersion: '1.0.2-dev',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['/bin/busybox', 'echo', 'Hello'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: Object.fromEntries(['bounding', 'effective', 'permitted', 'ambient'].map((set) => [set, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']])),
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  // Absolute: runnc resolves a relative root.path from its own working directory.
  root: { path: '{{bundleDir}}/rootfs', readonly: true },
  hostname: 'runtime-lab',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ],
  linux: {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces: ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type })),
    maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
};

export const ociBundle: Recipe = {
  id: 'oci-bundle',
  title: 'Test bundle (static BusyBox "Hello")',
  version: '1.0.0',
  kind: 'component',
  appliesTo: [{ distro: 'debian', versions: ['11', '12'] }, { distro: 'ubuntu', versions: ['20.04', '22.04', '24.04'] }],
  params: [{ name: 'bundleDir', description: 'OCI bundle used to verify runtimes', default: '{{labDir}}/bundle' }],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }],
  steps: [
    {
      id: 'busybox',
      title: 'Install static BusyBox',
      why: 'A statically linked program runs in an empty rootfs, so every runtime is tested on the same tiny workload.',
      check: { script: '[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1' },
      apply: [aptInstall('busybox-static')],
      needsRoot: true,
    },
    {
      id: 'rootfs',
      title: 'Create the bundle\'s rootfs',
      why: 'The root file system holds only /bin/busybox.',
      check: { script: 'cmp -s /bin/busybox "$bundleDir/rootfs/bin/busybox"' },
      apply: [{ script: 'mkdir -p "$bundleDir/rootfs/bin" && cp /bin/busybox "$bundleDir/rootfs/bin/busybox"' }],
      needsRoot: false,
    },
    {
      id: 'config',
      title: 'Write the bundle\'s config.json',
      why: 'A fixed OCI config (what "runc spec" writes, with terminal off and args "/bin/busybox echo Hello") so every runtime gets the same one.',
      edits: [{ kind: 'file', path: '{{bundleDir}}/config.json', content: `${JSON.stringify(CONFIG, null, 2)}\n` }],
      backup: false,
      needsRoot: false,
    },
  ],
  status: { ran: true },
};
