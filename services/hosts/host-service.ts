import { type HostDraft, type HostRecord, type HostView } from '../../shared/model/host.ts';
import type { HostFacts } from '../../shared/model/host-facts.ts';
import type { ConnectResult, LabEvent } from '../../shared/contract/ipc-contract.ts';
import { LabError } from '../../shared/lab-error.ts';
import type { Transport } from '../transport/transport.ts';
import { openTransport } from '../transport/open-transport.ts';
import { KnownHostsFile } from '../transport/known-hosts.ts';
import { inspectHost } from '../inspect/inspect-host.ts';
import { HostStore } from './host-store.ts';
import { SecretVault, type SecretEncryptor } from './secret-vault.ts';
import { dataFiles } from '../app-paths.ts';

interface PendingHostKey {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  keyBase64: string;
}

export interface HostServiceOptions {
  dataDir: string;
  encryptor: SecretEncryptor | null;
  emit?: (event: LabEvent) => void;
}

// Saved hosts, their secrets, their live connections and their last inspection.
// Secrets flow one way: in from the renderer or CLI, out only to ssh2.
export class HostService {
  private readonly store: HostStore;
  private readonly vault: SecretVault;
  readonly knownHosts: KnownHostsFile;
  private readonly emit: (event: LabEvent) => void;
  /** Secrets typed in this session but not remembered: memory only, gone on quit. */
  private readonly sessionSecrets = new Map<string, string>();
  private readonly pendingKeys = new Map<string, PendingHostKey>();
  private readonly connections = new Map<string, Transport>();
  private readonly facts = new Map<string, HostFacts>();

  constructor(options: HostServiceOptions) {
    const files = dataFiles(options.dataDir);
    this.store = new HostStore(files.hosts);
    this.vault = new SecretVault(files.secrets, options.encryptor);
    this.knownHosts = new KnownHostsFile(files.knownHosts);
    this.emit = options.emit ?? (() => {});
  }

  /** Files found unreadable at start and moved aside, for the UI to mention. */
  notices(): string[] {
    return [this.store.movedAside, this.vault.movedAside]
      .filter((p): p is string => p !== undefined)
      .map((p) => `A damaged file was moved aside to ${p}; a fresh one was started.`);
  }

  get secretStorageAvailable(): boolean {
    return this.vault.available;
  }

  list(): HostView[] {
    return this.store.list().map((h) => this.view(h));
  }

  add(draft: HostDraft): HostView {
    this.checkTarget(draft);
    const record = this.store.add(draft);
    this.keepSecret(record, draft.secret);
    return this.view(record);
  }

  update(id: string, draft: HostDraft): HostView {
    this.checkTarget(draft);
    const record = this.store.update(id, draft);
    this.forgetConnection(id);
    if (draft.secret !== undefined) this.keepSecret(record, draft.secret);
    else if (!rememberSecretOf(record)) this.vault.remove(id);
    return this.view(record);
  }

  async remove(id: string): Promise<boolean> {
    await this.disconnect(id);
    this.vault.remove(id);
    this.sessionSecrets.delete(id);
    this.pendingKeys.delete(id);
    this.facts.delete(id);
    return this.store.remove(id);
  }

