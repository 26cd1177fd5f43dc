/**
 * The watchdog behind `GroupReaper`, as a POSIX `sh` script run with `sh -c`. Why `sh` and not a
 * second Node process: it starts in about 2 ms instead of about 100 ms, so the moment before it
 * ignores SIGTERM is short, and it costs about 1 MB instead of about 40 MB RSS (6 MB private) per
 * worker. Reading its pipe costs it 20–80 µs of CPU per task (dash reads a pipe byte by byte;
 * measured: 100 000 tasks' lines with 100 groups listed in 1.9 s, and 30–40 ms over 500 real tasks
 * on a loaded 2-core machine) — a few % of a core at 1 000 tasks/s, off the worker's thread. Why not a `.cjs`
 * asset file: `tsc` does not copy one into `dist`; a string travels with the module.
 *
 * Arguments: `$1` the grace in ms between SIGTERM and SIGKILL. Standard input: lines `+<pgid>`
 * (a group started) and `-<pgid>` (it is gone). Anything else is skipped; so is any id below 2,
 * because `kill -- -1` would signal every process we may signal, and `kill -- -0` our own group.
 *
 * At end of input (the worker closed the pipe or died, whatever the signal), it exits at once
 * when no group is listed; otherwise it logs one JSON line on the stderr it shares with the
 * worker, sends SIGTERM to every listed group, drops each group as soon as `kill -0` says it is
 * gone (so a group id the kernel hands out again later is not signalled again), and after the
 * grace sends SIGKILL to the groups still there. A group of zombies still holds its id, so it is
 * waited for until the grace ends and SIGKILL is a no-op for it. `sleep 0.02` needs a `sleep`
 * that takes fractions (GNU, BusyBox, BSD); one that does not fails at once, and the loop then
 * only ends the grace early: it runs at most grace/20 ms times.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGPIPE are ignored (SIG_IGN, set before the first read): only the
 * end of input ends it, so a stop signal sent to everything at once (a terminal's ^C reaches
 * only the foreground group, which it is not in; `systemctl stop` signals the whole cgroup) does
 * not take it away while the worker may still die badly.
 */
export const watchdogScript = `
trap '' INT TERM HUP PIPE
worker=$PPID
grace=\${1:-500}
groups=' '
while IFS= read -r line; do
  pgid=\${line#?}
  case $pgid in ''|*[!0-9]*) continue ;; esac
  [ "$pgid" -gt 1 ] || continue
  case $line in
    +*) case $groups in *" $pgid "*) ;; *) groups="$groups$pgid " ;; esac ;;
    -*) case $groups in *" $pgid "*) groups="\${groups%% "$pgid" *} \${groups#* "$pgid" }" ;; esac ;;
  esac
done
[ "$groups" = ' ' ] && exit 0

report() {
  list=
  for g in $2; do list="\${list:+$list,}$g"; done
  printf '{"level":"warn","message":"%s","component":"group-reaper","workerPid":%s,"pgids":[%s],"timestamp":"%s"}\\n' \\
    "$1" "$worker" "$list" "$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" >&2
}

report "worker process gone: sending SIGTERM to the process groups of its tasks" "$groups"
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
polls=$(( (grace + 19) / 20 ))
left=$groups
while [ -n "$left" ] && [ "$polls" -gt 0 ]; do
  sleep 0.02
  polls=$((polls - 1))
  alive=
  for g in $left; do kill -s 0 -- "-$g" 2>/dev/null && alive="$alive $g"; done
  left=$alive
done
[ -n "$left" ] || exit 0
report "process groups still running after the grace: sending SIGKILL" "$left"
for g in $left; do kill -s KILL -- "-$g" 2>/dev/null; done
exit 0
`;
