import type { Recipe } from '../schema.ts';
import { KILL_RUNSC_LEFTOVERS, KILL_STUCK_TASK } from '../snippets.ts';
import { aptInstall, haveCommands } from './apt.ts';
import { ctrRun, directRun, dockerRun } from './smoke.ts';

// gVisor (runsc). Two choices decide whether it runs at all: the platform (kvm is fastest
// on bare metal but hangs under nested virtualization; systrap on gVisor 2023+; ptrace
// everywhere) and the network (runsc refuses to take over a root network namespace, which
// is what ctr and plain "runsc run" give it). Both are parameters, so the failure
// signatures' auto-fixes can change them and the setup re-renders every step they touch.

const FLAGS = '--platform="$runscPlatform" --network="$runscNetwork"';

export const runsc: Recipe = {
  id: 'runsc',
  title: 'gVisor (runsc)',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'runsc',
  appliesTo: [{ distro: 'debian', versions: ['12'] }, { distro: 'ubuntu', versions: ['20.04', '22.04', '24.04'] }],
  requires: ['oci-bundle'],
  after: ['containerd', 'docker'],
  params: [
    { name: 'runscPlatform', description: 'gVisor platform: kvm, systrap or ptrace', default: 'ptrace', chooser: 'runscPlatform' },
    { name: 'runscNetwork', description: 'gVisor network: sandbox (its own stack), host, or none', default: 'sandbox' },
    { name: 'runscPath', description: 'runsc binary', default: '/usr/bin/runsc' },
    { name: 'runscRoot', description: 'state folder for runsc run on the test bundle', default: '{{labDir}}/runsc-state' },
    { name: 'runscCtrWrapper', description: 'runsc with this setup\'s flags, for ctr --runc-binary (which passes no flags)', default: '/usr/local/bin/runsc-runtime-lab' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'kvm-not-nested', required: false }, { id: 'downloads-reachable', required: false }],
  downloads: [{ url: 'https://gvisor.dev/archive.key' }, { url: 'https://storage.googleapis.com/gvisor/releases/release/latest/x86_64/runsc' }],
  steps: [
    {
      id: 'install-debian',
      title: 'Install runsc from Debian',
      why: 'Debian 12 packages gVisor itself (a 2022-12 build: ptrace and kvm platforms, no containerd shim).',
      when: { distros: ['debian'] },
      check: haveCommands('runsc'),
      apply: [aptInstall('runsc')],
      needsRoot: true,
    },
    {
      id: 'install-gvisor-repo',
      title: 'Install runsc from gVisor\'s apt repository',
      why: 'gVisor publishes current builds (with systrap and containerd-shim-runsc-v1) in its own signed apt repository.',
      when: { distros: ['ubuntu'] },
      check: haveCommands('runsc', 'containerd-shim-runsc-v1'),
      apply: [
        aptInstall('ca-certificates', 'curl', 'gnupg'),
        {
          script: `curl -fsSL https://gvisor.dev/archive.key | gpg --dearmor --yes -o /usr/share/keyrings/gvisor-archive-keyring.gpg
arch=$(dpkg --print-architecture)
echo "deb [arch=$arch signed-by=/usr/share/keyrings/gvisor-archive-keyring.gpg] https://storage.googleapis.com/gvisor/releases release main" > /etc/apt/sources.list.d/gvisor.list
apt-get update -q`,
        },
        aptInstall('runsc'),
      ],
      needsRoot: true,
    },
    {
      id: 'ctr-wrapper',
      title: 'Write a runsc wrapper with this setup\'s flags for ctr',
      why: 'ctr --runc-binary cannot pass flags, so the platform and network choice live in a tiny wrapper script.',
      when: { planIncludes: ['containerd'] },
      edits: [{
        kind: 'file',
        path: '{{runscCtrWrapper}}',
        mode: 0o755,
        content: '#!/bin/sh\n# Written by Runtime Lab: runsc with the platform and network chosen for this host.\nexec "{{runscPath}}" "--platform={{runscPlatform}}" "--network={{runscNetwork}}" "$@"\n',
      }],
      needsRoot: true,
    },
    {
      id: 'cri-runtime',
      title: 'Register runsc with containerd\'s CRI plugin',
      // Not on Debian 12: behind containerd's runc shim (runtime_type io.containerd.runc.v2,
      // BinaryName = a runsc wrapper) a pod sandbox starts, but every container that joins it
      // reports the sandbox's pid, so the shim never sees it exit: it never reaches EXITED and
      // StopPodSandbox hangs (seen on this machine). Only gVisor's own shim works for CRI.
      why: 'CRI clients (Runtime Lab\'s, kubelet) pick runsc by handler name; it needs gVisor\'s containerd-shim-runsc-v1 (containerd\'s runc shim never sees a gVisor pod\'s containers exit), which Debian 12 does not ship.',
      when: { planIncludes: ['containerd'], distros: ['ubuntu'] },
      edits: [{
        kind: 'managed-block',
        path: '{{containerdConfig}}',
        marker: 'runsc',
        content: '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n  runtime_type = "io.containerd.runsc.v1"',
      }],
      afterChange: [{ daemon: 'containerd', action: 'restart' }],
      needsRoot: true,
    },
    {
      id: 'docker-runtime',
      title: 'Register runsc with Docker',
      why: 'Docker passes runtimeArgs to runsc on every container; the platform and network flags go there.',
      when: { planIncludes: ['docker'] },
      edits: [{
        kind: 'json-merge',
        path: '{{dockerDaemonJson}}',
        value: { runtimes: { runsc: { path: '{{runscPath}}', runtimeArgs: ['--platform={{runscPlatform}}', '--network={{runscNetwork}}'] } } },
      }],
      afterChange: [{ daemon: 'dockerd', action: 'reload' }],
      needsRoot: true,
    },
  ],
  verify: [
    // 30 s: a healthy run takes well under a second; the KVM platform's hang must be noticed soon.
    directRun('runsc', 'runsc', `--root "$runscRoot" ${FLAGS}`, 30_000, KILL_RUNSC_LEFTOVERS),
    ctrRun('runsc', '--runc-binary "$runscCtrWrapper"', KILL_STUCK_TASK),
    dockerRun('runsc'),
  ],
  signatures: ['runsc-network-root-netns', 'runsc-network-malformed-route', 'runsc-kvm-platform-hang', 'ctr-task-stuck-created', 'runsc-cri-no-shim', 'cri-oom-score-adj-runsc'],
  methods: [
    { method: 'oci-direct' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'], note: 'through ctr --runc-binary and a wrapper carrying --network/--platform' },
    { method: 'docker', tools: ['docker'], recipes: ['docker'] },
    {
      method: 'cri',
      tools: ['containerd', 'ctr'],
      recipes: ['containerd'],
      note: 'needs gVisor\'s containerd-shim-runsc-v1 (gVisor\'s repository; not in Debian 12: containerd\'s runc shim with runsc as BinaryName never sees a pod\'s containers exit)',
    },
  ],
  status: { ran: true },
};
