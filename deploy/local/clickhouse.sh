#!/usr/bin/env bash
# ClickHouse (Debian 12's clickhouse-server 18.16) with its own config under the data dir:
# native TCP 127.0.0.1:9000, HTTP 127.0.0.1:8123, user `default` with an empty password;
# native TCP over TLS 127.0.0.1:9440 (certificate from tk_tls_certs) for user TK_CLICKHOUSE_TLS_USER
# with a password (the TLS tests log in as that user).
#   clickhouse.sh start|stop|status
set -euo pipefail
TK_SERVICE=clickhouse
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CH_HOST=127.0.0.1
CH_TCP_PORT="${TK_CLICKHOUSE_PORT:-9000}"
CH_HTTP_PORT="${TK_CLICKHOUSE_HTTP_PORT:-8123}"
CH_TLS_PORT="${TK_CLICKHOUSE_TLS_PORT:-9440}"
CH_TLS_USER="${TK_CLICKHOUSE_TLS_USER:-tk}"
CH_TLS_PASSWORD="${TK_CLICKHOUSE_TLS_PASSWORD:-tk-clickhouse-pass}"
DATA="$TK_LOCAL_DIR/clickhouse"
PIDFILE="$DATA/clickhouse.pid"
CONF="$DATA/config.xml"
USERS="$DATA/users.xml"
LOGDIR="$DATA/logs"
SERVER_LOG="$LOGDIR/clickhouse-server.log"
ERR_LOG="$LOGDIR/clickhouse-server.err.log"
STDOUT_LOG="$LOGDIR/stdout.log"
export PATH="$PATH:/usr/sbin:/sbin"

server_bin() { command -v clickhouse-server || echo /usr/sbin/clickhouse-server; }
client() { clickhouse-client --host "$CH_HOST" --port "$CH_TCP_PORT" "$@"; }

# The package's init script / unit runs a server from /etc/clickhouse-server on the same
# ports (as user clickhouse). apt runs under policy-rc.d and there is no systemd, but if one
# got started anyway, stop it.
stop_package_daemon() {
  tk_stop_package_daemon clickhouse-server "$(server_bin)" /etc/clickhouse-server/config.xml "$CONF"
}

ensure_installed() {
  if [[ -x $(server_bin) ]] && command -v clickhouse-client >/dev/null; then
    return 0
  fi
  local t0
  t0=$(tk_now)
  tk_apt_install clickhouse-server clickhouse-client
  tk_log "installed $(dpkg-query -W -f='${Package} ${Version}' clickhouse-server) in $(tk_since "$t0")s"
}

# loopback_user NAME PASSWORD_ELEMENT: a users.xml user of the default profile and quota that
# may connect from loopback only.
loopback_user() {
  cat <<EOF
        <$1>
            $2
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
                <ip>::ffff:127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </$1>
EOF
}

write_config() {
  mkdir -p "$DATA"/{data,tmp,user_files,format_schemas,dictionaries} "$LOGDIR"
  cat >"$CONF" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/local/clickhouse.sh; regenerated on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$SERVER_LOG</log>
        <errorlog>$ERR_LOG</errorlog>
        <size>100M</size>
        <count>3</count>
        <console>0</console>
    </logger>

    <listen_host>$CH_HOST</listen_host>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port_secure>$CH_TLS_PORT</tcp_port_secure>
    <openSSL>
        <server>
            <certificateFile>$TK_LOCAL_DIR/tls/server.pem</certificateFile>
            <privateKeyFile>$TK_LOCAL_DIR/tls/server.key</privateKeyFile>
            <verificationMode>none</verificationMode>
            <loadDefaultCAFile>false</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
    </openSSL>
    <!-- no interserver_http_port: single node, no replication, nothing listens on 9009 -->

    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>

    <!-- Sized for a 2-core / 24 GiB test machine shared with Kafka and the tests. -->
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>536870912</mark_cache_size>

    <path>$DATA/data/</path>
    <tmp_path>$DATA/tmp/</tmp_path>
    <user_files_path>$DATA/user_files/</user_files_path>
    <format_schema_path>$DATA/format_schemas/</format_schema_path>
    <users_config>$USERS</users_config>
    <include_from>$DATA/metrika.xml</include_from>
    <dictionaries_config>$DATA/dictionaries/*_dictionary.xml</dictionaries_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <umask>022</umask>
    <mlock_executable>false</mlock_executable>

    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>

    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
</yandex>
EOF
  cat >"$USERS" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/local/clickhouse.sh; regenerated on every start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <max_memory_usage_for_all_queries>8000000000</max_memory_usage_for_all_queries>
            <max_threads>2</max_threads>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>

    <users>
$(loopback_user default '<password></password>')
$(loopback_user "$CH_TLS_USER" "<password_sha256_hex>$(printf '%s' "$CH_TLS_PASSWORD" | sha256sum | cut -d' ' -f1)</password_sha256_hex>")
    </users>

    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
  [[ -f $DATA/metrika.xml ]] || printf '<?xml version="1.0"?>\n<yandex/>\n' >"$DATA/metrika.xml"
}

healthy() {
  tk_pid_alive "$PIDFILE" "$CONF" || return 1
  [[ $(client -q 'SELECT 1' 2>/dev/null) == 1 ]]
}

ready_probe() {
  # HTTP ping first (cheap, no process spawn beyond bash), then a real query over TCP.
  [[ $(tk_http_get "$CH_HOST" "$CH_HTTP_PORT" /ping) == Ok.* ]] || return 1
  [[ $(client -q 'SELECT 1' 2>/dev/null) == 1 ]] && tk_tcp_open "$CH_HOST" "$CH_TLS_PORT"
}

start() {
  local t0
  t0=$(tk_now)
  if tk_already_running "$t0" "$SERVER_LOG" "$PIDFILE" "$CONF" "$CH_HOST:$CH_TCP_PORT"; then
    tk_warn_closed "$CH_HOST" "$CH_TLS_PORT" "secure native port"
    return 0
  fi
  ensure_installed
  stop_package_daemon
  tk_ports_free "$CH_HOST" "$CH_TCP_PORT" "$CH_HTTP_PORT" "$CH_TLS_PORT"
  tk_tls_certs
  write_config
  tk_log "starting clickhouse-server $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || true) on $CH_HOST:$CH_TCP_PORT / http :$CH_HTTP_PORT (data $DATA)"
  # Runs in the foreground of its own session (no --daemon), as the current user; the data
  # dir is ours, so running as root is fine for 18.16 (no owner check in this version).
  tk_launch "$PIDFILE" "$STDOUT_LOG" "$(server_bin)" --config-file="$CONF"
  tk_ready_or_stop "$t0" "$ERR_LOG" "$PIDFILE" "$CONF" ready_probe "$SERVER_LOG" "$STDOUT_LOG"
}

status_detail() {
  echo " (TLS :$CH_TLS_PORT $(tk_tcp_open "$CH_HOST" "$CH_TLS_PORT" && echo open || echo CLOSED)), version $(client -q 'SELECT version()' 2>/dev/null)"
}

status() { tk_status "$PIDFILE" "$CONF" "$CH_HOST:$CH_TCP_PORT" status_detail; }

tk_main "${1:-}" "$CONF"
