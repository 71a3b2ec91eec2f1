import type { Recipe } from '../schema.ts';

// crictl (and critest) from the cri-tools release tarballs: the CRI client talk 2 looped
// for its pod lifecycle benchmark (runp, create, start, stop, rm, stopp, rmp). The minor
// version should match the CRI server's.

export const crictl: Recipe = {
  id: 'crictl',
  title: 'crictl and critest (CRI clients)',
  version: '1.0.0',
  kind: 'component',
  tool: 'crictl',
  appliesTo: [{ distro: 'debian', versions: ['11', '12'] }, { distro: 'ubuntu', versions: ['20.04', '22.04', '24.04'] }],
  after: ['containerd', 'crio'],
  params: [
    { name: 'crictlVersion', description: 'cri-tools release (match the CRI server\'s minor version)', default: 'v1.26.0' },
    { name: 'criEndpoint', description: 'CRI socket crictl talks to (containerd; cri-o: unix:///var/run/crio/crio.sock)', default: 'unix:///run/containerd/containerd.sock' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'downloads-reachable' }],
  downloads: [
    { url: 'https://github.com/kubernetes-sigs/cri-tools/releases/download/v1.26.0/crictl-v1.26.0-linux-amd64.tar.gz' },
    { url: 'https://github.com/kubernetes-sigs/cri-tools/releases/download/v1.26.0/critest-v1.26.0-linux-amd64.tar.gz' },
  ],
  steps: [
    {
      id: 'install',
      title: 'Install crictl and critest',
      why: 'Neither is packaged by Debian 12; the release tarballs hold one static binary each.',
      check: { script: 'crictl --version 2>/dev/null | grep -q "$crictlVersion" && command -v critest >/dev/null' },
      apply: [{
        script: `set -e
for tool in crictl critest; do
  curl -fsSL "https://github.com/kubernetes-sigs/cri-tools/releases/download/$crictlVersion/$tool-$crictlVersion-linux-$goArch.tar.gz" | tar -xz -C /usr/local/bin
done`,
      }],
      needsRoot: true,
    },
    {
      id: 'config',
      title: 'Point crictl at the CRI socket',
      why: 'Without /etc/crictl.yaml crictl tries several sockets and warns on every call.',
      edits: [{ kind: 'file', path: '/etc/crictl.yaml', content: 'runtime-endpoint: {{criEndpoint}}\nimage-endpoint: {{criEndpoint}}\ntimeout: 10\n' }],
      needsRoot: true,
    },
  ],
  verify: [
    {
      id: 'info',
      title: 'crictl info: RuntimeReady and NetworkReady',
      why: 'A pod sandbox needs both conditions true; NetworkReady false means no CNI config.',
      apply: [{ script: 'crictl info > /tmp/runtime-lab-crictl.$$ || { cat /tmp/runtime-lab-crictl.$$; rm -f /tmp/runtime-lab-crictl.$$; exit 1; }\ncat /tmp/runtime-lab-crictl.$$\nrc=0\nfor c in RuntimeReady NetworkReady; do grep -A1 "\\"type\\": \\"$c\\"" /tmp/runtime-lab-crictl.$$ | grep -q "\\"status\\": true" || rc=1; done\nrm -f /tmp/runtime-lab-crictl.$$\nexit "$rc"' }],
      needsRoot: true,
      timeoutMs: 30_000,
    },
  ],
  signatures: ['cni-not-initialized'],
  status: { ran: false, why: 'cri-tools is not packaged by Debian 12 and the release download needs the internet.' },
};
