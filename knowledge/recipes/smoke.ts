import type { StepInput } from '../schema.ts';

// The smoke tests that prove a runtime works through each method: the test bundle's
// "Hello" printed through the runtime itself, through ctr and through docker. Each
// removes what a previous attempt left under the same name first, so a retry after an
// auto-fix starts clean.

const ID = (runtime: string, method: string) => `rlab-verify-${runtime}-${method}`;

/**
 * `RUNTIME [GLOBAL FLAGS] run --bundle B ID` on the test bundle. `leftovers` is shell that
 * kills what an unfinished earlier attempt left under the same ID ($containerId).
 */
export function directRun(runtime: string, binary: string, globalFlags = '', timeoutMs = 60_000, leftovers = ''): StepInput {
  const id = ID(runtime, 'direct');
  const call = `${binary}${globalFlags ? ` ${globalFlags}` : ''}`;
  const cleanup = `${leftovers ? `containerId=${id}\n${leftovers.trim()}\n` : ''}${call} delete --force ${id} >/dev/null 2>&1`;
  return {
    id: 'run-direct',
    title: `Run the test bundle with ${runtime}`,
    why: `Calls ${runtime} directly on an OCI bundle: the method with the fewest layers.`,
    apply: [{ script: `${cleanup}\n${call} run --bundle "$bundleDir" ${id}` }],
    onCancel: [{ script: `${cleanup}\ntrue` }],
    needsRoot: true,
    timeoutMs,
    expectOutput: 'Hello',
  };
}

/** ctr run on the bundle's rootfs (no image needed), with a runtime binary or a shim. */
export function ctrRun(runtime: string, runtimeFlags: string, onFailure = ''): StepInput {
  const id = ID(runtime, 'ctr');
  const ctr = 'ctr --address "$containerdAddress" --namespace runtime-lab';
  return {
    id: 'run-ctr',
    title: `Run a container with ${runtime} through containerd (ctr)`,
    why: 'Proves containerd can start this runtime; ctr is the thinnest client of containerd.',
    when: { planIncludes: ['containerd'] },
    apply: [{
      script: `${ctr} task delete --force ${id} >/dev/null 2>&1
${ctr} container rm ${id} >/dev/null 2>&1
${ctr} run --rm --fifo-dir "$containerdState/fifo" ${runtimeFlags} --rootfs "$bundleDir/rootfs" ${id} /bin/busybox echo Hello
rc=$?
${onFailure ? `if [ "$rc" -ne 0 ]; then\n  taskId=${id}\n${onFailure}\nfi\n` : ''}exit "$rc"`,
    }],
    needsRoot: true,
    timeoutMs: 60_000,
    expectOutput: 'Hello',
  };
}

/** docker run of the test image with a registered runtime. */
export function dockerRun(runtime: string): StepInput {
  return {
    id: 'run-docker',
    title: `Run a container with ${runtime} through Docker`,
    why: 'Proves dockerd knows the runtime (daemon.json) and can start it.',
    when: { planIncludes: ['docker'] },
    apply: [{ script: `docker -H "unix://$dockerSocket" run --rm --network none --runtime ${runtime} rlab-busybox:latest /bin/busybox echo Hello` }],
    needsRoot: true,
    timeoutMs: 90_000,
    expectOutput: 'Hello',
  };
}
