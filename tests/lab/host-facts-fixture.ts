import type { HostFacts } from '../../shared/model/host-facts.ts';

/**
 * A complete, valid HostFacts for tests that store or export runs without a host; each test
 * overrides what its assertions look at (an OS, a CPU name with quotes for CSV, a cgroup mode).
 */
export function hostFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    collectedAt: '2025-01-01T00:00:00.000Z',
    os: { prettyName: 'Debian GNU/Linux 12', distroId: 'debian', distroVersion: '12', kernel: '6.1.0-amd64', arch: 'x86_64' },
    cpu: { model: 'Test CPU', cores: 2, virtFlag: null },
    memory: { totalBytes: 8e9, availableBytes: 6e9 },
    diskFreeBytes: null,
    cgroup: { mode: 'hybrid', detail: '' },
    hypervisor: null,
    kvm: { devicePresent: false, readWrite: false, usable: null, nested: null, detail: '' },
    vsock: { vhostVsockDevice: false, moduleAvailable: null, blockedBy: null, detail: '' },
    node: null,
    user: { uid: 0, name: 'root', passwordlessSudo: null },
    tools: [],
    ...overrides,
  };
}
