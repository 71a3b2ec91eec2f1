import type { HostTarget } from '../../shared/model/host.ts';
import { LabError } from '../../shared/lab-error.ts';
import type { Transport } from './transport.ts';
import type { KnownHostsFile } from './known-hosts.ts';
import { connectSsh } from './ssh-transport.ts';
import { createLocalTransport } from './local-transport.ts';

export interface OpenTransportOptions {
  knownHosts: KnownHostsFile;
  secret?: string;
  acceptNewHostKey?: boolean;
}

// The one place a HostTarget becomes a live Transport, for the app and the CLI alike.
export async function openTransport(target: HostTarget, options: OpenTransportOptions): Promise<Transport> {
  if (target.kind === 'local') {
    if (process.platform !== 'linux') {
      throw new LabError('unsupported', `This computer runs ${process.platform}; container runtimes need a Linux lab host. Use an SSH target.`);
    }
    return createLocalTransport();
  }
  return connectSsh({
    endpoint: target.ssh,
    knownHosts: options.knownHosts,
    ...(options.secret !== undefined ? { secret: options.secret } : {}),
    ...(options.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
  });
}
