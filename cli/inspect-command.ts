import { describeTarget } from '../shared/model/host.ts';
import { inspectHost } from '../services/inspect/inspect-host.ts';
import { KnownHostsFile } from '../services/transport/known-hosts.ts';
import { openTransport } from '../services/transport/open-transport.ts';
import { parseTarget } from './parse-target.ts';
import { formatFacts } from './format-facts.ts';
import { readSecretFromStdin } from './read-stdin.ts';

export interface ConnectionFlags {
  identity?: string;
  knownHosts: string;
  acceptNewHostKey?: boolean;
  passwordStdin?: boolean;
}

/** Opens the target; `reuseSecret` reconnects with the secret read from stdin the first time. */
export async function connectFromFlags(targetText: string, flags: ConnectionFlags & { reuseSecret?: string | undefined }) {
  const target = parseTarget(targetText, { ...(flags.identity ? { identity: flags.identity } : {}), secretFromStdin: Boolean(flags.passwordStdin) });
  const secret = flags.reuseSecret ?? (flags.passwordStdin ? await readSecretFromStdin() : undefined);
  const transport = await openTransport(target, {
    knownHosts: new KnownHostsFile(flags.knownHosts),
    ...(secret !== undefined ? { secret } : {}),
    acceptNewHostKey: Boolean(flags.acceptNewHostKey),
  });
  return { target, transport, label: describeTarget(target), secret };
}

export async function inspectCommand(targetText: string, flags: ConnectionFlags & { json?: boolean }, out: (text: string) => void): Promise<void> {
  const { transport, label } = await connectFromFlags(targetText, flags);
  try {
    const facts = await inspectHost(transport);
    out(flags.json ? `${JSON.stringify(facts, null, 2)}\n` : formatFacts(label, facts));
  } finally {
    await transport.close();
  }
}
