import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BundleInfo } from '../shared/model/run-record.ts';
import { compileStatic, prepareBundle } from './bundle.ts';

// The memory plans' workload: the seed's loop.c, which prints a counter forever, so the
// container stays up. The bundle is the hello bundle's spec (same mounts, namespaces,
// read-only root) with loop as the process. A host without gcc falls back to a static
// busybox shell loop.

export const LOOP_C = '#include <stdio.h>\nint main(){unsigned long i=0;for(;;)printf("%lu\\n",i++);}\n';

/**
 * Where loop's output goes. The runtime is started detached without a terminal, so the
 * container inherits the runtime's own stdio ("pass-through"); the agent gives it
 * /dev/null. No shim, log file or pipe copies the output, so none is in the footprint.
 */
export const LOOP_OUTPUT = 'stdout and stderr: /dev/null inherited through the runtime (detached, no terminal); no shim or log copies the output';

export interface LoopBundle {
  info: BundleInfo;
  warnings: string[];
}

export function prepareLoopBundle(bundleDir: string, gcc = 'gcc'): LoopBundle {
  const base = prepareBundle(bundleDir, { gcc });
  const root = base.info.path;
  const rootfs = path.join(root, 'rootfs');
  const warnings = [...base.warnings];
  const configFile = path.join(root, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { process: { args: string[] }; root: { path: string } };

  let args: string[];
  let builtWith: string;
  const binary = path.join(rootfs, 'loop');
  const compiled = compileStatic(gcc, LOOP_C, path.join(root, 'loop.c'), binary);
  if (compiled.failure === null) {
    args = ['/loop'];
    builtWith = compiled.builtWith;
    rmSync(path.join(rootfs, 'hello'), { force: true });
  } else if (config.process.args[0] === '/busybox') {
    warnings.push(`${compiled.failure}; using a busybox shell loop`);
    args = ['/busybox', 'sh', '-c', 'i=0; while :; do echo $i; i=$((i+1)); done'];
    builtWith = 'busybox sh -c "while :; do echo $i; …"';
  } else {
    throw new Error(`cannot build loop.c: ${compiled.failure}`);
  }
  config.process.args = args;
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  // As for hello: the digest names the workload, not the folder it lives in.
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ ...config, root: { ...config.root, path: 'rootfs' } }));
  const program = args[0] === '/loop' ? binary : path.join(rootfs, 'busybox');
  hash.update(readFileSync(program));
  return { info: { workload: 'loop', builtWith, digest: hash.digest('hex'), path: root }, warnings };
}
