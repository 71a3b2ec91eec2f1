import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCrio, parseCrioConfig, withCrioConfig } from '../agent/cri/crio-config.ts';
import { describeEndpoint } from '../agent/cri/cri-endpoint.ts';
import { ensureCrioPauseImage } from '../agent/cri/pause-image.ts';
import { startDaemonSampler } from '../agent/daemon-sampler.ts';
import { runPrefix } from '../agent/oci-direct.ts';
import { prepareWorkloadBundle } from '../agent/workload-bundle.ts';
import { buildWorkloadImage, containersStorageRef, importIntoContainersStorage, type ContainersStore } from '../agent/workload-image.ts';
import type { AgentEvent } from '../shared/model/run-record.ts';

// The CRI method's cri-o path, as far as this machine allows: cri-o is not packaged for
// Debian 12 and there is no internet, so no real cri-o runs here. Real: skopeo importing into
// a containers/storage (cri-o's image store) in a temp folder, the TOML parser, /proc.
// Stand-ins, named as such: an HTTP server on a unix socket serving a configuration in
// crio.conf(5)'s layout (for cri-o's GET /config), and processes called crio and conmon.

/** A configuration as `crio status config` prints it (abridged to the tables the agent reads). */
const CRIO_CONFIG = `
[crio]
root = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
storage_driver = "overlay"

[crio.api]
listen = "/var/run/crio/crio.sock"

[crio.runtime]
default_runtime = "runc"
cgroup_manager = "systemd"

[crio.runtime.runtimes.runc]
runtime_path = ""
runtime_type = "oci"
runtime_root = "/run/runc"

[crio.runtime.runtimes.kata]
runtime_path = "/usr/bin/containerd-shim-kata-v2"
runtime_type = "vm"
runtime_root = "/run/vc"

[crio.image]
pause_image = "registry.k8s.io/pause:3.9"

[crio.network]
network_dir = "/etc/cni/net.d/"
`;

