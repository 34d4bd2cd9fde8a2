#!/usr/bin/env bash
# Measures the per-CPU-second figures and peak RSS that the capacity model in README.md
# ("Capacity model") is derived from. Each benchmark reports samples (or updates) per
# CPU-second of its own process; this script adds the process's peak RSS (VmHWM, the
# benchmark process alone, not its fleet child). Run from the repository root with the
# local services up (source deploy/local/env.sh):
#
#   deploy/capacity.sh [gnmi|gnmi-devices|detect|detect-series|detect-steady|detect-model|sinks ...]   # default: all
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

for what in "${@:-gnmi gnmi-devices detect detect-series detect-steady detect-model sinks}"; do
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
		# Steady state at the model's device size: 170 devices of 332 interfaces (2 002 series, so
		# 2 002 samples per message), transactions of about one tick of the fleet (170 messages). 2 and
		# 6 ticks, with a checkpoint in every transaction and with one every 5m (which writes
		# records only at the first and the last): from the four runs' CPU-seconds (samples over
		# samples per CPU-second) and changelog records, the two differences (6 ticks − 2) give
		# the cost of a sample to an existing series and of a changelog record (README,
		# "Capacity model").
		detect-model)
			for ci in 0 5m; do for n in 681000 2043000; do
				peak "$bin/detect" --kafka "$kafka" --rounds 1 --samples $n --devices 170 --interfaces 332 --batch 1 --txn-max-records 170 --checkpoint-interval $ci
			done; done | tee "$bin/model.txt"
			awk '/^input:/ { n[++i] = $2 }
				/^detect stage/ { for (k = 1; k <= NF; k++) if ($k == "per" && $(k + 1) == "CPU-second") c[i] = n[i] / $(k - 2) }
				/^state:/ { for (k = 1; k <= NF; k++) if ($k == "changelog" && $(k + 1) == "records,") r[i] = $(k - 1) }
				END {
					if (i != 4) { print "detect-model: expected 4 runs, got " i > "/dev/stderr"; exit 1 }
					b = ((c[2] - c[1]) - (c[4] - c[3])) / ((r[2] - r[1]) - (r[4] - r[3]))
					a = ((c[4] - c[3]) - b * (r[4] - r[3])) / (n[4] - n[3])
					printf "  per sample to an existing series %.2f µs, per changelog record %.2f µs\n", a * 1e6, b * 1e6
					printf "  at 2 M samples/s, one record per sample: %.1f cores; one per six (checkpoint_interval 60s at a 10 s sample interval): %.1f\n", 2e6 * (a + b), 2e6 * (a + b / 6)
				}' "$bin/model.txt" ;;
		sinks) peak "$bin/sinks" ;;
		*) echo "unknown benchmark $w" >&2; exit 2 ;;
		esac
	done
done
