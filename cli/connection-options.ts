import type { Command } from 'commander';
import { dataFiles, defaultDataDir } from '../services/app-paths.ts';

/** The flags every command that reaches a host takes (see ConnectionFlags). */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--identity <file>', 'private key file for SSH (its passphrase, if any, comes from --password-stdin)')
    .option('--known-hosts <file>', "known_hosts file to verify the host key against (default: Runtime Lab's own)", dataFiles(defaultDataDir()).knownHosts)
    .option('--accept-new-host-key', 'trust and remember the host key of a host never seen before (a changed key is always refused)')
    .option('--password-stdin', 'read the SSH password (or the key passphrase with --identity) from standard input');
}
