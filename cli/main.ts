import { Command, InvalidArgumentError, Option } from 'commander';
import { LabError } from '../shared/lab-error.ts';
import { withConnectionOptions } from './connection-options.ts';
import { withDaemonOptions } from './daemon-options.ts';
import { registerSetupCommands } from './setup-commands.ts';
import { inspectCommand } from './inspect-command.ts';
import { benchCommand } from './bench-command.ts';
import { MEMORY_METHODS, memoryCommand, parseContainerSteps } from './memory-command.ts';
import { PERF_METHODS, perfCommand } from './perf-command.ts';
import { DEFAULT_MEMORY_SETTLE_MS, DEFAULT_PERF, MEASUREMENT_METHODS } from '../shared/model/plan.ts';

// `runtime-lab …`: the same services as the desktop app, for terminals and scripts.
// Every failure ends with one line "runtime-lab: <reason>" and a non-zero exit status.

export function buildProgram(out: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const program = new Command()
    .name('runtime-lab')
    .description('Compare container runtimes fairly on a Linux lab host.\nTARGET is "local" (this computer, Linux only) or ssh://user@host[:port].')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError();

  withConnectionOptions(
    program
      .command('inspect')
      .description('connect to a lab host and report what it can do for a runtime comparison: OS, kernel, CPU, memory, cgroup mode, KVM, vhost-vsock, Node, and every container runtime found with its version')
      .argument('<target>', 'local | ssh://user@host[:port]'),
  )
    .addOption(new Option('--json', 'print the facts as JSON'))
    .action(async (target: string, flags) => inspectCommand(target, flags, out));

  withDaemonOptions(withConnectionOptions(
    program
      .command('bench')
      .description('measure container startup on a lab host: each runtime on the same workload (OCI bundle, or the image made from it for ctr and docker), interleaved, with warm-ups; prints a summary table and stores the run with the app\'s results')
      .argument('<target>', 'local | ssh://user@host[:port]'),
  ))
    .addOption(
      new Option('--method <method>', 'how containers are started: the runtime on an OCI bundle, `ctr run --rm`, `docker run --rm --runtime`, or the CRI pod lifecycle (RunPodSandbox … RemovePodSandbox, each call timed; --runtime names the handler)')
        .choices([...MEASUREMENT_METHODS])
        .default('oci-direct'),
    )
    .option('--runtime <name>', 'a runtime found on the host (runc, crun, runsc, …) or NAME=/path/to/binary; repeat for each', collect, [])
    .option('--iterations <n>', 'measured iterations per runtime', positiveInt, 30)
    .option('--warmup <n>', 'warm-up iterations per runtime, stored but excluded from statistics', nonNegativeInt, 3)
    .addOption(new Option('--order <order>', 'interleaving of runtimes').choices(['round-robin', 'random']).default('round-robin'))
    .option('--seed <n>', 'seed of the random order (recorded with the run)', nonNegativeInt)
    .option('--timeout <ms>', 'per-iteration timeout; a hung iteration is killed and recorded', positiveInt, 30_000)
    .option('--csv <file>', 'write every sample as CSV')
    .option('--json <file>', 'write the run (plan, environment, summaries, samples) as JSON')
    .action(async (target: string, flags) => {
      if (flags.runtime.length === 0) throw new LabError('invalid-input', 'Name at least one --runtime.');
      const code = await benchCommand(target, flags, out, (t) => process.stderr.write(t));
      if (code !== 0) throw new LabError('command-failed', 'benchmark failed');
    });

  withDaemonOptions(withConnectionOptions(
    program
      .command('memory')
      .description('measure memory footprint on a lab host: the seed\'s loop.c kept running in N containers per runtime, N stepping up; per step the summed PSS of every process the runtime added (shims, runsc sandboxes and gofers, the workloads) and the drop of MemAvailable, per container; everything is deleted afterwards')
      .argument('<target>', 'local | ssh://user@host[:port]'),
  ))
    .addOption(
      new Option('--method <method>', 'how containers are started: the runtime on an OCI bundle (run --detach), `ctr run -d`, or `docker run -d --runtime`')
        .choices([...MEMORY_METHODS])
        .default('oci-direct'),
    )
    .option('--runtime <name>', 'a runtime found on the host (runc, crun, runsc, …) or NAME=/path/to/binary; repeat for each', collect, [])
    .option('--containers <list>', 'the steps: containers running at once, e.g. 1,5,10,20', parseContainerSteps, [1, 5, 10])
    .option('--settle <ms>', 'wait after the last container of a step started, before measuring', nonNegativeInt, DEFAULT_MEMORY_SETTLE_MS)
    .option('--safety-margin <MiB>', 'MemAvailable that must remain; a step that would go below is refused (default: max of 512 MiB and 10% of RAM)', nonNegativeInt)
    .option('--timeout <ms>', 'per runtime command; a hung one is killed and its step recorded as failed', positiveInt, 30_000)
    .option('--csv <file>', 'write every step as CSV')
    .option('--json <file>', 'write the run and its steps (with the processes counted) as JSON')
    .action(async (target: string, flags) => {
      const code = await memoryCommand(target, flags, out, (t) => process.stderr.write(t));
      if (code !== 0) throw new LabError('command-failed', 'memory measurement failed');
    });

  withDaemonOptions(withConnectionOptions(
    program
      .command('perf')
      .description('measure performance inside the container: the same static workload in every runtime times a CPU loop, getpid syscalls and a write + fsync of a file in the container\'s root filesystem, each with the monotonic clock inside; prints per runtime the median of each kernel and of the whole container life, and stores the run with the app\'s results')
      .argument('<target>', 'local | ssh://user@host[:port]'),
  ))
    .addOption(
      new Option('--method <method>', 'how containers are started: the runtime on an OCI bundle, `ctr run --rm`, or `docker run --rm --runtime`')
        .choices([...PERF_METHODS])
        .default('oci-direct'),
    )
    .option('--runtime <name>', 'a runtime found on the host (runc, crun, runsc, …) or NAME=/path/to/binary; repeat for each', collect, [])
    .option('--iterations <n>', 'measured iterations per runtime', positiveInt, 10)
    .option('--warmup <n>', 'warm-up iterations per runtime, stored but excluded from statistics', nonNegativeInt, 1)
    .addOption(new Option('--order <order>', 'interleaving of runtimes').choices(['round-robin', 'random']).default('round-robin'))
    .option('--seed <n>', 'seed of the random order (recorded with the run)', nonNegativeInt)
    .option('--cpu-loops <n>', 'cpu kernel: iterations of the integer loop', positiveInt, DEFAULT_PERF.cpuLoops)
    .option('--syscalls <n>', 'syscalls kernel: getpid calls (runsc on ptrace takes tens of µs per call)', positiveInt, DEFAULT_PERF.syscalls)
    .option('--io-bytes <n>', 'io kernel: bytes written in 64 KiB writes, then fsynced (at least 65536)', positiveInt, DEFAULT_PERF.ioBytes)
    .option('--timeout <ms>', 'per iteration, kernels included; a hung iteration is killed and recorded', positiveInt, 300_000)
    .option('--csv <file>', 'write every sample (the kernels\' with their step) as CSV')
    .option('--json <file>', 'write the run (plan, environment, summaries, samples) as JSON')
    .action(async (target: string, flags) => {
      if (flags.runtime.length === 0) throw new LabError('invalid-input', 'Name at least one --runtime.');
      const code = await perfCommand(target, flags, out, (t) => process.stderr.write(t));
      if (code !== 0) throw new LabError('command-failed', 'performance measurement failed');
    });

  registerSetupCommands(program, out);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return n;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    const error = LabError.from(err);
    process.stderr.write(`runtime-lab: ${error.message.split('\n').join(' ')}\n`);
    return 1;
  }
}
