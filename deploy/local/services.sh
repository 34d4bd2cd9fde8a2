#!/usr/bin/env bash
# Start/stop/check the local integration-test services.
#   services.sh start|stop|status [kafka|clickhouse|snmpd|alertmanager ...]   (default: all)
# start: Kafka starts in the background while the Debian packages install and ClickHouse,
# snmpd and Alertmanager start; exits non-zero unless every selected service answers.
set -euo pipefail
TK_SERVICE=services
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$TK_LOCAL_SCRIPTS"
ALL=(kafka clickhouse snmpd alertmanager)

action="${1:-}"
[[ $action =~ ^(start|stop|status)$ ]] || { echo "usage: $0 start|stop|status [kafka|clickhouse|snmpd|alertmanager ...]" >&2; exit 2; }
shift
services=("$@")
((${#services[@]})) || services=("${ALL[@]}")
for s in "${services[@]}"; do
  [[ " ${ALL[*]} " == *" $s "* ]] || { echo "unknown service '$s' (known: ${ALL[*]})" >&2; exit 2; }
done
want() { [[ " ${services[*]} " == *" $1 "* ]]; }

# One apt-get run for everything missing (cheaper than one per service).
install_missing() {
  local pkgs=()
  if want clickhouse; then
    [[ -x /usr/sbin/clickhouse-server ]] || command -v clickhouse-server >/dev/null || pkgs+=(clickhouse-server)
    command -v clickhouse-client >/dev/null || pkgs+=(clickhouse-client)
  fi
  if want snmpd; then
    [[ -x /usr/sbin/snmpd ]] || pkgs+=(snmpd)
    command -v snmpbulkwalk >/dev/null || pkgs+=(snmp)
  fi
  if want alertmanager; then
    [[ -x /usr/bin/prometheus-alertmanager ]] || pkgs+=(prometheus-alertmanager)
  fi
  # deploy/prometheus's tests run promtool (check rules, test rules); only the binary is
  # used, no Prometheus server is started. tk_apt_install's policy-rc.d keeps the package's
  # postinst from starting the daemon (its invoke-rc.d/deb-systemd-invoke calls are refused).
  [[ -x /usr/bin/promtool ]] || pkgs+=(prometheus)
  # The live view's tests drive it in tmux and time its CPU with /usr/bin/time.
  command -v tmux >/dev/null || pkgs+=(tmux)
  [[ -x /usr/bin/time ]] || pkgs+=(time)
  ((${#pkgs[@]})) || return 0
  local t0
  t0=$(tk_now)
  tk_apt_install "${pkgs[@]}"
  tk_log "installed ${pkgs[*]} in $(tk_since "$t0")s"
}

t0=$(tk_now)
rc=0
case $action in
start)
  mkdir -p "$TK_LOCAL_DIR"
  kafka_pid=
  if want kafka; then
    "$HERE/kafka.sh" start &
    kafka_pid=$!
  fi
  install_missing || rc=1
  if ((rc == 0)); then
    want clickhouse && { "$HERE/clickhouse.sh" start || rc=1; }
    want snmpd && { "$HERE/snmpd.sh" start || rc=1; }
    want alertmanager && { "$HERE/alertmanager.sh" start || rc=1; }
  fi
  [[ -n $kafka_pid ]] && { wait "$kafka_pid" || rc=1; }
  if ((rc == 0)); then
    tk_log "all up (${services[*]}) in $(tk_since "$t0")s"
  else
    tk_log "FAILED to start some of: ${services[*]} (after $(tk_since "$t0")s)"
  fi
  ;;
stop)
  pids=()
  for s in "${services[@]}"; do
    "$HERE/$s.sh" stop &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ;;
status)
  for s in "${services[@]}"; do
    "$HERE/$s.sh" status || rc=1
  done
  ;;
esac
exit "$rc"
