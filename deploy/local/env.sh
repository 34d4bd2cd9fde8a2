# shellcheck shell=bash
# Addresses and credentials of the local test services (deploy/local/services.sh).
# Source it:  . deploy/local/env.sh
# Values already set in the environment win, so overrides given to the start scripts
# (TK_KAFKA_PORT, TK_SNMP_PORT, TK_SNMP_COMMUNITY, ...) carry over.
export TK_LOCAL_DIR="${TK_LOCAL_DIR:-/tmp/telekernel-local}"
export TK_KAFKA="${TK_KAFKA:-127.0.0.1:${TK_KAFKA_PORT:-9092}}"
export TK_CLICKHOUSE="${TK_CLICKHOUSE:-127.0.0.1:${TK_CLICKHOUSE_PORT:-9000}}"
export TK_CLICKHOUSE_HTTP="${TK_CLICKHOUSE_HTTP:-http://127.0.0.1:${TK_CLICKHOUSE_HTTP_PORT:-8123}}"
export TK_CLICKHOUSE_USER="${TK_CLICKHOUSE_USER:-default}"
export TK_ALERTMANAGER="${TK_ALERTMANAGER:-http://127.0.0.1:${TK_ALERTMANAGER_PORT:-19093}}"
export TK_SNMP_ADDR="${TK_SNMP_ADDR:-127.0.0.1:${TK_SNMP_PORT:-16161}}"
export TK_SNMP_COMMUNITY="${TK_SNMP_COMMUNITY:-tk-public}"
export TK_SNMP_V3_USER="${TK_SNMP_V3_USER:-tkuser}"          # authPriv, SHA (SHA-1) / AES-128
export TK_SNMP_V3_USER256="${TK_SNMP_V3_USER256:-tkuser256}" # authPriv, SHA-256 / AES-128
export TK_SNMP_V3_AUTH_PROTO="${TK_SNMP_V3_AUTH_PROTO:-SHA}"
export TK_SNMP_V3_PRIV_PROTO="${TK_SNMP_V3_PRIV_PROTO:-AES}"
export TK_SNMP_V3_AUTH_PASS="${TK_SNMP_V3_AUTH_PASS:-tk-auth-pass}"
export TK_SNMP_V3_PRIV_PASS="${TK_SNMP_V3_PRIV_PASS:-tk-priv-pass}"
