import { Command, Option } from 'commander';
import { LabError } from '../shared/lab-error.ts';
import { dataFiles, defaultDataDir } from '../services/app-paths.ts';
import { inspectCommand } from './inspect-command.ts';

// `runtime-lab …`: the same services as the desktop app, for terminals and scripts.
// Every failure ends with one line "runtime-lab: <reason>" and a non-zero exit status.

function withConnectionOptions(command: Command): Command {
  return command
    .option('--identity <file>', 'private key file for SSH (its passphrase, if any, comes from --password-stdin)')
    .option('--known-hosts <file>', "known_hosts file to verify the host key against (default: Runtime Lab's own)", dataFiles(defaultDataDir()).knownHosts)
    .option('--accept-new-host-key', 'trust and remember the host key of a host never seen before (a changed key is always refused)')
    .option('--password-stdin', 'read the SSH password (or the key passphrase with --identity) from standard input');
}

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

  return program;
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
