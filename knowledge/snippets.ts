// Shell code shared by several recipes and signatures, kept in one place so a fix to it
// reaches every user. Each is a POSIX sh fragment that expects its inputs as variables
// set by the engine from parameters (see knowledge/schema.ts on templates).

/**
 * Frees a containerd task stuck in "created" that `ctr task delete --force` cannot remove
 * (runsc refuses to signal a container in state created): kill the task's shim and every
 * process under it (runsc-sandbox, runsc-gofer), then delete the task and the container.
 * Needs $containerdAddress and $taskId; the shim is found by its own command line
 * (`-id ID -address SOCKET`), so no other task is touched.
 */
export const KILL_STUCK_TASK = `
descendants() {
  for stat in /proc/[0-9]*/stat; do
    child=\${stat#/proc/}; child=\${child%/stat}
    ppid=$({ sed 's/.*) [A-Za-z] \\([0-9]*\\) .*/\\1/' "$stat"; } 2>/dev/null) || continue
    if [ "$ppid" = "$1" ]; then echo "$child"; descendants "$child"; fi
  done
}
for cmdline in /proc/[0-9]*/cmdline; do
  pid=\${cmdline#/proc/}; pid=\${pid%/cmdline}
  # The program name first: this script's own command line mentions containerd-shim too.
  case "$({ tr '\\0' '\\n' < "$cmdline"; } 2>/dev/null | head -n 1)" in *containerd-shim*) ;; *) continue ;; esac
  args=$({ tr '\\0' ' ' < "$cmdline"; } 2>/dev/null) || continue
  case "$args" in
    *" -id $taskId "*"-address $containerdAddress"*)
      # shellcheck disable=SC2046 # one pid per word
      kill -9 $(descendants "$pid") "$pid" 2>/dev/null
      echo "killed shim $pid of task $taskId and its children" ;;
  esac
done
ctr --address "$containerdAddress" --namespace runtime-lab task delete --force "$taskId" >/dev/null 2>&1
ctr --address "$containerdAddress" --namespace runtime-lab container rm "$taskId" >/dev/null 2>&1
true
`;

/**
 * Kills what is left of a runsc container that never finished (a hang on the KVM platform,
 * a dropped SSH session): the `runsc run`, its runsc-sandbox and runsc-gofer, found by the
 * container ID ($containerId) at the end of their command lines. Without this, a retry
 * under the same ID fails with "creating control server socket … address already in use".
 */
export const KILL_RUNSC_LEFTOVERS = `
for cmdline in /proc/[0-9]*/cmdline; do
  case "$({ tr '\\0' '\\n' < "$cmdline"; } 2>/dev/null | head -n 1)" in runsc|*/runsc|runsc-sandbox|runsc-gofer) ;; *) continue ;; esac
  case "$({ tr '\\0' ' ' < "$cmdline"; } 2>/dev/null)" in
    *" $containerId "|*" $containerId") pid=\${cmdline#/proc/}; kill -9 "\${pid%/cmdline}" 2>/dev/null ;;
  esac
done
`;
