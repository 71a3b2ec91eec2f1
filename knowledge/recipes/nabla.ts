import { readFileSync } from 'node:fs';
import type { Recipe } from '../schema.ts';
import { aptInstall } from './apt.ts';

// Nabla containers (runnc): unikernels on the solo5 seccomp tender. Every step of the
// seed's build was a trap, so each one is pinned: solo5 built and installed as
// /usr/lib/libsolo5_seccomp.a, runnc at b78fe29, rumprun at 8b01b3 with three patches
// written by this project (knowledge/patches/: NetBSD libunwind's negative shift, PR
// 118's flags, -L/usr/lib for rumprun-bake). The newest revisions failed with
// "Solo5: ABORT: spt/net.c:36: Assertion 'netfd >= 0' failed". The nabla projects are
// unmaintained: this recipe preserves the seed's working combination.

// In Electron's bundled main process Vite inlines these files as data: URLs; under Node
// (CLI, tests) they are file: URLs. Both hold the same bytes.
const patch = (name: string) => {
  const url = new URL(`../patches/${name}`, import.meta.url);
  return url.protocol === 'data:' ? Buffer.from(url.pathname.slice(url.pathname.indexOf(',') + 1), 'base64').toString('utf8') : readFileSync(url, 'utf8');
};
const PATCHES = ['rumprun-libunwind-negative-shift.patch', 'rumprun-pr118-fallthrough-extraccflags.patch', 'rumprun-bake-usr-lib.patch'];

