import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BundleInfo, WorkloadImageInfo } from '../shared/model/run-record.ts';
import { spawnTimed } from './spawn-timed.ts';

// The workload as an image, built on the host with no registry and no network: the
// bundle's rootfs (the same static workload oci-direct runs) becomes the single layer of a
// docker-archive tarball, which `docker load`, `ctr images import` and `skopeo copy` (into
// cri-o's containers/storage) accept. One
// archive for both daemons means one image config, so Docker's image ID and containerd's
// config digest are the same sha256 — the record proves both methods ran the same bytes.
//
// Every byte is deterministic (sorted entries, uid/gid 0, mtime 0): the same workload
// gives the same digests on every host and every run, so the tag can be content-addressed.

export interface BuiltImage {
  archive: string;
  /** Short name, as docker shows it. */
  ref: string;
  configDigest: string;
  layerDiffId: string;
  bundleDigest: string;
  command: string[];
  archiveSha256: string;
}

/** The image is named after its workload: runtime-lab/hello, runtime-lab/perf… */
const REPOSITORY_PREFIX = 'runtime-lab/';
const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** Writes the docker-archive for `bundle` into `outDir` and describes it. */
export function buildWorkloadImage(bundle: BundleInfo, outDir: string): BuiltImage {
  const spec = JSON.parse(readFileSync(path.join(bundle.path, 'config.json'), 'utf8')) as { process?: { args?: unknown } };
  const command = spec.process?.args;
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
    throw new Error(`the bundle at ${bundle.path} has no process.args to use as the image's command`);
  }
  const layer = tar(rootfsEntries(path.join(bundle.path, 'rootfs')));
  const layerHex = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: goArch(process.arch),
      os: 'linux',
      config: { Cmd: command, Env: ENV, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
      history: [{ created_by: `runtime-lab: rootfs of the ${bundle.workload} bundle ${bundle.digest} (${bundle.builtWith})` }],
    }),
  );
  const configHex = sha256(config);
  const ref = `${REPOSITORY_PREFIX}${bundle.workload}:${configHex.slice(0, 12)}`;
  const manifest = Buffer.from(JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [ref], Layers: [`${layerHex}/layer.tar`] }]));
  const archive = tar([
    { name: `${layerHex}/`, mode: 0o755, kind: 'dir' },
    { name: `${layerHex}/layer.tar`, mode: 0o644, kind: 'file', data: layer },
    { name: `${configHex}.json`, mode: 0o644, kind: 'file', data: config },
    { name: 'manifest.json', mode: 0o644, kind: 'file', data: manifest },
  ]);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${bundle.workload}-image.tar`);
  writeFileSync(file, archive);
  return {
    archive: file,
    ref,
    configDigest: `sha256:${configHex}`,
    layerDiffId: `sha256:${layerHex}`,
    bundleDigest: bundle.digest,
    command: command as string[],
    archiveSha256: sha256(archive),
  };
}

/** containerd's name for a docker-style short reference. */
export function containerdRef(ref: string): string {
  return ref.includes('/') && ref.split('/')[0]!.includes('.') ? ref : `docker.io/${ref}`;
}

export interface ImportOptions {
  timeoutMs: number;
  scratchDir: string;
  signal?: AbortSignal;
}

/** `ctr images import` into the run's namespace, unpacked for `snapshotter`; checks the config digest. */
export async function importIntoContainerd(ctr: readonly string[], image: BuiltImage, snapshotter: string, options: ImportOptions): Promise<WorkloadImageInfo> {
  const imported = await spawnTimed([...ctr, 'images', 'import', '--snapshotter', snapshotter, image.archive], options);
  if (imported.exitCode !== 0) throw new Error(`ctr images import failed: ${describe(imported)}`);
  const ref = containerdRef(image.ref);
  const listed = await spawnTimed([...ctr, 'images', 'ls'], options);
  if (listed.exitCode !== 0) throw new Error(`ctr images ls failed: ${describe(listed)}`);
  const line = listed.stdout.split('\n').find((l) => l.split(/\s+/)[0] === ref);
  const manifestDigest = line?.split(/\s+/).find((field) => /^sha256:[0-9a-f]{64}$/.test(field)) ?? null;
  if (!manifestDigest) throw new Error(`ctr images import reported success but ${ref} is not listed`);
  const content = await spawnTimed([...ctr, 'content', 'get', manifestDigest], options);
  let configDigest: unknown;
  try {
    configDigest = (JSON.parse(content.stdout) as { config?: { digest?: unknown } }).config?.digest;
  } catch {
    configDigest = undefined;
  }
  if (configDigest !== image.configDigest) {
    throw new Error(`${ref} in containerd has config ${String(configDigest)}, not the workload's ${image.configDigest}`);
  }
  return { ...describeImage(image, ref), importedWith: `ctr images import --snapshotter ${snapshotter}`, manifestDigest };
}

