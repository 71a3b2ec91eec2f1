import type { ConnState, HostConn } from '../store/hosts-store.ts';
import { StatusPill, type Tone } from './StatusPill.tsx';

const LABELS: Record<ConnState, [string, Tone]> = {
  idle: ['Not connected', 'neutral'],
  connecting: ['Connecting…', 'info'],
  'verify-key': ['Verify host key', 'warn'],
  'needs-secret': ['Password needed', 'warn'],
  connected: ['Connected', 'ok'],
  disconnected: ['Disconnected', 'neutral'],
  refused: ['Host key changed', 'bad'],
  failed: ['Failed', 'bad'],
};

export function ConnectionPill({ conn, compact = false }: { conn: HostConn | undefined; compact?: boolean }) {
  const state = conn?.state ?? 'idle';
  const [label, tone] = LABELS[state];
  return (
    <span className="conn-state" data-testid="host-state" data-state={state}>
      <StatusPill tone={tone} compact={compact} {...(conn?.message ? { title: conn.message } : {})}>
        {label}
      </StatusPill>
    </span>
  );
}