export const nabla: Recipe = {
  id: 'nabla',
  title: 'Nabla containers (runnc, solo5, rumprun)',
  version: '1.0.0',
  kind: 'runtime',
  tool: 'runnc',
  appliesTo: [{ distro: 'ubuntu', versions: ['18.04'] }, { distro: 'debian', versions: ['10'] }],
  requires: ['oci-bundle'],
  after: ['containerd', 'docker'],
  params: [
    { name: 'nablaSrc', description: 'build folder', default: '{{labDir}}/nabla' },
    { name: 'solo5Rev', description: 'nabla-containers/solo5 revision', default: 'master' },
    { name: 'runncRev', description: 'nabla-containers/runnc revision (the seed\'s working one)', default: 'b78fe29' },
    { name: 'rumprunRev', description: 'nabla-containers/rumprun revision (the seed\'s working one)', default: '8b01b3' },
    { name: 'bakeTarget', description: 'rumprun-bake target: solo5_ukvm_seccomp (old revisions) or spt (newer)', default: 'solo5_ukvm_seccomp' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'arch', args: { arch: 'x86_64' } }, { id: 'disk-free', args: { gib: 5 } }, { id: 'downloads-reachable' }],
  downloads: [
    { url: 'https://github.com/nabla-containers/solo5' },
    { url: 'https://github.com/nabla-containers/runnc' },
    { url: 'https://github.com/nabla-containers/rumprun' },
  ],
  steps: [
    {
      id: 'build-tools',
      title: 'Install the build tools',
      why: 'solo5 and rumprun build with GCC and make; runnc with Go; libseccomp for the seccomp tender.',
      check: { script: 'command -v gcc >/dev/null && command -v go >/dev/null && command -v git >/dev/null && command -v jq >/dev/null && [ -f /usr/include/seccomp.h ]' },
      apply: [aptInstall('build-essential', 'git', 'golang-go', 'libseccomp-dev', 'zlib1g-dev', 'genisoimage', 'jq', 'iproute2')],
      needsRoot: true,
      timeoutMs: 900_000,
    },
    {
      id: 'solo5',
      title: 'Build solo5 and install libsolo5_seccomp.a',
      why: 'rumprun-bake links unikernels against the seccomp tender\'s bindings, which it looks for in /usr/lib.',
      check: { script: '[ -f /usr/lib/libsolo5_seccomp.a ]' },
      apply: [{
        script: `set -e
mkdir -p "$nablaSrc"
[ -d "$nablaSrc/solo5" ] || git clone https://github.com/nabla-containers/solo5 "$nablaSrc/solo5"
cd "$nablaSrc/solo5"
git checkout "$solo5Rev"
make
cp kernel/ukvm/solo5.o /usr/lib/libsolo5_seccomp.a`,
      }],
      needsRoot: true,
      timeoutMs: 1_800_000,
    },
    {
      id: 'rumprun-source',
      title: 'Check out rumprun at 8b01b3 with its submodules',
      why: 'The pinned revision the seed\'s patches apply to.',
      check: { script: '[ "$(git -C "$nablaSrc/rumprun" rev-parse --short=6 HEAD 2>/dev/null)" = "$rumprunRev" ]' },
      apply: [{
        script: `set -e
mkdir -p "$nablaSrc"
[ -d "$nablaSrc/rumprun" ] || git clone https://github.com/nabla-containers/rumprun "$nablaSrc/rumprun"
cd "$nablaSrc/rumprun"
git checkout "$rumprunRev"
git submodule update --init`,
      }],
      needsRoot: true,
      timeoutMs: 1_800_000,
    },
    {
      id: 'rumprun-patch-files',
      title: 'Copy this project\'s rumprun patches to the host',
      why: 'The patches are data of this knowledge base; the next step applies them with git.',
      edits: PATCHES.map((name) => ({ kind: 'file' as const, path: `{{nablaSrc}}/patches/${name}`, content: patch(name) })),
      backup: false,
      needsRoot: true,
    },
    {
      id: 'rumprun-patches',
      title: 'Apply the patches (negative shift, PR 118, -L/usr/lib)',
      why: 'Without them the NetBSD sources do not build with a current GCC and rumprun-bake cannot find libsolo5_seccomp.a.',
      check: { script: `cd "$nablaSrc/rumprun" && ${PATCHES.map((p) => `git apply --reverse --check "$nablaSrc/patches/${p}" 2>/dev/null`).join(' && ')}` },
      apply: [{ script: `set -e\ncd "$nablaSrc/rumprun"\n${PATCHES.map((p) => `git apply --check "$nablaSrc/patches/${p}"\ngit apply "$nablaSrc/patches/${p}"`).join('\n')}` }],
      needsRoot: true,
    },
    {
      id: 'rumprun-build',
      title: 'Build the rumprun toolchain for solo5',
      why: 'Gives x86_64-rumprun-netbsd-gcc and rumprun-bake, which turn hello.c into hello.nabla.',
      check: { script: 'command -v x86_64-rumprun-netbsd-gcc >/dev/null && command -v rumprun-bake >/dev/null' },
      apply: [{
        script: `set -e
cd "$nablaSrc/rumprun"
EXTRACCFLAGS=-Wimplicit-fallthrough=0 ./build-rr.sh -j "$(nproc)" -d /usr/local -o ./obj solo5 build
./build-rr.sh -d /usr/local -o ./obj solo5 install`,
      }],
      needsRoot: true,
      timeoutMs: 3_600_000,
    },
    {
      id: 'runnc',
      title: 'Build runnc at b78fe29',
      why: 'The runnc revision that worked with this toolchain (newer ones expect the spt tender and abort on netfd).',
      check: { script: 'command -v runnc >/dev/null && command -v nabla-run >/dev/null' },
      apply: [{
        script: `set -e
export GOPATH="$nablaSrc/go"
src="$GOPATH/src/github.com/nabla-containers/runnc"
[ -d "$src" ] || git clone https://github.com/nabla-containers/runnc "$src"
cd "$src"
git checkout "$runncRev"
make build
install -m 0755 build/runnc build/runnc-cont build/nabla-run /usr/local/bin/`,
      }],
      needsRoot: true,
      timeoutMs: 1_800_000,
    },
    {
      id: 'hello-nabla',
      title: 'Bake hello.nabla for the test bundle',
      why: 'runnc only runs .nabla unikernels: the same "Hello" program, compiled for rumprun and baked for the seccomp tender.',
      check: { script: '[ -f "$bundleDir/rootfs/hello.nabla" ]' },
      apply: [{
        script: `set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <stdio.h>\\nint main(void) { printf("Hello\\\\n"); return 0; }\\n' > "$tmp/hello.c"
x86_64-rumprun-netbsd-gcc -o "$tmp/hello.out" "$tmp/hello.c"
rumprun-bake "$bakeTarget" "$bundleDir/rootfs/hello.nabla" "$tmp/hello.out"`,
      }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'run-direct',
      title: 'Run hello.nabla with runnc (create + start)',
      why: 'runnc has no "run", its "start" returns before the unikernel ends, it needs prestart hooks for eth0 (runnc issue 53), an absolute root.path and a long container ID.',
      apply: [{
        script: `set -e
b=$(mktemp -d)
trap 'runnc delete --force rlab-verify-nabla-0123456789abcdef >/dev/null 2>&1; rm -rf "$b"' EXIT
# args: the unikernel; prestart hook: an eth0 for runnc's tap to attach to (runnc issue 53).
jq '.process.args = ["/hello.nabla"] | .hooks.prestart = [{"path": "/bin/sh", "args": ["sh", "-c", "ip link add eth0 type dummy && ip addr add 10.0.0.251/8 dev eth0 && ip link set eth0 up && ip route add default via 10.0.0.251"]}]' "$bundleDir/config.json" > "$b/config.json"
grep -o '"root": *{ *"path": *"[^"]*"' "$b/config.json"
runnc create --bundle "$b" rlab-verify-nabla-0123456789abcdef
runnc start rlab-verify-nabla-0123456789abcdef
sleep 2
tail -n 20 /tmp/runnc.log 2>/dev/null`,
      }],
      needsRoot: true,
      timeoutMs: 60_000,
      expectOutput: 'Hello',
    },
  ],
  signatures: [
    'runnc-id-uniqueness', 'runnc-tap-no-master', 'runnc-relative-root', 'runnc-entrypoint-not-nabla',
    'runnc-did-not-terminate', 'runnc-tty-detach', 'solo5-spt-netfd',
  ],
  methods: [
    { method: 'oci-direct', note: 'create + start; "start" returns before the unikernel exits, so the agent polls the state' },
    { method: 'ctr', tools: ['ctr'], recipes: ['containerd'], note: 'shim v1 (io.containerd.runtime.v1.linux with runtime = runnc), removed in containerd 2.0' },
    { method: 'docker', tools: ['docker'], recipes: ['docker'], note: 'runtime "runnc" in daemon.json' },
    { method: 'cri', unsupported: 'runnc was never wired for CRI' },
  ],
  status: { ran: false, why: 'the nabla projects are unmaintained and not packaged; the build clones from GitHub (internet) and targets Ubuntu 18.04-era toolchains.' },
};
