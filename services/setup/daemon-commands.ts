import type { Daemon, DaemonAction } from '../../knowledge/schema.ts';
import { commandLine, quoteArg } from '../../shared/shell-quote.ts';
import { renderArgv, type Params } from './template.ts';

// Daemons the host's way. With systemd as PID 1: systemctl. Without (containers, CI,
// this project's own lab machines): started in their own session with setsid so they
// outlive the SSH channel, pid in {labDir}/daemons/<id>.pid, output in <id>.log. Every
// wait is bounded; the rendered script is what the dry run shows.

export type InitSystem = 'systemd' | 'other';

const POLL_SECONDS = 0.25;
const STOP_WAIT_POLLS = 60;

export function daemonFiles(daemon: Daemon, params: Params): { pidfile: string; log: string } {
  const dir = `${String(params.labDir)}/daemons`;
  return { pidfile: `${dir}/${daemon.id}.pid`, log: `${dir}/${daemon.id}.log` };
}

export function daemonArgv(daemon: Daemon, action: DaemonAction, params: Params, init: InitSystem): string[] {
  const ready = commandLine(renderArgv(daemon.ready, params));
  if (action === 'running') return ['sh', '-c', `${ready} >/dev/null 2>&1`];
  if (init === 'systemd') return ['sh', '-c', systemdScript(daemon, action, ready)];
  const { pidfile, log } = daemonFiles(daemon, params);
  const polls = Math.ceil(daemon.readyTimeoutMs / 1000 / POLL_SECONDS);
  const v = {
    pidfile: quoteArg(pidfile),
    log: quoteArg(log),
    dir: quoteArg(pidfile.slice(0, pidfile.lastIndexOf('/'))),
    start: commandLine(['setsid', ...renderArgv(daemon.argv, params)]),
    marker: daemon.shimMarker ? quoteArg(renderArgv([daemon.shimMarker], params)[0]!) : '',
  };
  const stop = stopScript(v.pidfile, v.marker);
  const start = startScript(v, ready, polls, daemon.readyTimeoutMs);
  switch (action) {
    case 'start':
      return ['sh', '-c', start];
    case 'stop':
      return ['sh', '-c', stop];
    case 'restart':
      return ['sh', '-c', `${stop}\n${start}`];
    case 'reload':
      // SIGHUP makes dockerd re-read daemon.json without stopping containers; a daemon that
      // is not running yet is simply started.
      return ['sh', '-c', daemon.reloadsOnHup
        ? `if [ -f ${v.pidfile} ] && kill -HUP "$(cat ${v.pidfile})" 2>/dev/null; then sleep 1; ${ready} >/dev/null && exit 0; fi\n${start}`
        : `${stop}\n${start}`];
  }
}

function systemdScript(daemon: Daemon, action: Exclude<DaemonAction, 'running'>, ready: string): string {
  const unit = quoteArg(daemon.systemdUnit);
  const command = {
    start: `systemctl enable --now ${unit}`,
    stop: `systemctl stop ${unit}`,
    restart: `systemctl restart ${unit}`,
    reload: `systemctl reload-or-restart ${unit}`,
  }[action];
  if (action === 'stop') return command;
  const polls = Math.ceil(daemon.readyTimeoutMs / 1000 / POLL_SECONDS);
  return `${command}\n${waitReady(ready, polls, daemon.readyTimeoutMs, `journalctl -u ${unit} -n 20 --no-pager >&2`)}`;
}

function waitReady(ready: string, polls: number, timeoutMs: number, onTimeout: string): string {
  return `i=0
while [ "$i" -lt ${polls} ]; do
  if ${ready} >/dev/null 2>&1; then exit 0; fi
  sleep ${POLL_SECONDS}; i=$((i + 1))
done
echo "not ready after ${Math.round(timeoutMs / 1000)} s" >&2
${onTimeout}
exit 1`;
}

function startScript(v: { pidfile: string; log: string; dir: string; start: string }, ready: string, polls: number, timeoutMs: number): string {
  return `if ${ready} >/dev/null 2>&1; then echo "already running"; exit 0; fi
mkdir -p ${v.dir}
${v.start} </dev/null >>${v.log} 2>&1 &
echo "$!" > ${v.pidfile}
${waitReady(ready, polls, timeoutMs, `tail -n 20 ${v.log} >&2`)}`;
}

// Stops the daemon by its pidfile (TERM, then KILL after a bounded wait) and, when it
// names a shim marker, the shims it left that mention its socket (matched on the program
// name first: this very script's command line mentions both words too). A zombie counts as
// stopped: without systemd, PID 1 may be slow to reap it.
function stopScript(pidfile: string, marker: string): string {
  const shims = marker === '' ? '' : `
for c in /proc/[0-9]*/cmdline; do
  case "$({ tr '\\0' '\\n' < "$c"; } 2>/dev/null | head -n 1)" in
    *containerd-shim*) ;;
    *) continue ;;
  esac
  case "$({ tr '\\0' ' ' < "$c"; } 2>/dev/null)" in
    *${marker}*) p=\${c#/proc/}; kill -9 "\${p%/cmdline}" 2>/dev/null ;;
  esac
done`;
  return `alive() { s=$(sed -n 's/.*) \\([A-Za-z]\\).*/\\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]; }
if [ -f ${pidfile} ]; then
  pid=$(cat ${pidfile})
  kill "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ "$i" -lt ${STOP_WAIT_POLLS} ]; do sleep ${POLL_SECONDS}; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null
  rm -f ${pidfile}
fi${shims}
true`;
}