  async connect(id: string, secret?: string): Promise<ConnectResult> {
    const record = this.store.get(id);
    if (secret !== undefined) this.sessionSecrets.set(id, secret);
    this.emit({ type: 'host:connection', hostId: id, state: 'connecting' });
    let transport: Transport;
    try {
      transport = await this.openTransport(record);
    } catch (err) {
      this.emit({ type: 'host:connection', hostId: id, state: 'disconnected' });
      const labError = LabError.from(err);
      if (labError.code === 'host-key-unknown' && labError.details) {
        const d = labError.details;
        const pending: PendingHostKey = {
          host: String(d.host), port: Number(d.port), keyType: String(d.keyType),
          fingerprint: String(d.fingerprint), keyBase64: String(d.keyBase64),
        };
        this.pendingKeys.set(id, pending);
        return { status: 'host-key-unknown', keyType: pending.keyType, fingerprint: pending.fingerprint };
      }
      if (labError.code === 'secret-required') {
        this.sessionSecrets.delete(id);
        return { status: 'secret-required', prompt: labError.message };
      }
      // A rejected secret must not be offered again silently.
      if (labError.code === 'auth-password-rejected' || labError.code === 'key-passphrase-wrong') this.sessionSecrets.delete(id);
      throw labError;
    }
    if (secret !== undefined && rememberSecretOf(record)) this.vault.store(id, secret);
    this.connections.set(id, transport);
    void transport.closed.then(() => {
      if (this.connections.get(id) === transport) {
        this.connections.delete(id);
        this.emit({ type: 'host:connection', hostId: id, state: 'disconnected' });
      }
    });
    this.emit({ type: 'host:connection', hostId: id, state: 'connected' });
    const facts = await inspectHost(transport);
    this.facts.set(id, facts);
    return { status: 'connected', facts };
  }

  async trustHostKey(id: string, fingerprint: string): Promise<boolean> {
    const pending = this.pendingKeys.get(id);
    // Only the key the host actually presented, and only the fingerprint the user saw.
    if (!pending || pending.fingerprint !== fingerprint) return false;
    await this.knownHosts.add(pending.host, pending.port, pending.keyType, pending.keyBase64);
    this.pendingKeys.delete(id);
    return true;
  }

  lastFacts(id: string): HostFacts | null {
    this.store.get(id);
    return this.facts.get(id) ?? null;
  }

  /** The live connection to a host, opening it when needed (benchmarks and setup use this). */
  async transport(id: string): Promise<Transport> {
    const open = this.connections.get(id);
    if (open) return open;
    const result = await this.connect(id);
    if (result.status !== 'connected') {
      throw new LabError(result.status === 'host-key-unknown' ? 'host-key-unknown' : 'secret-required',
        result.status === 'host-key-unknown'
          ? `The host key of ${this.store.get(id).name} is not trusted yet: connect from the Hosts page first.`
          : result.prompt);
    }
    const transport = this.connections.get(id);
    if (!transport) throw new LabError('connection-lost', `The connection to ${this.store.get(id).name} closed right after opening.`);
    return transport;
  }

  async disconnect(id: string): Promise<void> {
    const transport = this.connections.get(id);
    this.connections.delete(id);
    if (transport) await transport.close();
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.connections.keys()].map((id) => this.disconnect(id)));
  }

  private forgetConnection(id: string): void {
    void this.disconnect(id);
    this.facts.delete(id);
    this.sessionSecrets.delete(id);
  }

  private openTransport(record: HostRecord): Promise<Transport> {
    const secret = this.sessionSecrets.get(record.id) ?? this.vault.read(record.id);
    return openTransport(record.target, { knownHosts: this.knownHosts, ...(secret !== undefined ? { secret } : {}) });
  }

  private checkTarget(draft: HostDraft): void {
    if (draft.target.kind === 'local' && process.platform !== 'linux') {
      throw new LabError('unsupported', `This computer runs ${process.platform}; container runtimes need a Linux lab host. Add one over SSH instead.`);
    }
  }

  private keepSecret(record: HostRecord, secret: string | undefined): void {
    if (secret === undefined || secret === '') return;
    if (rememberSecretOf(record)) this.vault.store(record.id, secret);
    else this.sessionSecrets.set(record.id, secret);
  }

  private view(record: HostRecord): HostView {
    return { ...record, hasStoredSecret: this.vault.has(record.id) };
  }

  get(id: string): HostView {
    return this.view(this.store.get(id));
  }
}

function rememberSecretOf(record: HostRecord): boolean {
  if (record.target.kind !== 'ssh') return false;
  const auth = record.target.ssh.auth;
  return auth.method !== 'agent' && auth.rememberSecret;
}
