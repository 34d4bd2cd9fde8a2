# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh. Sourced, not executed.

TK_LOCAL_DIR="${TK_LOCAL_DIR:-/tmp/telekernel-local}"
TK_CACHE_DIR="${TK_CACHE_DIR:-${HOME:-/root}/.cache/telekernel}"
TK_START_TIMEOUT="${TK_START_TIMEOUT:-90}" # seconds a start may wait for readiness
TK_STOP_TIMEOUT="${TK_STOP_TIMEOUT:-30}"   # seconds a stop waits before SIGKILL
# shellcheck disable=SC2034 # used by the scripts that source this file
TK_LOCAL_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

tk_log() { printf '[%s] %s\n' "${TK_SERVICE:-local}" "$*" >&2; }
tk_die() { tk_log "ERROR: $*"; exit 1; }

tk_now() { date +%s.%N; }
# tk_since START -> seconds elapsed with one decimal
tk_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# tk_pid_alive PIDFILE MARKER: true when the pid file names a live process whose
# command line contains MARKER (guards against pid reuse after a reboot/cleanup).
tk_pid_alive() {
  local pidfile=$1 marker=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r /proc/$pid/cmdline ]] || return 0
  [[ $(tk_cmdline "$pid") == *"$marker"* ]]
}

# tk_proc_running PID: the process exists and is not a zombie.
tk_proc_running() {
  local state
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# tk_cmdline PID: the process's command line, space separated ('' if gone).
tk_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# tk_pids_matching EXE NEEDLE [EXCLUDE]: pids running binary EXE whose command line contains
# NEEDLE (and not EXCLUDE). Plain /proc scan, so it works without procps.
tk_pids_matching() {
  local exe=$1 d pid cmd
  shift
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $(readlink "$d/exe" 2>/dev/null) == "$exe" ]] || continue
    cmd=$(tk_cmdline "$pid")
    [[ $cmd == *"$1"* ]] || continue
    [[ -n ${2:-} && $cmd == *"$2"* ]] && continue
    echo "$pid"
  done
}

# tk_stop_package_daemon NAME EXE NEEDLE EXCLUDE: the Debian package's own daemon (started by
# its init script, e.g. from the package's postinst) runs with the system config; stop it by
# signal (not via the init script: clickhouse-server's stops every process of that binary,
# ours included), so it cannot hold ports.
tk_stop_package_daemon() {
  tk_stop_listed "$1" tk_pids_matching "$2" "$3" "$4"
}

# tk_stop_listed NAME LISTER [ARG...]: stops the package's own NAME, the processes that the
# command LISTER ARG... prints one pid a line: SIGTERM, then SIGKILL to those still there
# after 20 s.
tk_stop_listed() {
  local name=$1 pids i
  shift
  pids=$("$@")
  [[ -n $pids ]] || return 0
  tk_log "stopping the package's own $name (pid ${pids//$'\n'/ }) started with the system config"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    pids=$("$@")
    [[ -n $pids ]] || return 0
    sleep 0.2
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

# tk_tcp_open HOST PORT: true when something accepts a TCP connection.
tk_tcp_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# tk_ports_free HOST PORT...: dies when something already accepts connections on HOST:PORT
# for any PORT (another process holds it).
tk_ports_free() {
  local host=$1 p
  shift
  for p in "$@"; do
    tk_tcp_open "$host" "$p" && tk_die "port $host:$p is already taken by another process"
  done
  return 0
}

# tk_http_get HOST PORT PATH: prints the body of a plain HTTP/1.0 GET (no curl needed).
tk_http_get() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3
    sed "1,/^\r\{0,1\}$/d" <&3' "$1" "$2" "$3" 2>/dev/null
}

# tk_udp_port_busy PORT: true when some socket is bound to UDP PORT (needs ss; assumes free without it).
tk_udp_port_busy() {
  command -v ss >/dev/null 2>&1 || return 1
  [[ -n $(ss -Hlun "sport = :$1" 2>/dev/null) ]]
}

# tk_stop_pid PIDFILE MARKER: SIGTERM, wait TK_STOP_TIMEOUT, then SIGKILL. Removes the pid file.
tk_stop_pid() {
  local pidfile=$1 marker=$2 pid i
  if ! tk_pid_alive "$pidfile" "$marker"; then
    rm -f "$pidfile"
    tk_log "not running"
    return 0
  fi
  pid=$(<"$pidfile")
  tk_log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < TK_STOP_TIMEOUT * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    tk_log "pid $pid still alive after ${TK_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  tk_log "stopped"
}

