#!/usr/bin/env bash
# Measures the per-CPU-second figures and peak RSS that the capacity model in README.md
# ("Capacity model") is derived from. Each benchmark reports samples (or updates) per
# CPU-second of its own process; this script adds the process's peak RSS (VmHWM, the
# benchmark process alone, not its fleet child). Run from the repository root with the
# local services up (source deploy/local/env.sh):
#
#   deploy/capacity.sh [gnmi|gnmi-devices|detect|detect-series|detect-steady|sinks ...]   # default: all
#
# Kafka at $TK_KAFKA (default 127.0.0.1:9092), ClickHouse at $TK_CLICKHOUSE.
set -euo pipefail
kafka=${TK_KAFKA:-127.0.0.1:9092}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for b in collectors detect sinks; do
	CGO_ENABLED=0 go build -tags grpcnotrace -o "$bin/$b" "./benchmarks/$b"
done

# peak runs a command and prints its peak resident set (VmHWM) once it exits.
peak() {
	"$@" &
	local pid=$! hwm=0 v
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[[ -n $v ]] && hwm=$v
		sleep 0.2
	done
	wait "$pid"
	echo "  peak RSS of the benchmark process: $((hwm / 1024)) MB"
}

for what in "${@:-gnmi gnmi-devices detect detect-series detect-steady sinks}"; do
	for w in $what; do
		echo "== $w (load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
		case $w in
		gnmi) peak "$bin/collectors" gnmi --kafka "$kafka" --devices 20 --steps 1000 ;;
		# Ten times the devices, a tenth of the steps: the peak RSS difference per device.
		gnmi-devices) peak "$bin/collectors" gnmi --kafka "$kafka" --devices 200 --steps 100 ;;
		detect) peak "$bin/detect" --kafka "$kafka" --rounds 1 --samples 2000000 ;;
		# Ten and thirty times the series of the default run (34 000 and 102 000 instead of
		# 3 400), same samples: the peak RSS difference over the series difference is the
		# detect state per series, and fewer samples per series show the per-series costs.
		detect-series) peak "$bin/detect" --kafka "$kafka" --rounds 1 --samples 2000000 --devices 1000
			peak "$bin/detect" --kafka "$kafka" --rounds 1 --samples 2000000 --devices 3000 ;;
		# Steady state: one tick of one device per message and 10 000 devices (340 000 series),
		# so a transaction (at most 10 000 messages) holds about one sample per series, as at
		# a 10 s sample interval, and writes about one changelog record per sample. Two ticks
		# per series, then four: the CPU difference over the sample difference is the cost of a
		# sample to a series that already exists (the first sample of a series creates it).
		detect-steady) peak "$bin/detect" --kafka "$kafka" --rounds 1 --samples 680000 --devices 10000 --batch 1
			peak "$bin/detect" --kafka "$kafka" --rounds 1 --samples 1360000 --devices 10000 --batch 1 ;;
		sinks) peak "$bin/sinks" ;;
		*) echo "unknown benchmark $w" >&2; exit 2 ;;
		esac
	done
done
