import { create } from 'zustand';
import type { LabEvent, SshConfigCandidate } from '../../shared/contract/ipc-contract.ts';
import type { HostFacts } from '../../shared/model/host-facts.ts';
import type { HostDraft, HostView } from '../../shared/model/host.ts';
import type { LabErrorCode, LabErrorShape } from '../../shared/lab-error.ts';
import { asLabError, call } from '../lab-client.ts';

// Hosts, their connection state and their facts, plus the one modal question the connect
// flow may be asking (trust this key? what is the password?). Secrets never enter this
// store: a password typed into the prompt goes straight into the hosts:connect call.

export type ConnState =
  | 'idle'
  | 'connecting'
  | 'verify-key'
  | 'needs-secret'
  | 'connected'
  | 'disconnected'
  | 'refused'
  | 'failed';

export interface HostConn {
  state: ConnState;
  message?: string;
}

export type HostProblem =
  | { kind: 'host-key-changed'; message: string; details: LabErrorShape['details'] | undefined }
  | { kind: 'error'; code: LabErrorCode; message: string };

export type ConnectPrompt =
  | { kind: 'host-key'; hostId: string; keyType: string; fingerprint: string; busy: boolean; error: string | null }
  | { kind: 'secret'; hostId: string; prompt: string; busy: boolean; error: string | null };

const SECRET_REJECTED: readonly LabErrorCode[] = ['auth-password-rejected', 'key-passphrase-wrong'];

// Hosts with a connect call of ours in flight: their 'connecting'/'connected' events are
// echoes of that call, and the call's reply is the authority (events may arrive after it).
const inFlight = new Set<string>();

interface HostsState {
  hosts: HostView[];
  loaded: boolean;
  loadError: string | null;
  selectedId: string | null;
  conn: Record<string, HostConn>;
  facts: Record<string, HostFacts>;
  problems: Record<string, HostProblem>;
  prompt: ConnectPrompt | null;

  load(): Promise<void>;
  select(id: string | null): void;
  add(draft: HostDraft): Promise<HostView>;
  update(id: string, draft: HostDraft): Promise<HostView>;
  remove(id: string): Promise<void>;
  importSshConfig(path?: string): Promise<SshConfigCandidate[]>;
  loadFacts(id: string): Promise<void>;
  connect(id: string, secret?: string): Promise<void>;
  acceptHostKey(): Promise<void>;
  rejectHostKey(): void;
  submitSecret(secret: string): Promise<void>;
  cancelSecret(): void;
  disconnect(id: string): Promise<void>;
  dismissProblem(id: string): void;
  applyEvent(event: LabEvent): void;
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}

