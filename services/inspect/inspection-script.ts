import { TOOL_IDS, type ToolId } from '../../shared/model/host-facts.ts';
import { commandLine, quoteArg } from '../../shared/shell-quote.ts';
import { NODE_PROBE, TOOL_PROBES, type VersionProbe } from './tool-probes.ts';

// One POSIX sh script that gathers everything the host page shows, so inspecting a host
// costs one SSH round trip (EC2 hosts can be a continent away). It only reads: no
// modprobe, no package manager, no files written.
//
// Output: one record per line, `key<TAB>base64(value)`, then END_MARKER. Base64 keeps
// multi-line or hostile tool output (tabs, newlines, fake records) from breaking the
// framing. Keys:
//   probe.<name>.path / .exit / .output   a version probe (tools by ToolId, and "node")
//   os.release kernel arch cpu.model cpu.cores cpu.virt meminfo df.root
//   cgroup.root cgroup.unified cgroup.mounts cgroup.controllers cgroup.unified.controllers virt
//   kvm.device kvm.rw kvm.python kvm.test kvm.nested
//   vsock.device vsock.module vsock.loaded user.uid user.name user.sudo

export const END_MARKER = 'inspection-complete';

/** Seconds each version command may take: a hung binary must not stall the inspection. */
export const PROBE_TIMEOUT_SECONDS = 10;

// Opens /dev/kvm and asks for a VM: the only reliable test, since the CPU flag can be
// hidden while nested KVM works. Prints "<status> <detail>"; the VM fd is closed at once.
const KVM_TEST_PY = `
import fcntl, os
def main():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return "open-failed " + str(e.strerror)
    try:
        api = fcntl.ioctl(fd, 0xAE00)  # KVM_GET_API_VERSION
    except OSError as e:
        return "api-failed " + str(e.strerror)
    if api != 12:
        return "bad-api " + str(api)
    try:
        os.close(fcntl.ioctl(fd, 0xAE01, 0))  # KVM_CREATE_VM
    except OSError as e:
        return "create-vm-failed " + str(e.strerror)
    return "ok 12"
print(main())
`;

const PRELUDE = `
# Non-login SSH shells often lack the sbin directories and Kata's /opt/kata/bin.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/opt/kata/bin:/usr/local/bin"; export PATH
# Tools answer in English, and sed's character classes behave the same everywhere.
LC_ALL=C; export LC_ALL
command -v base64 >/dev/null 2>&1 || { echo 'base64 (coreutils or busybox) is needed to inspect this host' >&2; exit 3; }
put() { printf '%s\\t' "$1"; printf '%s' "$2" | base64 | tr -d '\\n'; printf '\\n'; }
T=; command -v timeout >/dev/null 2>&1 && T="timeout ${PROBE_TIMEOUT_SECONDS}"
# probe NAME BINARY... -- VERSION-ARGS...: path of the first binary found, then its
# version command's exit code and combined output (stdin closed so nothing can wait on it).
probe() {
  name=$1; shift; p=
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    if [ -z "$p" ]; then
      c=$(command -v "$1" 2>/dev/null)
      case $c in /*) p=$c ;; esac
    fi
    shift
  done
  shift
  put "probe.$name.path" "$p"
  [ -n "$p" ] || return 0
  out=$($T "$p" "$@" </dev/null 2>&1)
  put "probe.$name.exit" "$?"
  put "probe.$name.output" "$out"
}
`;

const SYSTEM = `
put os.release "$(cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null)"
put kernel "$(uname -r 2>/dev/null)"
put arch "$(uname -m 2>/dev/null)"
m=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$m" ] || m=$(sed -n 's/^Hardware[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$m" ] || m=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
put cpu.model "$m"
put cpu.cores "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null)"
v=; if grep -qw vmx /proc/cpuinfo 2>/dev/null; then v=vmx; elif grep -qw svm /proc/cpuinfo 2>/dev/null; then v=svm; fi
put cpu.virt "$v"
put meminfo "$(grep -E '^(MemTotal|MemAvailable):' /proc/meminfo 2>/dev/null)"
put df.root "$(df -Pk / 2>/dev/null | tail -n 1)"
put cgroup.root "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)"
put cgroup.unified "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)"
# BusyBox's stat names no cgroup2 type ("UNKNOWN"): the mount table is the fallback.
put cgroup.mounts "$(awk '$2 == "/sys/fs/cgroup" || $2 == "/sys/fs/cgroup/unified" { print $2, $3 }' /proc/self/mounts 2>/dev/null)"
put cgroup.controllers "$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
put cgroup.unified.controllers "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)"
# --vm: the hypervisor matters for KVM, not a container the host may itself run in.
command -v systemd-detect-virt >/dev/null 2>&1 && put virt "$(systemd-detect-virt --vm 2>/dev/null)"
if [ -c /dev/kvm ]; then
  put kvm.device 1
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then put kvm.rw 1; else put kvm.rw 0; fi
  py=$(command -v python3 2>/dev/null)
  put kvm.python "$py"
  [ -n "$py" ] && put kvm.test "$($T "$py" -c ${quoteArg(KVM_TEST_PY)} </dev/null 2>&1)"
else
  put kvm.device 0
fi
put kvm.nested "$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)"
if [ -c /dev/vhost-vsock ]; then put vsock.device 1; else put vsock.device 0; fi
if command -v modinfo >/dev/null 2>&1; then
  if modinfo vhost_vsock >/dev/null 2>&1; then put vsock.module 1; else put vsock.module 0; fi
fi
if [ -r /proc/modules ]; then put vsock.loaded "$(cut -d ' ' -f 1 /proc/modules | grep vsock)"
elif l=$(lsmod 2>/dev/null); then put vsock.loaded "$(printf '%s\\n' "$l" | cut -d ' ' -f 1 | grep vsock)"
fi
put user.uid "$(id -u 2>/dev/null)"
put user.name "$(id -un 2>/dev/null || whoami 2>/dev/null)"
if [ "$(id -u 2>/dev/null)" = 0 ]; then s=root
elif command -v sudo >/dev/null 2>&1; then
  if $T sudo -n true </dev/null >/dev/null 2>&1; then s=yes; else s=no; fi
else s=absent
fi
put user.sudo "$s"
`;

function probeLine(name: string, probe: VersionProbe): string {
  return `probe ${commandLine([name, ...probe.binaries, '--', ...probe.versionArgs])}`;
}

/** The whole inspection script; `tools` is replaceable so tests can probe fake binaries. */
export function buildInspectionScript(tools: Readonly<Record<ToolId, VersionProbe>> = TOOL_PROBES): string {
  const probes = [...TOOL_IDS.map((id) => probeLine(id, tools[id])), probeLine('node', NODE_PROBE)];
  return [PRELUDE, ...probes, SYSTEM, `echo ${END_MARKER}`].join('\n');
}
