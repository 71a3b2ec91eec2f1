import { describe, expect, it } from 'vitest';
import { RECIPES } from '../knowledge/recipes/index.ts';
import { SIGNATURES } from '../knowledge/signatures.ts';
import { diagnose, matchSignature } from '../services/setup/diagnose.ts';

// Every failure signature against the error text it was written for — copied from where
// it was seen (this machine's runtimes, the seed talks, upstream issues) — and against
// near misses that must not trigger it. A signature without a case here fails the test.

interface Case {
  /** The real output of the failing command, as printed. */
  real: string;
  nearMisses: string[];
  groups?: Record<string, string>;
}

const CASES: Record<string, Case> = {
  'vhost-vsock-busy': {
    real: "modprobe: ERROR: could not insert 'vhost_vsock': Device or resource busy\n",
    nearMisses: ["modprobe: ERROR: could not insert 'vhost_net': Device or resource busy", "could not insert 'vhost_vsock': Operation not permitted"],
  },
  'vhost-vsock-device-missing': {
    real: 'Error: failed to create shim task: open /dev/vhost-vsock: no such device: unknown\n',
    nearMisses: ['open /dev/vhost-net: no such file or directory', 'open /dev/vsock: no such device'],
  },
  'vhost-vsock-module-missing': {
    real: 'modprobe: FATAL: Module vhost_vsock not found in directory /lib/modules/6.1.0-13-amd64\n',
    nearMisses: ['modprobe: FATAL: Module vhost_net not found in directory /lib/modules/6.1.0-13-amd64'],
    groups: { kernelRelease: '6.1.0-13-amd64' },
  },
  'vhost-vsock-not-permitted': {
    real: "modprobe: ERROR: could not insert 'vhost_vsock': Operation not permitted\n",
    nearMisses: ["modprobe: ERROR: could not insert 'vhost_vsock': Device or resource busy"],
  },
  'vhost-net-missing': {
    real: 'qemu-system-x86_64: -netdev tap,id=network-0,vhost=on: open /dev/vhost-net: no such file or directory\n',
    nearMisses: ['open /dev/vhost-vsock: no such device'],
  },
  'kvm-missing': {
    real: '[anonymous-instance:main:ERROR:src/firecracker/src/main.rs:270] Error: open /dev/kvm: No such file or directory\n',
    nearMisses: ['open /dev/kvm: permission denied', 'KVM_CREATE_VM failed: Device or resource busy'],
  },
  'kata-vsock-check': {
    real: 'ERRO[0000] kernel property vhost_vsock not found  arch=amd64 description="Host Support for Linux VM Sockets" name=vhost_vsock\n',
    nearMisses: ['kernel property vhost_net not found'],
  },
  'kata-1.6rc1-master-channel': {
    real: 'kata-runtime  : 1.6.0-rc1\n   commit   : <<unknown>>\n   OCI specs: 1.0.1-dev\n',
    nearMisses: ['kata-runtime  : 1.5.4', 'kata-runtime  : 1.6.0', 'kata-runtime  : 1.6.0-rc10'],
  },
  'crun-hybrid-cgroup': {
    // crun 1.8.1 on this Debian 12 machine, "crun run --bundle . t2".
    real: 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2\n',
    nearMisses: ['cgroups in hybrid mode', 'cgroup v2 not supported'],
  },
  'runsc-network-root-netns': {
    // runsc 2022-12-19 here: "runsc run", then "ctr run --runc-binary runsc" and "docker run --runtime runsc".
    real: 'running container: starting container: setting up network: creating interfaces from net namespace "/proc/4689/ns/net": cannot run with network enabled in root network namespace\n',
    nearMisses: ['cannot run with network disabled', 'network namespace not found'],
  },
  'runsc-network-malformed-route': {
    real: 'Error setting up network: malformed "ip route list default" output: "default via 10.0.0.1"\n',
    nearMisses: ['Error setting up network: no such interface'],
  },
  'containerd-devmapper-error': {
    // "ctr plugins ls" of containerd 1.6.20 here, without a thin pool.
    real: 'io.containerd.snapshotter.v1    btrfs                    linux/amd64    skip      \nio.containerd.snapshotter.v1    devmapper                linux/amd64    error     \nio.containerd.snapshotter.v1    native                   linux/amd64    ok        \n',
    nearMisses: ['io.containerd.snapshotter.v1    devmapper                linux/amd64    ok        ', 'io.containerd.snapshotter.v1    zfs                      linux/amd64    error'],
  },
  'ctr-task-stuck-created': {
    // "ctr task delete --force rv2" after a failed "ctr run --runc-binary /usr/bin/runsc" here.
    real: 'ctr: unknown error after kill: /usr/bin/runsc did not terminate successfully: exit status 128: cannot signal container "rv2" in state created\n: unknown\n',
    nearMisses: ['cannot signal container "rv2" in state stopped', 'container "rv2" in state created'],
    groups: { taskId: 'rv2' },
  },
  'cni-not-initialized': {
    real: 'rpc error: code = Unknown desc = failed to setup network for sandbox: cni plugin not initialized\n',
    nearMisses: ['cni plugin initialized', 'NetworkReady true'],
  },
  // The next three: RunPodSandbox errors as Runtime Lab's CRI client records them, from a real
  // containerd 1.6.20 without restrict_oom_score_adj on this machine (no CAP_SYS_RESOURCE).
  'cri-oom-score-adj-runc': {
    real: "RunPodSandbox: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: can't get final child's PID from pipe: EOF: unknown\n",
    nearMisses: [
      // The same runc text outside a pod sandbox (ctr, a direct run) has other causes.
      "ctr: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: can't get final child's PID from pipe: EOF: unknown",
      'RunPodSandbox: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: unexpected EOF: unknown',
      'RunPodSandbox: rpc error: code = Unavailable desc = error reading from server: EOF',
    ],
  },
  'cri-oom-score-adj-runsc': {
    real: 'RunPodSandbox: failed to start sandbox container task "10653f250b8f45ee162a8dc0dd400e6b010bb44d03c8d5561ea1286b58058512": OCI runtime start failed: starting container: setting oom_score_adj to \'\ufffd\': write /proc/765/oom_score_adj: permission denied: unknown\n',
    nearMisses: [
      "setting oom_score_adj to '\ufffd': write /proc/765/oom_score_adj: no such process",
      'open /proc/765/oom_score_adj: permission denied',
    ],
  },
  'runsc-cri-no-shim': {
    real: 'warn: runsc: runtime handler "runsc" is not configured at /run/containerd/containerd.sock (configured handlers: runc): its iterations will fail\n' +
      'RunPodSandbox: failed to get sandbox runtime: no runtime for "runsc" is configured (runtime handler "runsc" is not configured; configured handlers: runc)\n',
    nearMisses: [
      'RunPodSandbox: failed to get sandbox runtime: no runtime for "kata" is configured',
      'runtime handler "runsc" is not configured at /run/containerd/containerd.sock',
    ],
  },
  'crio-no-cni-config': {
    real: 'level=error msg="Error validating CNI config file /etc/cni/net.d/: No CNI configuration file in /etc/cni/net.d/. Has your network provider started?"\n',
    nearMisses: ['Found CNI network crio (type=bridge) at /etc/cni/net.d/'],
  },
  'crio-cgroup-manager-mismatch': {
    real: 'Error: failed to create pod sandbox: cri-o configured with cgroupfs cgroup manager, but received systemd slice as parent: /kubepods.slice\n',
    nearMisses: ['configured with systemd cgroup manager'],
  },
  'runnc-id-uniqueness': {
    real: 'panic: Insufficient uniqueness in ID\n\ngoroutine 1 [running]:\nmain.main()\n',
    nearMisses: ['Insufficient memory', 'panic: runtime error'],
  },
  'runnc-tap-no-master': {
    real: 'ERR: could not create tapabcdefg12345: no master interface: Link not found\n',
    nearMisses: ['could not create tapabcdefg12345: operation not permitted', 'no master interface'],
  },
  'runnc-relative-root': {
    // The nabla recipe's verification prints the bundle's root path before runnc starts.
    real: '"root": { "path": "rootfs"\n',
    nearMisses: ['"root": { "path": "/root/.runtime-lab/bundle/rootfs"', '"root": {"path":"/abs/rootfs"'],
    groups: { rootPath: 'rootfs' },
  },
  'runnc-entrypoint-not-nabla': {
    real: 'time="2019-03-01T00:00:00Z" level=error msg="Entrypoint is not a .nabla file"\n',
    nearMisses: ['Entrypoint is a .nabla file'],
  },
  'runnc-did-not-terminate': {
    real: 'ctr: OCI runtime create failed: runnc did not terminate sucessfully: unknown\n',
    nearMisses: ['ctr: OCI runtime create failed: runc did not terminate successfully: unknown'],
  },
  'runnc-tty-detach': {
    real: 'docker: Error response from daemon: OCI runtime create failed: cannot allocate tty if runc will detach: unknown.\n',
    nearMisses: ['cannot allocate memory'],
  },
  'solo5-spt-netfd': {
    real: "Solo5: ABORT: spt/net.c:36: Assertion 'netfd >= 0' failed\n",
    nearMisses: ["Solo5: ABORT: spt/block.c:40: Assertion 'diskfd >= 0' failed"],
  },
};

