import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { BundleInfo } from '../../shared/model/run-record.ts';
import { compileStatic, isStaticElf } from '../bundle.ts';
import { spawnTimed } from '../spawn-timed.ts';
import { buildWorkloadImage, containerdRef, importIntoContainerd, importIntoContainersStorage, type BuiltImage, type ContainersStore, type ImportOptions } from '../workload-image.ts';

// The pod sandbox ("pause") image, made on the host with no registry: a static C program
// that sleeps until SIGINT/SIGTERM (what Kubernetes' pause does), or a static busybox
// `sleep` when there is no gcc, as the single layer of an image built like the workload's.
//
// Naming (decision): the CRI plugin starts every sandbox from the image its config names
// (sandbox_image, read from Status). An image already there under that name is used as it
// is — Runtime Lab never replaces the host's pause image. When it is missing (an offline
// host cannot pull it), Runtime Lab's pause is imported as runtime-lab/pause:<digest> and
// tagged with the configured name (and labelled io.runtime-lab.pause), so the plugin finds
// it without any config change.

export const PAUSE_C = '#include <signal.h>\n#include <unistd.h>\nstatic void done(int s){(void)s;_exit(0);}\n' +
  'int main(){signal(SIGINT,done);signal(SIGTERM,done);for(;;)pause();}\n';

/** Label on a sandbox image Runtime Lab imported under the configured name. */
export const PAUSE_LABEL = 'io.runtime-lab.pause';

export interface PauseImage {
  /** The configured sandbox image name. */
  ref: string;
  /** found: the host already had it; imported: Runtime Lab built it and tagged it with `ref`. */
  origin: 'found' | 'imported';
  /** How it was built (imported only). */
  builtWith: string | null;
  configDigest: string | null;
}

/** Builds the pause "bundle" (rootfs + process.args) that buildWorkloadImage turns into an image. */
export function preparePauseBundle(dir: string, gcc = 'gcc'): BundleInfo {
  rmSync(dir, { recursive: true, force: true });
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  const binary = path.join(rootfs, 'pause');
  const compiled = compileStatic(gcc, PAUSE_C, path.join(dir, 'pause.c'), binary);
  let args: string[];
  let builtWith: string;
  let program: string;
  if (compiled.failure === null) {
    args = ['/pause'];
    builtWith = compiled.builtWith;
    program = binary;
  } else {
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((file) => spawnSync(file, ['true']).status === 0 && isStaticElf(file));
    if (!busybox) {
      throw new Error(`cannot make the pause image: ${compiled.failure}, and there is no static busybox`);
    }
    program = path.join(rootfs, 'busybox');
    copyFileSync(busybox, program);
    chmodSync(program, 0o755);
    args = ['/busybox', 'sleep', '2147483647'];
    builtWith = `busybox sleep (${busybox}; ${compiled.failure})`;
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ process: { args } }));
  const digest = createHash('sha256').update(JSON.stringify(args)).update(readFileSync(program)).digest('hex');
  return { workload: 'pause', builtWith, digest, path: dir };
}

/**
 * Makes sure `sandboxImage` exists in containerd's k8s.io namespace (see the naming decision
 * above). `present` is what the CRI endpoint's ImageStatus said before.
 */
export async function ensurePauseImage(ctr: readonly string[], sandboxImage: string, present: boolean, snapshotter: string, workDir: string, options: ImportOptions): Promise<PauseImage> {
  if (present) return alreadyThere(sandboxImage);
  const { bundle, built } = buildPauseImage(workDir);
  const imported = await importIntoContainerd(ctr, built, snapshotter, options);
  const tagged = await spawnTimed([...ctr, 'images', 'tag', imported.ref, normalizedRef(sandboxImage)], options);
  if (tagged.exitCode !== 0) throw new Error(`ctr images tag ${imported.ref} ${sandboxImage} failed: ${tagged.stderr.trim() || tagged.spawnError || `exit ${String(tagged.exitCode)}`}`);
  // The configured name now holds Runtime Lab's pause: labelled so that anyone can tell (ctr -n k8s.io images ls).
  await spawnTimed([...ctr, 'images', 'label', normalizedRef(sandboxImage), `${PAUSE_LABEL}=${bundle.builtWith}`], options);
  return { ref: sandboxImage, origin: 'imported', builtWith: bundle.builtWith, configDigest: imported.configDigest };
}

/**
 * The same for cri-o: Runtime Lab's pause is copied into its containers/storage under the
 * configured name. containers/storage has no labels; the log and the environment say that
 * Runtime Lab built it.
 */
export async function ensureCrioPauseImage(store: ContainersStore, sandboxImage: string, present: boolean, workDir: string, options: ImportOptions): Promise<PauseImage> {
  if (present) return alreadyThere(sandboxImage);
  const { bundle, built } = buildPauseImage(workDir);
  const imported = await importIntoContainersStorage(built, store, options, normalizedRef(sandboxImage));
  return { ref: sandboxImage, origin: 'imported', builtWith: bundle.builtWith, configDigest: imported.configDigest };
}

const alreadyThere = (ref: string): PauseImage => ({ ref, origin: 'found', builtWith: null, configDigest: null });

function buildPauseImage(workDir: string): { bundle: BundleInfo; built: BuiltImage } {
  const bundle = preparePauseBundle(path.join(workDir, 'pause-bundle'));
  return { bundle, built: buildWorkloadImage(bundle, path.join(workDir, 'pause-image')) };
}

/** containerd's full name of a reference: pause:3.6 → docker.io/library/pause:3.6, x/pause:1 → docker.io/x/pause:1. */
export function normalizedRef(ref: string): string {
  return ref.includes('/') ? containerdRef(ref) : `docker.io/library/${ref}`;
}
