#!/usr/bin/env bash
# Our own Prometheus Alertmanager (Debian's prometheus-alertmanager) on 127.0.0.1:19093 with
# its own alertmanager.yml and storage under the data dir (never /etc/prometheus or
# /var/lib/prometheus); clustering off, every alert routed to a receiver that sends nothing.
#   alertmanager.sh start|stop|status
set -euo pipefail
TK_SERVICE=alertmanager
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AM_HOST=127.0.0.1
AM_PORT="${TK_ALERTMANAGER_PORT:-19093}"
AM_BIN=/usr/bin/prometheus-alertmanager
DATA="$TK_LOCAL_DIR/alertmanager"
PIDFILE="$DATA/alertmanager.pid"
CONF="$DATA/alertmanager.yml"
STORAGE="$DATA/storage"
LOGDIR="$DATA/logs"
LOG="$LOGDIR/alertmanager.log"
export PATH="$PATH:/usr/sbin:/sbin"

# Debian's init script runs the package's daemon as user prometheus with
# /etc/prometheus/alertmanager.yml on :9093 (cluster port 9094). apt runs under policy-rc.d and
# there is no systemd, but if it got started anyway, stop it: we only want our own instance.
# It is told apart from ours (and from other users' instances) by its user, prometheus.
package_daemon_pids() {
  local uid d
  uid=$(id -u prometheus 2>/dev/null) || return 0
  for d in /proc/[0-9]*; do
    [[ $(readlink "$d/exe" 2>/dev/null) == "$AM_BIN" ]] || continue
    [[ $(awk '/^Uid:/ { print $2 }' "$d/status" 2>/dev/null) == "$uid" ]] && echo "${d#/proc/}"
  done
  return 0
}

stop_package_daemon() { tk_stop_listed alertmanager package_daemon_pids; }

ensure_installed() {
  [[ -x $AM_BIN ]] && return 0
  local t0
  t0=$(tk_now)
  tk_apt_install prometheus-alertmanager
  tk_log "installed prometheus-alertmanager $(dpkg-query -W -f='${Version}' prometheus-alertmanager) in $(tk_since "$t0")s"
}

write_config() {
  mkdir -p "$STORAGE" "$LOGDIR"
  cat >"$CONF" <<'EOF'
# Written by deploy/local/alertmanager.sh; regenerated on every start.
# One route to a receiver with no integrations: alerts are stored, grouped and shown by the
# API (what the tests check), and nothing is sent anywhere.
route:
  receiver: "null"
  group_by: [alertname, device, metric]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: "null"
EOF
}

healthy() {
  tk_pid_alive "$PIDFILE" "$CONF" || return 1
  ready_probe
}

ready_probe() {
  [[ $(tk_http_get "$AM_HOST" "$AM_PORT" /-/ready) == OK* ]]
}

version() { "$AM_BIN" --version 2>&1 | awk 'NR == 1 { print $3 }'; }

start() {
  local t0
  t0=$(tk_now)
  tk_already_running "$t0" "$LOG" "$PIDFILE" "$CONF" "http://$AM_HOST:$AM_PORT" && return 0
  ensure_installed
  stop_package_daemon
  tk_ports_free "$AM_HOST" "$AM_PORT"
  write_config
  [[ -f $LOG ]] && mv -f "$LOG" "$LOG.prev"
  tk_log "starting alertmanager $(version) on http://$AM_HOST:$AM_PORT (data $DATA)"
  # Foreground in its own session (pid = $!); --cluster.listen-address= turns the gossip
  # cluster (tcp/udp 9094) off, so a single instance is ready at once.
  tk_launch "$PIDFILE" "$LOG" "$AM_BIN" \
    --config.file="$CONF" \
    --storage.path="$STORAGE" \
    --web.listen-address="$AM_HOST:$AM_PORT" \
    --cluster.listen-address= \
    --log.level=info
  tk_ready_or_stop "$t0" "$LOG" "$PIDFILE" "$CONF" ready_probe
}

status_detail() { echo ", version $(version)"; }

status() { tk_status "$PIDFILE" "$CONF" "http://$AM_HOST:$AM_PORT" status_detail; }

tk_main "${1:-}" "$CONF"
