import { z } from 'zod';

// How Runtime Lab logs in. Secrets (password, key passphrase) are never part of these
// records: they live encrypted in the secret vault, keyed by host id, or in memory only.
export const HostAuth = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('key'),
    keyPath: z.string().min(1),
    rememberSecret: z.boolean().default(false),
  }),
  z.object({ method: z.literal('agent') }),
  z.object({ method: z.literal('password'), rememberSecret: z.boolean().default(false) }),
]);
export type HostAuth = z.infer<typeof HostAuth>;

export const SshEndpoint = z.object({
  host: z.string().min(1).max(255).regex(/^[^\s@/]+$/, 'a host name or address, without spaces, @ or /'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).max(64).regex(/^[^\s@:/]+$/, 'a user name, without spaces, @, : or /'),
  auth: HostAuth,
  // "user@host:port" of a jump host, as in ssh's ProxyJump; it authenticates with the same method.
  proxyJump: z.string().min(1).optional(),
});
export type SshEndpoint = z.infer<typeof SshEndpoint>;

export const HostTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }),
  z.object({ kind: z.literal('ssh'), ssh: SshEndpoint }),
]);
export type HostTarget = z.infer<typeof HostTarget>;

export const HostId = z.string().regex(/^[a-z0-9-]{6,64}$/);

/** What the renderer sends to create or edit a host. `secret` is the password or key passphrase. */
export const HostDraft = z.object({
  name: z.string().trim().min(1).max(100),
  target: HostTarget,
  secret: z.string().max(4096).optional(),
});
export type HostDraft = z.infer<typeof HostDraft>;

/** A saved host as stored on disk (no secrets). */
export const HostRecord = z.object({
  id: HostId,
  name: z.string(),
  target: HostTarget,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type HostRecord = z.infer<typeof HostRecord>;

/** A saved host as the renderer sees it: the record plus whether a secret is remembered. */
export const HostView = HostRecord.extend({ hasStoredSecret: z.boolean() });
export type HostView = z.infer<typeof HostView>;

export function describeTarget(target: HostTarget): string {
  if (target.kind === 'local') return 'this computer';
  const { user, host, port } = target.ssh;
  return `${user}@${host}${port === 22 ? '' : `:${port}`}`;
}