/** `docker load`; checks that the image ID is the config digest. */
export async function importIntoDocker(docker: readonly string[], image: BuiltImage, options: ImportOptions): Promise<WorkloadImageInfo> {
  const loaded = await spawnTimed([...docker, 'load', '-i', image.archive], options);
  if (loaded.exitCode !== 0) throw new Error(`docker load failed: ${describe(loaded)}`);
  const inspected = await spawnTimed([...docker, 'image', 'inspect', '--format', '{{.Id}}', image.ref], options);
  const id = inspected.stdout.trim();
  if (inspected.exitCode !== 0 || id !== image.configDigest) {
    throw new Error(`${image.ref} in dockerd has ID ${id || describe(inspected)}, not the workload's ${image.configDigest}`);
  }
  return { ...describeImage(image, image.ref), importedWith: 'docker load', manifestDigest: null };
}

/** A containers/storage image store (cri-o's, podman's): driver null means storage.conf's. */
export interface ContainersStore {
  driver: string | null;
  root: string;
  runroot: string;
}

/** skopeo's name of `ref` in `store`: containers-storage:[driver@root+runroot]ref. */
export function containersStorageRef(store: ContainersStore, ref: string): string {
  return `containers-storage:[${store.driver ? `${store.driver}@` : ''}${store.root}+${store.runroot}]${ref}`;
}

/**
 * `skopeo copy` of the archive into containers/storage under `name` (cri-o has no import
 * of its own); checks that the stored manifest names the workload's config digest.
 */
export async function importIntoContainersStorage(image: BuiltImage, store: ContainersStore, options: ImportOptions, name = containerdRef(image.ref)): Promise<WorkloadImageInfo> {
  const destination = containersStorageRef(store, name);
  const copied = await spawnTimed(['skopeo', 'copy', '--quiet', `docker-archive:${image.archive}`, destination], options);
  if (copied.exitCode !== 0) throw new Error(`skopeo copy into ${destination} failed: ${describe(copied)}`);
  const inspected = await spawnTimed(['skopeo', 'inspect', '--raw', destination], options);
  let configDigest: unknown;
  try {
    configDigest = (JSON.parse(inspected.stdout) as { config?: { digest?: unknown } }).config?.digest;
  } catch {
    configDigest = undefined;
  }
  if (inspected.exitCode !== 0 || configDigest !== image.configDigest) {
    throw new Error(`${destination} has config ${String(configDigest ?? describe(inspected))}, not the workload's ${image.configDigest}`);
  }
  const manifestDigest = `sha256:${sha256(Buffer.from(inspected.stdout))}`;
  return { ...describeImage(image, name), importedWith: `skopeo copy to ${destination.slice(0, destination.indexOf(']') + 1)}`, manifestDigest };
}

function describeImage(image: BuiltImage, ref: string): Omit<WorkloadImageInfo, 'importedWith' | 'manifestDigest'> {
  const { configDigest, layerDiffId, bundleDigest, command, archiveSha256 } = image;
  return { ref, configDigest, layerDiffId, bundleDigest, command, archiveSha256 };
}

function describe(result: { exitCode: number | null; timedOut: boolean; stderr: string; stdout: string; spawnError: string | null }): string {
  if (result.spawnError) return result.spawnError;
  if (result.timedOut) return 'timed out';
  return (result.stderr.trim() || result.stdout.trim() || `exit ${String(result.exitCode)}`).slice(0, 2000);
}

function goArch(arch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

interface TarEntry {
  name: string;
  mode: number;
  kind: 'file' | 'dir' | 'symlink';
  data?: Buffer;
  linkTarget?: string;
}

/** The rootfs as tar entries, in name order, without the owner or times of the files on disk. */
function rootfsEntries(rootfs: string, prefix = ''): TarEntry[] {
  const entries: TarEntry[] = [];
  const names = readdirSync(path.join(rootfs, prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const relative = prefix ? `${prefix}/${name}` : name;
    const full = path.join(rootfs, relative);
    const stat = lstatSync(full);
    const mode = stat.mode & 0o7777;
    if (stat.isDirectory()) {
      entries.push({ name: `${relative}/`, mode, kind: 'dir' }, ...rootfsEntries(rootfs, relative));
    } else if (stat.isSymbolicLink()) {
      entries.push({ name: relative, mode, kind: 'symlink', linkTarget: readlinkSync(full) });
    } else if (stat.isFile()) {
      entries.push({ name: relative, mode, kind: 'file', data: readFileSync(full) });
    } else {
      throw new Error(`${full}: only files, folders and symlinks can go into the workload image`);
    }
  }
  return entries;
}

/** A POSIX ustar archive: 512-byte headers, data padded to 512, two zero blocks at the end. */
function tar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.kind === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    blocks.push(tarHeader(entry, data.length));
    if (data.length > 0) {
      blocks.push(data);
      blocks.push(Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function tarHeader(entry: TarEntry, size: number): Buffer {
  const header = Buffer.alloc(512);
  let name = entry.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long path at a slash: up to 155 bytes of prefix, up to 100 of name.
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`path too long for the workload image: ${entry.name}`);
  }
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write(name, 0, 100, 'utf8');
  header.write(octal(entry.mode, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii'); // mtime
  header.write('        ', 148, 'ascii'); // checksum placeholder: eight spaces
  header.write({ file: '0', dir: '5', symlink: '2' }[entry.kind], 156, 'ascii');
  if (entry.linkTarget) header.write(entry.linkTarget, 157, 100, 'utf8');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}
