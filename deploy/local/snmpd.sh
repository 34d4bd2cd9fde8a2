#!/usr/bin/env bash
# Our own Net-SNMP agent (Debian's snmpd) on udp:127.0.0.1:16161 with its own config and
# persistent store under the data dir (never /etc/snmp or /var/lib/snmp):
#   v2c read-only community tk-public; SNMPv3 authPriv users tkuser (SHA/AES) and,
#   when the library supports it, tkuser256 (SHA-256/AES).
#   Test data: a static LLDP-MIB neighbour table (lldp_test_data), which Net-SNMP does not
#   implement itself; collectors/snmp's TestLLDPOnSnmpd reads it.
#   snmpd.sh start|stop|status
set -euo pipefail
TK_SERVICE=snmpd
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SNMP_HOST=127.0.0.1
SNMP_PORT="${TK_SNMP_PORT:-16161}"
SNMP_COMMUNITY="${TK_SNMP_COMMUNITY:-tk-public}"
V3_USER="${TK_SNMP_V3_USER:-tkuser}"
V3_USER256="${TK_SNMP_V3_USER256:-tkuser256}"
V3_AUTH_PASS="${TK_SNMP_V3_AUTH_PASS:-tk-auth-pass}"
V3_PRIV_PASS="${TK_SNMP_V3_PRIV_PASS:-tk-priv-pass}"
DATA="$TK_LOCAL_DIR/snmpd"
PIDFILE="$DATA/snmpd.pid"
ETC="$DATA/etc"           # snmpd.conf + snmp.conf (SNMPCONFPATH)
PERSIST="$DATA/persist"   # persistentDir: createUser -> usmUser, engineID, engineBoots
CLIENT_PERSIST="$DATA/client"
LOGDIR="$DATA/logs"
LOG="$LOGDIR/snmpd.log"
STDOUT_LOG="$LOGDIR/snmpd.out"
AGENT="udp:$SNMP_HOST:$SNMP_PORT"
TARGET="$SNMP_HOST:$SNMP_PORT"
OID_SYSUPTIME=1.3.6.1.2.1.1.3.0
OID_IFNAME=1.3.6.1.2.1.31.1.1.1.1 # IF-MIB::ifName, first column of ifXTable (1.3.6.1.2.1.31.1.1)
export PATH="$PATH:/usr/sbin:/sbin"

# Client tools read only our snmp.conf (no MIB loading) and keep their state in the data dir.
snmpc() {
  SNMPCONFPATH="$ETC" SNMP_PERSISTENT_DIR="$CLIENT_PERSIST" "$@" -On -t 1 -r 1 2>/dev/null
}
v2_get() { snmpc snmpget -v2c -c "$SNMP_COMMUNITY" "$TARGET" "$@"; }
v3_get() { # USER AUTHPROTO OID...
  local user=$1 proto=$2
  shift 2
  snmpc snmpget -v3 -l authPriv -u "$user" -a "$proto" -A "$V3_AUTH_PASS" -x AES -X "$V3_PRIV_PASS" "$TARGET" "$@"
}

# SHA-256 (RFC 7860) needs Net-SNMP >= 5.8 built with OpenSSL; the client's help lists it then.
sha256_supported() {
  local help
  help=$(snmpget -h 2>&1 || true) # exits 1 after printing the usage
  [[ $help == *SHA-256* ]]
}

# Debian's init script runs snmpd with -p /run/snmpd.pid and the system config (udp 161,
# tcp 199 smux). apt runs under policy-rc.d and there is no systemd, but if the package's
# daemon got started anyway, stop it: we only want our own instance.
stop_package_daemon() {
  tk_stop_package_daemon snmpd /usr/sbin/snmpd /run/snmpd.pid "$LOG"
}

ensure_installed() {
  if [[ -x /usr/sbin/snmpd ]] && command -v snmpget >/dev/null && command -v snmpbulkwalk >/dev/null; then
    return 0
  fi
  local t0
  t0=$(tk_now)
  tk_apt_install snmpd snmp
  tk_log "installed snmpd $(dpkg-query -W -f='${Version}' snmpd) in $(tk_since "$t0")s"
}