describe('failure signatures', () => {
  it('every signature has a real-text case, and every case names a signature', () => {
    expect(Object.keys(CASES).sort()).toEqual(SIGNATURES.filter((s) => !s.timedOut).map((s) => s.id).sort());
  });

  for (const signature of SIGNATURES.filter((s) => !s.timedOut)) {
    const testCase = CASES[signature.id];
    it(`${signature.id}: matches its real text, not its near misses`, () => {
      expect(testCase).toBeDefined();
      const found = matchSignature(signature, { output: testCase!.real, timedOut: false });
      expect(found).not.toBeNull();
      expect(testCase!.real).toContain(found!.excerpt);
      if (testCase!.groups) expect(found!.groups).toEqual(testCase!.groups);
      for (const miss of testCase!.nearMisses) expect(matchSignature(signature, { output: miss, timedOut: false })).toBeNull();
    });
  }

  it('the KVM-platform hang matches a time-out of runsc with --platform=kvm only', () => {
    const params = { runscPlatform: 'kvm' };
    expect(diagnose({ output: '', timedOut: true }, 'runsc', ['runsc-kvm-platform-hang'], params)?.signature.id).toBe('runsc-kvm-platform-hang');
    expect(diagnose({ output: '', timedOut: true }, 'runsc', ['runsc-kvm-platform-hang'], { runscPlatform: 'ptrace' })).toBeNull();
    expect(diagnose({ output: '', timedOut: true }, 'runc', [], params)).toBeNull();
    expect(diagnose({ output: '', timedOut: false }, 'runsc', ['runsc-kvm-platform-hang'], params)).toBeNull();
  });

  it('a recipe-scoped signature does not fire for another recipe\'s step', () => {
    const text = CASES['runsc-network-root-netns']!.real;
    expect(diagnose({ output: text, timedOut: false }, 'runsc', [], {})?.signature.id).toBe('runsc-network-root-netns');
    expect(diagnose({ output: text, timedOut: false }, 'runc', [], {})).toBeNull();
  });

  it('runc\'s pod-sandbox EOF counts as the oom_score_adj trap only with the option off, on a host whose probe did not pass', () => {
    const text = CASES['cri-oom-score-adj-runc']!.real;
    const off = { criRestrictOomScoreAdj: 'false' };
    const refused = () => 'warn' as const;
    expect(diagnose({ output: text, timedOut: false }, 'runc', [], off, refused)?.signature).toMatchObject({
      id: 'cri-oom-score-adj-runc', autoFix: { setParams: { criRestrictOomScoreAdj: 'true' } },
    });
    expect(diagnose({ output: text, timedOut: false }, 'runc', [], off, () => 'ok')).toBeNull();
    expect(diagnose({ output: text, timedOut: false }, 'runc', [], off)).toBeNull();
    expect(diagnose({ output: text, timedOut: false }, 'runc', [], { criRestrictOomScoreAdj: 'true' }, refused)).toBeNull();
    // runsc names the file itself: no host check needed, only the option off.
    const runsc = CASES['cri-oom-score-adj-runsc']!.real;
    expect(diagnose({ output: runsc, timedOut: false }, 'runsc', [], off)?.signature.id).toBe('cri-oom-score-adj-runsc');
    expect(diagnose({ output: runsc, timedOut: false }, 'runsc', [], { criRestrictOomScoreAdj: 'true' })).toBeNull();
  });

  it('auto-fixes only change parameters some recipe declares', () => {
    const declared = new Set(RECIPES.flatMap((r) => r.params.map((p) => p.name)));
    for (const s of SIGNATURES) {
      for (const name of Object.keys(s.autoFix?.setParams ?? {})) expect(declared, `${s.id} sets ${name}`).toContain(name);
    }
  });

  it('every signature a recipe lists exists', () => {
    const ids = new Set(SIGNATURES.map((s) => s.id));
    for (const r of RECIPES) for (const id of r.signatures) expect(ids, `${r.id} lists ${id}`).toContain(id);
  });
});
