#!/usr/bin/env bash
# A local two-node ClickHouse cluster, separate from clickhouse.sh's shared server: one ZooKeeper
# (Debian's `zookeeper` 3.8, run as a plain java process) and two clickhouse-server 18.16
# instances, each with its own config and data under $TK_LOCAL_DIR/clickhouse-cluster/.
# Two clusters are defined over the same two nodes:
#   tk_1s2r  one shard, two replicas (node1, node2)
#   tk_2s1r  two shards of one replica each (node1 = shard 1, node2 = shard 2)
#   clickhouse-cluster.sh start|stop|status      whole cluster (start brings up whatever is down)
#   clickhouse-cluster.sh kill NODE              SIGKILL one server (node1|node2), for tests
set -euo pipefail
TK_SERVICE=clickhouse-cluster
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=127.0.0.1
ZK_PORT="${TK_CHC_ZK_PORT:-12181}"
NODE1_PORT="${TK_CHC_NODE1_PORT:-19000}"
NODE2_PORT="${TK_CHC_NODE2_PORT:-19001}"
ZK_HEAP="${TK_CHC_ZK_HEAP:--Xms32m -Xmx128m}"
DATA="$TK_LOCAL_DIR/clickhouse-cluster"
ZK_DIR="$DATA/zookeeper"
ZK_PID="$ZK_DIR/zookeeper.pid"
ZK_CONF="$ZK_DIR/zoo.cfg"
export PATH="$PATH:/usr/sbin:/sbin"

server_bin() { command -v clickhouse-server || echo /usr/sbin/clickhouse-server; }

# node_port NODE: native TCP port; HTTP is that + 1000 offset below, interserver + 10.
node_port() { case $1 in node1) echo "$NODE1_PORT" ;; node2) echo "$NODE2_PORT" ;; *) tk_die "unknown node '$1' (node1|node2)" ;; esac; }
node_http() { echo $(($(node_port "$1") - 800)); }        # 18200 / 18201
node_interserver() { echo $(($(node_port "$1") + 10)); } # 19010 / 19011
node_shard() { [[ $1 == node1 ]] && echo 1 || echo 2; }
node_dir() { echo "$DATA/$1"; }
node_conf() { echo "$(node_dir "$1")/config.xml"; }
node_pidfile() { echo "$(node_dir "$1")/clickhouse.pid"; }

