import type { HostLink } from '../services/bench/bench-runner.ts';
import type { Transport } from '../services/transport/transport.ts';
import { connectFromFlags, type ConnectionFlags } from './inspect-command.ts';

/**
 * Connects to the CLI's target and gives the bench runner a link that reconnects with the
 * same flags (and the secret read from stdin the first time) after a dropped connection.
 */
export async function openCliHostLink(targetText: string, flags: ConnectionFlags) {
  const opened = await connectFromFlags(targetText, flags);
  let transport: Transport | null = opened.transport;
  const link: HostLink = {
    hostId: `cli:${opened.label}`,
    hostName: opened.label,
    async transport() {
      transport ??= (await connectFromFlags(targetText, { ...flags, acceptNewHostKey: false, reuseSecret: opened.secret })).transport;
      return transport;
    },
    async reset() {
      const old = transport;
      transport = null;
      await old?.close();
    },
  };
  return { link, label: opened.label, firstTransport: opened.transport };
}
