#!/usr/bin/env bash
# Single-node Apache Kafka 4.1.1 (KRaft, combined broker+controller) on 127.0.0.1:9092
# (controller on 127.0.0.1:9093), from Maven Central jars, plus a SASL_SSL listener on
# 127.0.0.1:9094 (SCRAM-SHA-512, user TK_KAFKA_SASL_USER, certificate from tk_tls_certs).
#   kafka.sh start|stop|status|smoke [topic] [count]|prune [minutes]
set -euo pipefail
TK_SERVICE=kafka
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=4.1.1
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${TK_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${TK_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SASL_PORT="${TK_KAFKA_SASL_PORT:-9094}"
KAFKA_SASL_USER="${TK_KAFKA_SASL_USER:-tk}"
KAFKA_SASL_PASSWORD="${TK_KAFKA_SASL_PASSWORD:-tk-kafka-pass}"
KAFKA_PARTITIONS="${TK_KAFKA_PARTITIONS:-3}"
KAFKA_HEAP_OPTS="${TK_KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_JVM_OPTS="${TK_KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20}"
DATA="$TK_LOCAL_DIR/kafka"
LIBS="$TK_CACHE_DIR/kafka-$KAFKA_VERSION/libs"
PIDFILE="$DATA/kafka.pid"
CONF="$DATA/server.properties"
LOG4J="$DATA/log4j.properties"
LOGDIR="$DATA/logs"
SERVER_LOG="$LOGDIR/server.log"
STDOUT_LOG="$LOGDIR/kafka.out"
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

kjava() {
  java -Xshare:auto -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m \
    -Dlog4j.configuration="file:$DATA/log4j-tools.properties" -Dlog4j2.level=WARN \
    -cp "$LIBS/*" "$@"
}

ensure_jars() {
  if [[ -f $LIBS/.complete ]] && compgen -G "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || tk_die "mvn not found (needed once to fetch the Kafka jars)"
  local t0 tmp
  t0=$(tk_now)
  tk_log "fetching Kafka $KAFKA_VERSION jars into $LIBS"
  mkdir -p "$(dirname "$LIBS")"
  tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"
  # -B: batch mode (no stdin, no colours in CI); run from the pom's directory-independent path.
  if ! mvn -B -q -f "$TK_LOCAL_SCRIPTS/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" </dev/null >"$(dirname "$LIBS")/mvn.log" 2>&1; then
    tail -n 30 "$(dirname "$LIBS")/mvn.log" >&2
    rm -rf "$tmp"
    tk_die "mvn dependency:copy-dependencies failed"
  fi
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  touch "$LIBS/.complete"
  tk_log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars in $(tk_since "$t0")s"
}

write_config() {
  mkdir -p "$DATA" "$LOGDIR" "$DATA/kraft-logs"
  cat >"$CONF" <<EOF
# Written by deploy/local/kafka.sh; regenerated on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
# SASL_SSL: SCRAM-SHA-512 users (created at format time and set again by set_scram_user), TLS with a
# PEM keystore holding the key and certificate from tk_tls_certs.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$DATA/keystore.pem
log.dirs=$DATA/kraft-logs
num.partitions=$KAFKA_PARTITIONS
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${TK_KAFKA_OFFSETS_PARTITIONS:-3}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=3
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
# The log cleaner's offset map (compacted topics: changelogs, __consumer_offsets), allocated on
# the heap at start: Kafka's 128 MiB default, smaller for a test's broker with a small heap.
log.cleaner.dedupe.buffer.size=${TK_KAFKA_CLEANER_BUFFER:-134217728}
EOF
  # Broker logging (slf4j -> reload4j), INFO to a file in the data dir.
  cat >"$LOG4J" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$SERVER_LOG
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
  # log4j-core 2.x is on the class path too (Kafka's Log4jController touches it): give it a
  # config so it does not complain, and keep anything logged through it in the logs dir.
  cat >"$DATA/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $LOGDIR/server-log4j2.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
EOF
  # Command-line tools (StorageTool, ConfigCommand, smoke test): warnings to stderr only.
  cat >"$DATA/log4j-tools.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

format_storage() {
  if [[ -f $DATA/kraft-logs/meta.properties ]]; then
    return 0
  fi
  local uuid
  uuid=$(kjava kafka.tools.StorageTool random-uuid 2>>"$STDOUT_LOG" | tail -n 1)
  [[ $uuid =~ ^[A-Za-z0-9_-]{22}$ ]] || tk_die "could not generate a cluster id (got '$uuid')"
  echo "$uuid" >"$DATA/cluster.id"
  tk_log "formatting storage, cluster id $uuid"
  kjava kafka.tools.StorageTool format -t "$uuid" -c "$CONF" \
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" >>"$STDOUT_LOG" 2>&1 ||
    { tk_log_tail "$STDOUT_LOG"; tk_die "storage format failed"; }
}

# set_scram_user sets the SCRAM-SHA-512 credential of TK_KAFKA_SASL_USER through the
# running broker, at every start, whatever the storage holds. This machine's local broker
# (Kafka 4.1.1), restarted on a metadata log of many make test runs, had no SCRAM
# credential at all: the log held the user's records and no removal of it, the controller
# replayed them, and every SASL login failed; an earlier script trusted its marker file
# (kafka/scram.user) and did not set the user again. The cause was not found (fresh storage
# kept the user through restarts, another user created and deleted, 400 topics created and
# deleted); TestKafkaRestartKeepsSASLUser deletes the credential and restarts. Setting it
# also applies a changed TK_KAFKA_SASL_USER/PASSWORD and gives storage formatted before the
# SASL_SSL listener existed its user. It costs one admin JVM (about 2 s) per start, none
# when the broker is already running.
set_scram_user() {
  kjava kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --alter --entity-type users \
    --entity-name "$KAFKA_SASL_USER" --add-config "SCRAM-SHA-512=[password=$KAFKA_SASL_PASSWORD]" >>"$STDOUT_LOG" 2>&1 ||
    { tk_log_tail "$STDOUT_LOG"; return 1; }
  rm -f "$DATA/scram.user" # the marker of earlier scripts, which trusted it over the broker
}

# write_keystore: Kafka's PEM keystore is one file with the private key and the certificate.
write_keystore() {
  tk_tls_certs
  (umask 077; cat "$TK_LOCAL_DIR/tls/server.key" "$TK_LOCAL_DIR/tls/server.pem" >"$DATA/keystore.pem")
}

# kafka_metadata: one real MetadataRequest (v4, the oldest version Kafka 4.x still serves) over
# plain bash /dev/tcp, parsed with od: no JVM per probe (a ConfigCommand/Admin client call costs
# ~1.5 s of CPU on this 2-core box). Prints "brokers=N controller=ID cluster=ID"; fails unless
# the broker answers with at least one live broker.
kafka_metadata() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    set -euo pipefail
    exec 3<>"/dev/tcp/$0/$1"
    # size 23 | api_key 3 | version 4 | correlation id 42 | client id "tk-probe" |
    # topics null (= all) | allow_auto_topic_creation false
    printf "\x00\x00\x00\x17\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x08tk-probe\xff\xff\xff\xff\x00" >&3
    read -r -a h < <(head -c 4 <&3 | od -An -v -tu1)
    ((${#h[@]} == 4)) || exit 1
    size=$(( (h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3] ))
    ((size > 12 && size < 1048576)) || exit 1
    mapfile -t b < <(head -c "$size" <&3 | od -An -v -tu1 -w1)
    ((${#b[@]} == size)) || exit 1
    i32() { echo $(( (b[$1] << 24) | (b[$1+1] << 16) | (b[$1+2] << 8) | b[$1+3] )); }
    i16() { echo $(( (b[$1] << 8) | b[$1+1] )); }
    (($(i32 0) == 42)) || exit 1                               # correlation id
    n=$(i32 8); ((n >= 1 && n < 1000)) || exit 1              # brokers (after throttle_time_ms)
    p=12
    for ((k = 0; k < n; k++)); do
      p=$((p + 4)); l=$(i16 $p); p=$((p + 2 + l + 4))          # node_id, host, port
      l=$(i16 $p); ((l == 65535)) && l=0; p=$((p + 2 + l))     # rack (nullable)
    done
    l=$(i16 $p); cid=""
    if ((l != 65535)); then
      for ((k = 0; k < l; k++)); do cid+=$(printf "\\x$(printf %x "${b[p+2+k]}")"); done
      p=$((p + 2 + l))
    else
      p=$((p + 2))
    fi
    echo "brokers=$n controller=$(i32 $p) cluster=$cid"
  ' "$KAFKA_HOST" "$KAFKA_PORT" 2>/dev/null
}

# Healthy = our process, answering metadata requests, with our cluster id (not some other broker).
healthy() {
  tk_pid_alive "$PIDFILE" "$CONF" || return 1
  local md
  md=$(kafka_metadata) || return 1
  [[ ! -s $DATA/cluster.id || $md == *"cluster=$(<"$DATA/cluster.id")" ]]
}

start() {
  local t0
  t0=$(tk_now)
  # Healthy -> no-op; a start still in progress (e.g. a concurrent caller) -> wait for it.
  if tk_already_running "$t0" "$SERVER_LOG" "$PIDFILE" "$CONF" "$BOOTSTRAP"; then
    tk_warn_closed "$KAFKA_HOST" "$KAFKA_SASL_PORT" "SASL_SSL listener"
    prune_if_crowded
    return 0
  fi
  command -v java >/dev/null || tk_die "java not found"
  tk_ports_free "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"
  ensure_jars
  write_config
  write_keystore
  reset_if_crowded
  format_storage
  # Keep the previous run's log for post-mortems, start the new one empty.
  [[ -f $SERVER_LOG ]] && mv -f "$SERVER_LOG" "$SERVER_LOG.prev"
  tk_log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (data $DATA)"
  # shellcheck disable=SC2086
  tk_launch "$PIDFILE" "$STDOUT_LOG" java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS -server \
    -Djava.awt.headless=true -Dkafka.logs.dir="$LOGDIR" \
    -Dlog4j.configuration="file:$LOG4J" -Dlog4j2.configurationFile="$DATA/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$CONF"
  tk_ready_or_stop "$t0" "$SERVER_LOG" "$PIDFILE" "$CONF" healthy "$STDOUT_LOG"
  set_scram_user || { tk_stop_pid "$PIDFILE" "$CONF"; tk_die "could not set the SCRAM user $KAFKA_SASL_USER"; }
  tk_tcp_open "$KAFKA_HOST" "$KAFKA_SASL_PORT" ||
    { tk_log_tail "$SERVER_LOG"; tk_stop_pid "$PIDFILE" "$CONF"; tk_die "the SASL_SSL listener on $KAFKA_HOST:$KAFKA_SASL_PORT is not open"; }
  tk_log "SASL_SSL (SCRAM-SHA-512, user $KAFKA_SASL_USER) on $KAFKA_HOST:$KAFKA_SASL_PORT"
}

status_detail() {
  echo ", $(kafka_metadata); SASL_SSL $KAFKA_HOST:$KAFKA_SASL_PORT $(tk_tcp_open "$KAFKA_HOST" "$KAFKA_SASL_PORT" && echo open || echo CLOSED)"
}

status() { tk_status "$PIDFILE" "$CONF" "$BOOTSTRAP" status_detail; }

# Produce and consume a few records with the plain Java client (kafka-clients is in the jars;
# kafka_2.13 4.x no longer ships the console producer/consumer or TopicCommand).
smoke() {
  status >/dev/null 2>&1 || tk_die "Kafka is not up"
  write_tools_log4j_if_missing
  kjava "$TK_LOCAL_SCRIPTS/kafka/KafkaSmoke.java" "$BOOTSTRAP" "${1:-tk-smoke-$(date +%s)}" "${2:-100}"
}

# Test topics carry a unique hex or decimal run in their name (tk.samples.gnmi-test-1733…,
# soak-f7441dab.samples) and are never deleted by the tests, so a broker kept across many
# `make test` runs collects thousands of partitions until it runs out of file descriptors.
# prune deletes the test topics none of whose partitions had a record appended (its .log
# file written) in the last
# ${1:-120} minutes; a test runs for at most 30 minutes, so no running test loses its topic.
idle_test_topics() {
  local minutes=$1 dir topic
  declare -A busy=() seen=()
  while IFS= read -r dir; do busy[${dir%-*}]=1; done < <(
    find "$DATA/kraft-logs" -mindepth 2 -maxdepth 2 -name '*.log' -mmin "-$minutes" -printf '%h\n' | xargs -r -n1 basename | sort -u)
  for dir in "$DATA"/kraft-logs/*-[0-9]*/; do
    [[ $dir != *-delete/ ]] || continue
    topic=$(basename "$dir"); topic=${topic%-*}
    [[ $topic =~ [0-9a-f]{8,} && $topic != __* && -z ${busy[$topic]:-} && -z ${seen[$topic]:-} ]] || continue
    seen[$topic]=1
    echo "$topic"
  done
}

prune() {
  status >/dev/null 2>&1 || tk_die "Kafka is not up"
  write_tools_log4j_if_missing
  local -a topics
  mapfile -t topics < <(idle_test_topics "${1:-120}")
  ((${#topics[@]} > 0)) || { tk_log "no idle test topics"; return 0; }
  tk_log "deleting ${#topics[@]} test topics idle for ${1:-120} minutes"
  local i
  for ((i = 0; i < ${#topics[@]}; i += 200)); do
    kjava "$TK_LOCAL_SCRIPTS/kafka/KafkaPrune.java" "$BOOTSTRAP" "${topics[@]:i:200}"
  done
}

# prune_if_crowded prunes when the broker holds more than 1000 partitions.
prune_if_crowded() {
  local n
  n=$(find "$DATA/kraft-logs" -mindepth 1 -maxdepth 1 -type d | wc -l)
  ((n > 1000)) || return 0
  prune 120 || tk_log "could not prune idle test topics (the tests do not need it)"
}

# reset_if_crowded empties the storage of a stopped broker that holds more than 2000
# partitions. Tests create topics of their own prefix and leave most of them; a running
# broker prunes the idle ones (prune_if_crowded), but one stopped with thousands of them
# loads every one and its transactions before it answers, past the 90 s a start waits
# (3 806 partitions of 1 133 topics took longer than that on the 2-core machine). The
# broker holds test data only, so it starts from empty storage (formatted again, with its
# SCRAM user) instead.
reset_if_crowded() {
  local n
  n=$(find "$DATA/kraft-logs" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
  ((n > 2000)) || return 0
  tk_log "the stopped broker holds $n partitions of earlier test runs: starting from empty storage"
  rm -rf "$DATA/kraft-logs"
  mkdir -p "$DATA/kraft-logs"
}

write_tools_log4j_if_missing() {
  [[ -f $DATA/log4j-tools.properties ]] || write_config
}

case "${1:-}" in
start) tk_lock; start ;;
stop) tk_lock; tk_stop_pid "$PIDFILE" "$CONF" ;;
status) status ;;
smoke) shift; smoke "$@" ;;
prune) shift; prune "$@" ;;
*) echo "usage: $0 start|stop|status|smoke [topic] [count]|prune [minutes]" >&2; exit 2 ;;
esac
