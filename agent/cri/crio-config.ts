import http from 'node:http';
import { parse } from 'smol-toml';
import type { ContainersStore } from '../workload-image.ts';
import type { CriEndpointConfig, CriHandler } from './cri-endpoint.ts';

// cri-o says less in CRI Status than containerd (no sandbox image, no handler details), but
// serves its effective configuration as TOML over HTTP on the same unix socket (GET /config,
// what `crio status config` prints): [crio] root, runroot, storage_driver;
// [crio.runtime] cgroup_manager and [crio.runtime.runtimes.<handler>] runtime_path,
// runtime_type; [crio.image] pause_image; [crio.network] network_dir (crio.conf(5)).
// smol-toml parses it: a small, maintained, spec-complete TOML 1.0 parser with no
// dependencies, rather than a hand-rolled reader of a format with many corner cases.
//
// Not run on these machines: cri-o is not packaged for Debian 12 and they have no internet.
// The parser is tested on a configuration in crio.conf(5)'s layout, served by a stand-in
// HTTP server on a unix socket (tests/crio-config.test.ts).

export interface CrioConfig {
  /** What the CRI method needs of the endpoint, as describeEndpoint gives it for containerd. */
  endpoint: Pick<CriEndpointConfig, 'sandboxImage' | 'cniConfDir' | 'handlers'>;
  /** cri-o's image store (containers/storage): where Runtime Lab imports images with skopeo. */
  store: ContainersStore;
}

/** GET `path` from the HTTP API cri-o serves on its CRI socket. */
export function fetchCrio(socket: string, urlPath: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath: socket, path: urlPath, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => {
        if (response.statusCode === 200) resolve(body);
        else reject(new Error(`cri-o at ${socket} answered GET ${urlPath} with HTTP ${String(response.statusCode)}: ${body.trim().slice(0, 300)}`));
      });
    });
    request.on('timeout', () => request.destroy(new Error(`cri-o at ${socket} did not answer GET ${urlPath} within ${timeoutMs} ms`)));
    request.on('error', (err) => reject(new Error(`cannot read cri-o's configuration (GET ${urlPath} on ${socket}): ${err.message}`)));
  });
}

const DEFAULT_ROOT = '/var/lib/containers/storage';
const DEFAULT_RUNROOT = '/run/containers/storage';

export function parseCrioConfig(toml: string): CrioConfig {
  let parsed: Record<string, unknown>;
  try {
    parsed = parse(toml);
  } catch (err) {
    throw new Error(`cri-o's configuration is not valid TOML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const crio = table(parsed.crio);
  const runtime = table(crio.runtime);
  const systemdCgroup = runtime.cgroup_manager === 'systemd';
  const handlers: CriHandler[] = Object.entries(table(runtime.runtimes)).map(([name, value]) => {
    const handler = table(value);
    return {
      name,
      runtimeType: text(handler.runtime_type) ?? 'oci',
      // An empty runtime_path means cri-o looks the handler's name up in $PATH.
      binaryName: text(handler.runtime_path) ?? name,
      systemdCgroup,
    };
  });
  return {
    endpoint: {
      sandboxImage: text(table(crio.image).pause_image),
      cniConfDir: text(table(crio.network).network_dir),
      handlers: handlers.sort((a, b) => a.name.localeCompare(b.name)),
    },
    store: {
      driver: text(crio.storage_driver),
      root: text(crio.root) ?? DEFAULT_ROOT,
      runroot: text(crio.runroot) ?? DEFAULT_RUNROOT,
    },
  };
}

/** The endpoint as Status described it, completed with what only cri-o's configuration says. */
export function withCrioConfig(endpoint: CriEndpointConfig, crio: CrioConfig): CriEndpointConfig {
  const handlers = new Map(endpoint.handlers.map((h) => [h.name, h]));
  for (const handler of crio.endpoint.handlers) handlers.set(handler.name, handler);
  return {
    ...endpoint,
    sandboxImage: endpoint.sandboxImage ?? crio.endpoint.sandboxImage,
    cniConfDir: endpoint.cniConfDir ?? crio.endpoint.cniConfDir,
    snapshotter: endpoint.snapshotter ?? (crio.store.driver ? `containers-storage ${crio.store.driver}` : 'containers-storage'),
    handlers: [...handlers.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

function table(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