check_secret() { # NAME VALUE
  [[ ${#2} -ge 8 ]] || tk_die "$1 must be at least 8 characters (SNMPv3 requirement)"
  [[ $2 != *'"'* && $2 != *$'\n'* ]] || tk_die "$1 must not contain double quotes or newlines"
}

# Test data, not this host's neighbours: LLDP-MIB (IEEE 802.1AB, 1.0.8802.1.1.2) rows served
# with override lines. Two local ports: 1 named by lldpLocPortId (subtype interfaceName),
# 2 by lldpLocPortDesc (its id is a local number). lldpRemTable (index
# lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex): on port 1, spine-01's Ethernet7; on
# port 2, spine-02, whose port id is a MAC address. Keep in sync with TestLLDPOnSnmpd.
lldp_test_data() {
  local loc=1.0.8802.1.1.2.1.3.7.1 rem=1.0.8802.1.1.2.1.4.1.1
  cat <<EOF_LLDP
override $loc.2.1 integer 5
override $loc.3.1 octet_str "Ethernet1"
override $loc.4.1 octet_str "Ethernet1 to spine-01"
override $loc.2.2 integer 7
override $loc.3.2 octet_str "2"
override $loc.4.2 octet_str "Ethernet2"
override $rem.4.0.1.1 integer 4
override $rem.5.0.1.1 octet_str 0x001c73aabb01
override $rem.6.0.1.1 integer 5
override $rem.7.0.1.1 octet_str "Ethernet7"
override $rem.9.0.1.1 octet_str "spine-01"
override $rem.4.0.2.3 integer 4
override $rem.5.0.2.3 octet_str 0x001c73aabb02
override $rem.6.0.2.3 integer 3
override $rem.7.0.2.3 octet_str 0x001c73aabb22
override $rem.9.0.2.3 octet_str "spine-02"
EOF_LLDP
}

write_config() {
  check_secret TK_SNMP_V3_AUTH_PASS "$V3_AUTH_PASS"
  check_secret TK_SNMP_V3_PRIV_PASS "$V3_PRIV_PASS"
  mkdir -p "$ETC" "$PERSIST" "$CLIENT_PERSIST" "$LOGDIR"
  chmod 700 "$DATA" "$PERSIST"
  local with256=0
  sha256_supported && with256=1
  {
    echo "# Written by deploy/local/snmpd.sh; regenerated on every start."
    echo "agentAddress $AGENT"
    # bound to loopback only, so 'default' as the source just means any local client
    echo "rocommunity $SNMP_COMMUNITY default"
    echo "rouser $V3_USER authpriv"
    ((with256)) && echo "rouser $V3_USER256 authpriv"
    echo "sysLocation telekernel local integration tests"
    echo "sysContact telekernel"
    echo "sysServices 72"
    echo "dontLogTCPWrappersConnects yes"
    lldp_test_data
  } >"$ETC/snmpd.conf"
  # Library config for snmpd and our client calls: no MIB files needed (numeric OIDs).
  printf 'mibs :\npersistentDir %s\n' "$PERSIST" >"$ETC/snmp.conf"
  # Persistent store: keep engineID/engineBoots from earlier runs, replace the users with
  # createUser lines (snmpd turns them into localized usmUser lines when it starts), so
  # changed passphrases take effect.
  local store="$PERSIST/snmpd.conf" tmp="$PERSIST/snmpd.conf.new"
  {
    if [[ -f $store ]]; then grep -vE '^[[:space:]]*(usmUser|createUser)[[:space:]]' "$store" || true; fi
    echo "createUser $V3_USER SHA \"$V3_AUTH_PASS\" AES \"$V3_PRIV_PASS\""
    ((with256)) && echo "createUser $V3_USER256 SHA-256 \"$V3_AUTH_PASS\" AES \"$V3_PRIV_PASS\""
    true
  } >"$tmp"
  mv -f "$tmp" "$store"
  chmod 600 "$store"
}

# Ready = v2c get, v3 authPriv get (each configured user) and a non-empty ifXTable walk.
healthy() {
  tk_pid_alive "$PIDFILE" "$LOG" || return 1
  [[ $(v2_get "$OID_SYSUPTIME") == *Timeticks* ]] || return 1
  [[ $(v3_get "$V3_USER" SHA "$OID_SYSUPTIME") == *Timeticks* ]] || return 1
  if grep -q "^rouser $V3_USER256 " "$ETC/snmpd.conf" 2>/dev/null; then
    [[ $(v3_get "$V3_USER256" SHA-256 "$OID_SYSUPTIME") == *Timeticks* ]] || return 1
  fi
  [[ $(snmpc snmpbulkwalk -v2c -c "$SNMP_COMMUNITY" "$TARGET" "$OID_IFNAME") == *STRING* ]]
}

# snmpd logs its version line once it has bound the port and read the config; only then
# spend snmpget round trips (an early UDP probe would just sit in its timeout).
ready_probe() {
  grep -qs 'NET-SNMP version' "$LOG" || return 1
  healthy
}

start() {
  local t0
  t0=$(tk_now)
  tk_already_running "$t0" "$LOG" "$PIDFILE" "$LOG" "$AGENT" && return 0
  ensure_installed
  stop_package_daemon
  tk_udp_port_busy "$SNMP_PORT" && tk_die "udp port $SNMP_PORT is already taken by another process"
  write_config
  [[ -f $LOG ]] && mv -f "$LOG" "$LOG.prev"
  tk_log "starting snmpd $(dpkg-query -W -f='${Version}' snmpd 2>/dev/null || true) on $AGENT (data $DATA)"
  # -f: stay in the foreground of our own session (pid = $!); -I -smux,...: no smux
  # listener on tcp 199 (and the modules Debian disables too); -Lf: log to our file.
  tk_launch "$PIDFILE" "$STDOUT_LOG" env SNMPCONFPATH="$ETC:$PERSIST" SNMP_PERSISTENT_DIR="$PERSIST" \
    /usr/sbin/snmpd -f -Lf "$LOG" -I -smux,mteTrigger,mteTriggerConf
  tk_ready_or_stop "$t0" "$LOG" "$PIDFILE" "$LOG" ready_probe "$STDOUT_LOG"
  grep -q "^rouser $V3_USER256 " "$ETC/snmpd.conf" ||
    tk_log "note: this Net-SNMP has no SHA-256, user $V3_USER256 not created"
}

status() { tk_status "$PIDFILE" "$LOG" "$AGENT"; }

tk_main "${1:-}" "$LOG"