let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'rlab-crio-path-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("cri-o's configuration", () => {
  it('gives the handlers, the sandbox image, the CNI folder and the image store', () => {
    const config = parseCrioConfig(CRIO_CONFIG);
    expect(config.store).toEqual({ driver: 'overlay', root: '/var/lib/containers/storage', runroot: '/run/containers/storage' });
    expect(config.endpoint).toEqual({
      sandboxImage: 'registry.k8s.io/pause:3.9',
      cniConfDir: '/etc/cni/net.d/',
      handlers: [
        { name: 'kata', runtimeType: 'vm', binaryName: '/usr/bin/containerd-shim-kata-v2', systemdCgroup: true },
        // An empty runtime_path: cri-o runs the handler's name from $PATH.
        { name: 'runc', runtimeType: 'oci', binaryName: 'runc', systemdCgroup: true },
      ],
    });
  });

  it("completes what CRI Status said, and falls back to containers/storage's defaults", () => {
    const bare = parseCrioConfig('[crio.runtime.runtimes.crun]\n');
    expect(bare.store).toEqual({ driver: null, root: '/var/lib/containers/storage', runroot: '/run/containers/storage' });
    const fromStatus = describeEndpoint({ status: { conditions: [] }, info: {}, runtimeHandlers: [{ name: 'runc' }] } as never);
    const endpoint = withCrioConfig(fromStatus, parseCrioConfig(CRIO_CONFIG));
    expect(endpoint.sandboxImage).toBe('registry.k8s.io/pause:3.9');
    expect(endpoint.snapshotter).toBe('containers-storage overlay');
    expect(endpoint.handlers.map((h) => [h.name, h.binaryName])).toEqual([['kata', '/usr/bin/containerd-shim-kata-v2'], ['runc', 'runc']]);
  });

  it('refuses a configuration that is not TOML, saying so', () => {
    expect(() => parseCrioConfig('[crio\nroot = ')).toThrow(/^cri-o's configuration is not valid TOML: /);
  });

  it('is read over HTTP on the CRI socket (stand-in server), with actionable errors', async () => {
    const socket = path.join(work, 'crio.sock');
    const server = http.createServer((request, response) => {
      if (request.url === '/config') response.end(CRIO_CONFIG);
      else response.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      expect(parseCrioConfig(await fetchCrio(socket, '/config', 5_000)).endpoint.sandboxImage).toBe('registry.k8s.io/pause:3.9');
      await expect(fetchCrio(socket, '/nope', 5_000)).rejects.toThrow(`cri-o at ${socket} answered GET /nope with HTTP 404: not found`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(fetchCrio(path.join(work, 'absent.sock'), '/config', 5_000)).rejects.toThrow(/^cannot read cri-o's configuration \(GET \/config on .*absent\.sock\): connect ENOENT/);
  });
});

describe("cri-o's image store, with the real skopeo", () => {
  let store: ContainersStore;
  const options = () => ({ timeoutMs: 120_000, scratchDir: path.join(work, 'scratch') });
  const inspect = (ref: string) => spawnSync('skopeo', ['inspect', '--raw', containersStorageRef(store, ref)], { encoding: 'utf8' });

  beforeAll(() => {
    // vfs: works on any filesystem, as a lab's temp folder may not take overlay.
    store = { driver: 'vfs', root: path.join(work, 'storage'), runroot: path.join(work, 'storage-run') };
    mkdirSync(options().scratchDir, { recursive: true });
  });

  it('imports the workload image with its config digest, so CRI runs the same bytes as the other methods', async () => {
    const bundle = prepareWorkloadBundle({ workload: 'hello', perf: undefined }, path.join(work, 'bundle'));
    const built = buildWorkloadImage(bundle.info, path.join(work, 'image'));
    const imported = await importIntoContainersStorage(built, store, options());
    expect(imported.ref).toBe(`docker.io/${built.ref}`);
    expect(imported.configDigest).toBe(built.configDigest);
    expect(imported.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(imported.importedWith).toBe(`skopeo copy to containers-storage:[vfs@${store.root}+${store.runroot}]`);
    expect(JSON.parse(inspect(imported.ref).stdout).config.digest).toBe(built.configDigest);
  });

  it("imports Runtime Lab's pause under the configured sandbox name only when it is missing", async () => {
    const name = 'registry.k8s.io/pause:3.9';
    expect(inspect(name).status).not.toBe(0);
    const pause = await ensureCrioPauseImage(store, name, false, path.join(work, 'pause'), options());
    expect(pause).toMatchObject({ ref: name, origin: 'imported', configDigest: expect.stringMatching(/^sha256:/) });
    expect(JSON.parse(inspect(name).stdout).config.digest).toBe(pause.configDigest);
    expect(await ensureCrioPauseImage(store, name, true, path.join(work, 'pause'), options())).toEqual({ ref: name, origin: 'found', builtWith: null, configDigest: null });
  });

  it('says what skopeo said when the import fails', async () => {
    const bundle = prepareWorkloadBundle({ workload: 'hello', perf: undefined }, path.join(work, 'bundle-2'));
    const built = { ...buildWorkloadImage(bundle.info, path.join(work, 'image-2')), archive: path.join(work, 'no-such.tar') };
    await expect(importIntoContainersStorage(built, store, options())).rejects.toThrow(/^skopeo copy into containers-storage:\[vfs@.*\]docker\.io\/runtime-lab\/hello:\w+ failed: .*no-such\.tar.*no such file or directory/s);
  });
});

describe("the daemon sampler's cri-o scope (stand-in processes)", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it("counts crio on the run's socket and the run's conmons, nobody else's", async () => {
    // A program that only waits: run as "crio" and "conmon", it has their comm and argv.
    const source = path.join(work, 'standin.c');
    writeFileSync(source, '#include <unistd.h>\nint main(void){pause();return 0;}\n');
    for (const name of ['crio', 'conmon']) {
      const built = spawnSync('gcc', ['-o', path.join(work, name), source], { encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
    }
    const socket = path.join(work, 'run-crio.sock');
    const prefix = runPrefix('run-1234-abcd');
    const start = (name: string, args: string[]) => {
      const child = spawn(path.join(work, name), args, { stdio: 'ignore' });
      children.push(child);
      return child.pid!;
    };
    const crio = start('crio', ['--listen', socket]);
    const otherCrio = start('crio', ['--listen', path.join(work, 'other.sock')]);
    const conmon = start('conmon', ['-c', 'abc', '-n', `k8s_hello_${prefix}runc-0-ff_runtime-lab_x_0`]);
    const otherConmon = start('conmon', ['-c', 'def', '-n', 'k8s_app_someone-elses-pod_default_y_0']);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const events: AgentEvent[] = [];
    const sampler = startDaemonSampler({ intervalMs: 50, emit: (e) => events.push(e), scope: { containerdSocket: null, dockerSocket: null, shimNamespaces: [], crio: { socket, podNamePart: `_${prefix}` } } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await sampler.stop();
    const pids = new Set(events.flatMap((e) => (e.type === 'daemon-usage' ? e.samples.map((s) => s.pid) : [])));
    expect(pids.has(crio)).toBe(true);
    expect(pids.has(conmon)).toBe(true);
    expect(pids.has(otherCrio)).toBe(false);
    expect(pids.has(otherConmon)).toBe(false);
  });
});