ensure_installed() {
  local pkgs=()
  [[ -x $(server_bin) ]] || pkgs+=(clickhouse-server)
  command -v clickhouse-client >/dev/null || pkgs+=(clickhouse-client)
  [[ -f /usr/share/java/zookeeper.jar ]] || pkgs+=(zookeeper)
  ((${#pkgs[@]})) || return 0
  tk_apt_install "${pkgs[@]}"
}

# ---- ZooKeeper -------------------------------------------------------------------------
zk_4lw() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$ZK_PORT; printf $1 >&3; cat <&3" 2>/dev/null; }
# `ruok` answers imok before the server serves sessions (while it loads its snapshot, the
# servers' handshake fails and clickhouse-server exits); `stat` shows a Mode only once it serves.
zk_ruok() { [[ $(zk_4lw stat) == *"Mode: standalone"* ]]; }

zk_start() {
  if tk_pid_alive "$ZK_PID" "$ZK_CONF"; then return 0; fi
  tk_ports_free "$HOST" "$ZK_PORT"
  mkdir -p "$ZK_DIR/data" "$ZK_DIR/logs"
  cat >"$ZK_CONF" <<EOF
# Written by deploy/local/clickhouse-cluster.sh; regenerated on every start.
tickTime=500
initLimit=10
syncLimit=5
dataDir=$ZK_DIR/data
clientPortAddress=$HOST
clientPort=$ZK_PORT
maxClientCnxns=100
minSessionTimeout=1000
maxSessionTimeout=30000
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,mntr
autopurge.purgeInterval=1
EOF
  local t0
  t0=$(tk_now)
  tk_log "starting zookeeper on $HOST:$ZK_PORT (data $ZK_DIR)"
  # shellcheck disable=SC2086 # ZK_HEAP holds several JVM options
  tk_launch "$ZK_PID" "$ZK_DIR/logs/zookeeper.out" java $ZK_HEAP -XX:+UseSerialGC -Dzookeeper.log.dir="$ZK_DIR/logs" \
    -Dzookeeper.root.logger=INFO,CONSOLE \
    -cp "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/*" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZK_CONF"
  tk_ready_or_stop "$t0" "$ZK_DIR/logs/zookeeper.out" "$ZK_PID" "$ZK_CONF" zk_ruok
}

# ---- clickhouse-server nodes -----------------------------------------------------------
write_node_config() {
  local node=$1 dir port
  dir=$(node_dir "$node")
  port=$(node_port "$node")
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,logs}
  cat >"$(node_conf "$node")" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/local/clickhouse-cluster.sh; regenerated on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/logs/clickhouse-server.log</log>
        <errorlog>$dir/logs/clickhouse-server.err.log</errorlog>
        <size>50M</size>
        <count>2</count>
        <console>0</console>
    </logger>
    <listen_host>$HOST</listen_host>
    <tcp_port>$port</tcp_port>
    <http_port>$(node_http "$node")</http_port>
    <interserver_http_port>$(node_interserver "$node")</interserver_http_port>
    <interserver_http_host>$HOST</interserver_http_host>
    <max_connections>256</max_connections>
    <max_concurrent_queries>50</max_concurrent_queries>
    <!-- Small: two of these share a 2-core machine with Kafka and the shared server. -->
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <background_pool_size>2</background_pool_size>
    <background_schedule_pool_size>4</background_schedule_pool_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$DATA/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <zookeeper>
        <node><host>$HOST</host><port>$ZK_PORT</port></node>
        <session_timeout_ms>6000</session_timeout_ms>
    </zookeeper>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <macros>
        <shard>$(node_shard "$node")</shard>
        <replica>$node</replica>
    </macros>
    <remote_servers>
        <tk_1s2r>
            <shard>
                <internal_replication>true</internal_replication>
                <replica><host>$HOST</host><port>$NODE1_PORT</port></replica>
                <replica><host>$HOST</host><port>$NODE2_PORT</port></replica>
            </shard>
        </tk_1s2r>
        <tk_2s1r>
            <shard>
                <internal_replication>true</internal_replication>
                <replica><host>$HOST</host><port>$NODE1_PORT</port></replica>
            </shard>
            <shard>
                <internal_replication>true</internal_replication>
                <replica><host>$HOST</host><port>$NODE2_PORT</port></replica>
            </shard>
        </tk_2s1r>
    </remote_servers>
</yandex>
EOF
}

write_users() {
  cat >"$DATA/users.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/local/clickhouse-cluster.sh; regenerated on every start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>1000000000</max_memory_usage>
            <max_threads>2</max_threads>
            <load_balancing>in_order</load_balancing>
            <!-- IN (SELECT ...) over a Distributed table in a query on a Distributed table (the
                 analyst queries do this): run the subquery once, over the whole cluster. -->
            <distributed_product_mode>global</distributed_product_mode>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip><ip>::ffff:127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
EOF
}

node_ready() {
  [[ $(clickhouse-client --host "$HOST" --port "$(node_port "$1")" -q 'SELECT count() FROM system.zookeeper WHERE path = '"'/'" 2>/dev/null) =~ ^[1-9] ]]
}

node_start() {
  local node=$1 t0 dir pidfile conf
  dir=$(node_dir "$node")
  pidfile=$(node_pidfile "$node")
  conf=$(node_conf "$node")
  if tk_pid_alive "$pidfile" "$conf"; then return 0; fi
  tk_ports_free "$HOST" "$(node_port "$node")" "$(node_http "$node")" "$(node_interserver "$node")"
  write_node_config "$node"
  t0=$(tk_now)
  tk_log "starting $node on $HOST:$(node_port "$node") (shard $(node_shard "$node") of tk_2s1r, replica of tk_1s2r)"
  tk_launch "$pidfile" "$dir/logs/stdout.log" "$(server_bin)" --config-file="$conf"
  # shellcheck disable=SC2317 # called indirectly by tk_wait_ready
  ready() { node_ready "$node"; }
  tk_ready_or_stop "$t0" "$dir/logs/clickhouse-server.err.log" "$pidfile" "$conf" ready
}

start() {
  ensure_installed
  mkdir -p "$DATA"
  write_users
  zk_start
  node_start node1
  node_start node2
  tk_log "up: tk_1s2r and tk_2s1r on $HOST:$NODE1_PORT,$HOST:$NODE2_PORT (zookeeper $HOST:$ZK_PORT)"
}

stop() {
  tk_stop_pid "$(node_pidfile node1)" "$(node_conf node1)"
  tk_stop_pid "$(node_pidfile node2)" "$(node_conf node2)"
  tk_stop_pid "$ZK_PID" "$ZK_CONF"
}

kill_node() {
  local node=$1 pidfile
  node_port "$node" >/dev/null
  pidfile=$(node_pidfile "$node")
  tk_pid_alive "$pidfile" "$(node_conf "$node")" || tk_die "$node is not running"
  tk_log "SIGKILL $node (pid $(<"$pidfile"))"
  kill -KILL "$(<"$pidfile")"
  rm -f "$pidfile"
}

status() {
  local rc=0 node
  if zk_ruok; then tk_log "zookeeper up on $HOST:$ZK_PORT"; else tk_log "zookeeper down"; rc=1; fi
  for node in node1 node2; do
    if node_ready "$node"; then
      tk_log "$node up on $HOST:$(node_port "$node")"
    else
      tk_log "$node down"
      rc=1
    fi
  done
  return $rc
}

case "${1:-}" in
start) tk_lock; start ;;
stop) tk_lock; stop ;;
status) status ;;
kill) kill_node "${2:-}" ;;
*) echo "usage: $0 start|stop|status|kill node1|node2" >&2; exit 2 ;;
esac