export const useHosts = create<HostsState>()((set, get) => {
  const setConn = (id: string, conn: HostConn) => set((s) => ({ conn: { ...s.conn, [id]: conn } }));

  return {
    hosts: [],
    loaded: false,
    loadError: null,
    selectedId: null,
    conn: {},
    facts: {},
    problems: {},
    prompt: null,

    async load() {
      try {
        const hosts = await call('hosts:list', {});
        set((s) => ({
          hosts,
          loaded: true,
          loadError: null,
          selectedId: s.selectedId && hosts.some((h) => h.id === s.selectedId) ? s.selectedId : (hosts[0]?.id ?? null),
        }));
        const selected = get().selectedId;
        if (selected) void get().loadFacts(selected);
      } catch (err) {
        set({ loaded: true, loadError: asLabError(err).message });
      }
    },

    select(id) {
      set({ selectedId: id });
      if (id && !get().facts[id]) void get().loadFacts(id);
    },

    async add(draft) {
      const view = await call('hosts:add', draft);
      set((s) => ({ hosts: [...s.hosts, view], selectedId: view.id }));
      return view;
    },

    async update(id, draft) {
      const view = await call('hosts:update', { id, draft });
      // The target may have changed: what we knew about the old one no longer applies.
      set((s) => ({
        hosts: s.hosts.map((h) => (h.id === id ? view : h)),
        facts: without(s.facts, id),
        problems: without(s.problems, id),
        conn: without(s.conn, id),
      }));
      return view;
    },

    async remove(id) {
      await call('hosts:remove', { id });
      set((s) => {
        const index = s.hosts.findIndex((h) => h.id === id);
        const hosts = s.hosts.filter((h) => h.id !== id);
        const next = hosts[Math.min(Math.max(index, 0), hosts.length - 1)]?.id ?? null;
        return {
          hosts,
          selectedId: s.selectedId === id ? next : s.selectedId,
          facts: without(s.facts, id),
          problems: without(s.problems, id),
          conn: without(s.conn, id),
          prompt: s.prompt?.hostId === id ? null : s.prompt,
        };
      });
    },

    importSshConfig(path) {
      return call('hosts:importSshConfig', path ? { path } : {});
    },

    async loadFacts(id) {
      try {
        const facts = await call('hosts:facts', { id });
        if (facts && !get().problems[id]) set((s) => ({ facts: { ...s.facts, [id]: facts } }));
      } catch {
        // Facts are a convenience here; the connect flow reports real problems.
      }
    },

    async connect(id, secret) {
      inFlight.add(id);
      setConn(id, { state: 'connecting' });
      set((s) => ({ problems: without(s.problems, id) }));
      try {
        const result = await call('hosts:connect', secret === undefined ? { id } : { id, secret });
        switch (result.status) {
          case 'connected':
            set((s) => ({ facts: { ...s.facts, [id]: result.facts }, prompt: null }));
            setConn(id, { state: 'connected' });
            break;
          case 'host-key-unknown':
            set({
              prompt: { kind: 'host-key', hostId: id, keyType: result.keyType, fingerprint: result.fingerprint, busy: false, error: null },
            });
            setConn(id, { state: 'verify-key' });
            break;
          case 'secret-required':
            set({ prompt: { kind: 'secret', hostId: id, prompt: result.prompt, busy: false, error: null } });
            setConn(id, { state: 'needs-secret' });
            break;
        }
      } catch (err) {
        const error = asLabError(err);
        const prompt = get().prompt;
        if (error.code === 'host-key-changed') {
          // Refuse loudly, and drop what we knew: it may have come from another machine.
          set((s) => ({
            problems: { ...s.problems, [id]: { kind: 'host-key-changed', message: error.message, details: error.details } },
            facts: without(s.facts, id),
            prompt: null,
          }));
          setConn(id, { state: 'refused', message: error.message });
        } else if (secret !== undefined && SECRET_REJECTED.includes(error.code) && prompt?.kind === 'secret' && prompt.hostId === id) {
          // Wrong password or passphrase: ask again, saying why.
          set({ prompt: { ...prompt, busy: false, error: error.message } });
          setConn(id, { state: 'needs-secret', message: error.message });
        } else {
          set((s) => ({
            problems: { ...s.problems, [id]: { kind: 'error', code: error.code, message: error.message } },
            prompt: s.prompt?.hostId === id ? null : s.prompt,
          }));
          setConn(id, { state: 'failed', message: error.message });
        }
      } finally {
        inFlight.delete(id);
      }
    },

    async acceptHostKey() {
      const prompt = get().prompt;
      if (prompt?.kind !== 'host-key') return;
      set({ prompt: { ...prompt, busy: true, error: null } });
      try {
        const { trusted } = await call('hosts:trustHostKey', { id: prompt.hostId, fingerprint: prompt.fingerprint });
        if (!trusted) {
          set({
            prompt: { ...prompt, busy: false, error: 'The host now presents a different key than the one shown. Connect again to see it.' },
          });
          return;
        }
      } catch (err) {
        set({ prompt: { ...prompt, busy: false, error: asLabError(err).message } });
        return;
      }
      set({ prompt: null });
      await get().connect(prompt.hostId);
    },

    rejectHostKey() {
      const prompt = get().prompt;
      if (prompt?.kind !== 'host-key') return;
      set({ prompt: null });
      setConn(prompt.hostId, { state: 'idle', message: 'Host key not accepted.' });
    },

    async submitSecret(secret) {
      const prompt = get().prompt;
      if (prompt?.kind !== 'secret') return;
      set({ prompt: { ...prompt, busy: true, error: null } });
      await get().connect(prompt.hostId, secret);
    },

    cancelSecret() {
      const prompt = get().prompt;
      if (prompt?.kind !== 'secret') return;
      set({ prompt: null });
      setConn(prompt.hostId, { state: 'idle' });
    },

    async disconnect(id) {
      try {
        await call('hosts:disconnect', { id });
        setConn(id, { state: 'disconnected' });
      } catch (err) {
        set((s) => ({ problems: { ...s.problems, [id]: { kind: 'error', code: asLabError(err).code, message: asLabError(err).message } } }));
      }
    },

    dismissProblem(id) {
      set((s) => ({ problems: without(s.problems, id) }));
      const conn = get().conn[id];
      if (conn && (conn.state === 'failed' || conn.state === 'refused')) setConn(id, { state: 'idle' });
    },

    applyEvent(event) {
      if (event.type !== 'host:connection') return;
      const { hostId, state, message } = event;
      if (!get().hosts.some((h) => h.id === hostId) || inFlight.has(hostId)) return;
      const current = get().conn[hostId]?.state ?? 'idle';
      // Events are news about connections we did not start (a dropped link, a reconnect by
      // a run). They never overwrite the outcome of our own attempt that needs the user:
      // a refusal, a failure, or a question still open.
      const quiet: readonly ConnState[] = ['idle', 'connecting', 'connected', 'disconnected'];
      if (!quiet.includes(current)) return;
      setConn(hostId, message ? { state, message } : { state });
    },
  };
});