# tk_wait_ready START_TS LOGFILE PIDFILE MARKER CHECK_FN...: polls CHECK_FN until it succeeds,
# the process dies, or TK_START_TIMEOUT passes. On failure prints the log tail and returns 1
# (the callers then stop what they launched, so a failed start leaves nothing behind).
tk_wait_ready() {
  local start=$1 logfile=$2 pidfile=$3
  shift 4 # $4 (marker) kept for symmetry with tk_pid_alive
  local deadline=$((SECONDS + TK_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then
      [[ -n ${TK_QUIET_READY:-} ]] || tk_log "ready in $(tk_since "$start")s"
      return 0
    fi
    # Plain existence check: right after the fork the child still shows the script's own
    # command line until it execs, so the marker test would misfire here.
    if ! tk_proc_running "$(cat "$pidfile" 2>/dev/null || true)"; then
      tk_log "process exited before becoming ready"
      tk_log_tail "$logfile"
      return 1
    fi
    sleep "${TK_POLL_INTERVAL:-0.25}"
  done
  tk_log "not ready after ${TK_START_TIMEOUT}s"
  tk_log_tail "$logfile"
  return 1
}

# tk_launch PIDFILE OUT CMD...: starts CMD in the foreground of its own session, detached from
# the script (no stdin, stdout and stderr to OUT, without the lock's fd 8), and writes its pid
# to PIDFILE.
tk_launch() {
  local pidfile=$1 out=$2
  shift 2
  setsid nohup "$@" </dev/null >"$out" 2>&1 8>&- &
  echo $! >"$pidfile"
}

# tk_ready_or_stop START_TS LOGFILE PIDFILE MARKER CHECK_FN [FILE...]: tk_wait_ready for what
# tk_launch started; when it fails, also prints the last lines of each FILE, stops the process
# (tk_stop_pid) and exits 1, so a failed start leaves nothing behind.
tk_ready_or_stop() {
  local start=$1 logfile=$2 pidfile=$3 marker=$4 check=$5
  shift 5
  tk_wait_ready "$start" "$logfile" "$pidfile" "$marker" "$check" && return 0
  tk_log_tail "$@"
  tk_stop_pid "$pidfile" "$marker"
  exit 1
}

# tk_log_tail FILE...: last lines of each existing file, to stderr.
tk_log_tail() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    tk_log "---- last lines of $f ----"
    tail -n "${TK_LOG_TAIL_LINES:-40}" "$f" >&2 || true
  done
}

# tk_apt_install PKG...: installs Debian packages without letting their maintainer
# scripts start daemons (no systemd here; invoke-rc.d honours policy-rc.d exit 101).
# Serialised with a lock so concurrently running scripts do not fight over dpkg.
tk_apt_install() {
  local lock="$TK_LOCAL_DIR/.apt.lock" rc=0 policy=/usr/sbin/policy-rc.d
  mkdir -p "$TK_LOCAL_DIR"
  [[ $(id -u) -eq 0 ]] || tk_die "need root to apt-get install $*"
  (
    flock -w 900 9 || tk_die "timed out waiting for $lock"
    if [[ ! -e $policy ]]; then
      # shellcheck disable=SC2064
      trap "grep -qs 'telekernel deploy/local' '$policy' && rm -f '$policy' || true" EXIT
      printf '#!/bin/sh\n# temporary, written by telekernel deploy/local: no daemon starts during install\nexit 101\n' >"$policy"
      chmod 755 "$policy"
    fi
    export DEBIAN_FRONTEND=noninteractive
    local apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    tk_log "apt-get install $*"
    if ! apt-get install "${apt_opts[@]}" "$@" >"$TK_LOCAL_DIR/.apt-install.log" 2>&1; then
      tk_log "install failed, running apt-get update and retrying"
      apt-get update -q >>"$TK_LOCAL_DIR/.apt-install.log" 2>&1 || true
      apt-get install "${apt_opts[@]}" "$@" >>"$TK_LOCAL_DIR/.apt-install.log" 2>&1 || rc=$?
    fi
    if ((rc != 0)); then
      tail -n 30 "$TK_LOCAL_DIR/.apt-install.log" >&2
      exit "$rc"
    fi
  ) 9>"$lock"
}

# tk_lock: serialise start/stop of one service (concurrent callers wait, then see its state).
# Uses fd 8; the daemons are launched with 8>&- so they do not inherit the lock.
tk_lock() {
  mkdir -p "$TK_LOCAL_DIR"
  exec 8>"$TK_LOCAL_DIR/.$TK_SERVICE.lock"
  flock -w $((TK_START_TIMEOUT + TK_STOP_TIMEOUT + 600)) 8 || tk_die "timed out waiting for another start/stop"
}

tk_usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

# tk_already_running START_TS LOGFILE PIDFILE MARKER WHERE: the first step of a script's
# start. When PIDFILE names a live process (see tk_pid_alive) it waits for the script's
# healthy function (a start in progress, e.g. by a concurrent caller), logs "already running"
# on WHERE and returns 0, or dies when the process does not answer. Otherwise it removes a
# stale pid file and returns 1: the caller starts the service.
tk_already_running() {
  local t0=$1 logfile=$2 pidfile=$3 marker=$4 where=$5
  if ! tk_pid_alive "$pidfile" "$marker"; then
    rm -f "$pidfile"
    return 1
  fi
  if healthy || TK_QUIET_READY=1 tk_wait_ready "$t0" "$logfile" "$pidfile" "$marker" healthy; then
    tk_log "already running (pid $(<"$pidfile")) on $where, checked in $(tk_since "$t0")s"
    return 0
  fi
  tk_die "pid $(<"$pidfile") is running but not answering"
}

# tk_warn_closed HOST PORT WHAT: after tk_already_running, warns when the running service
# does not listen on PORT (WHAT names the listener): a start by an older script left it out.
tk_warn_closed() {
  tk_tcp_open "$1" "$2" ||
    tk_log "WARNING: no $3 on $1:$2 (started by an older $(basename "$0")?): run '$0 stop' then '$0 start'"
}

# tk_status PIDFILE MARKER WHERE [DETAIL_FN]: a script's status. When the script's healthy
# function succeeds it logs "up" on WHERE, followed by what DETAIL_FN prints (run only then),
# and returns 0; otherwise it logs whether the process is alive but not answering, or down,
# and returns 1.
tk_status() {
  local pidfile=$1 marker=$2 where=$3 detail=${4:-} extra=""
  if healthy; then
    [[ -z $detail ]] || extra=$("$detail") || true
    tk_log "up (pid $(<"$pidfile")) on $where$extra"
    return 0
  fi
  if tk_pid_alive "$pidfile" "$marker"; then
    tk_log "process $(<"$pidfile") alive but not answering on $where"
  else
    tk_log "down"
  fi
  return 1
}

# tk_main ACTION MARKER: runs a script's start (locked) or status, or stops the process of
# its PIDFILE (locked; MARKER as in tk_pid_alive); anything else prints the usage.
tk_main() {
  case "$1" in
  start) tk_lock; start ;;
  stop) tk_lock; tk_stop_pid "$PIDFILE" "$2" ;;
  status) status ;;
  *) tk_usage ;;
  esac
}

# tk_tls_certs: makes sure $TK_LOCAL_DIR/tls holds a private CA (ca.pem) and a server
# certificate for 127.0.0.1 and localhost signed by it (server.pem, PKCS#8 key server.key),
# generated with openssl on first use (valid 10 years). Kafka's SASL_SSL listener and
# ClickHouse's secure native port both use them; clients trust ca.pem (TK_TLS_CA).
tk_tls_certs() {
  local dir="$TK_LOCAL_DIR/tls"
  mkdir -p "$dir"
  command -v openssl >/dev/null || tk_apt_install openssl
  (
    flock -w 120 7 || tk_die "timed out waiting for $dir/.lock"
    [[ -s $dir/ca.pem && -s $dir/server.pem && -s $dir/server.key ]] && exit 0
    tk_log "generating a test CA and a server certificate for 127.0.0.1 in $dir"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=telekernel local test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null ||
      tk_die "openssl could not create the CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null || tk_die "openssl could not create the server key"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
      -days 3650 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null ||
      tk_die "openssl could not sign the server certificate"
    chmod 644 "$dir/ca.pem" "$dir/server.pem"
    chmod 600 "$dir/server.key" "$dir/ca.key"
  ) 7>"$dir/.lock"
}
