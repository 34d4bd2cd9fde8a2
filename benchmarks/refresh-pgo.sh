#!/usr/bin/env bash
# refresh-pgo.sh writes cmd/telekernel/default.pgo, the CPU profile that go
# build uses for profile-guided optimisation of the telekernel binary (and
# of the benchmarks that link to it): two runs of the detect stage on the
# local Kafka (benchmarks/detect, 8 M samples, two workers) and the gNMI
# decoder's go benchmark, each built without a profile, merged. Run it
# after a change that moves the hot paths (the ensemble, the stage's row
# loop, the decoders), then `go test ./cmd/telekernel`.
#
#	bash deploy/local/services.sh start && bash benchmarks/refresh-pgo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/local/env.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -pgo=off -o "$tmp/detect" ./benchmarks/detect
for i in 1 2; do
	"$tmp/detect" --kafka "$TK_KAFKA" --samples 8000000 --workers 2 --rounds 1 --cpuprofile "$tmp/detect-$i.prof" | tail -n 4
done
go test -pgo=off -run '^$' -bench 'NotificationToArrow/decode' -benchtime 1s \
	-cpuprofile "$tmp/gnmi.prof" -o "$tmp/gnmi.test" ./collectors/gnmi | grep Benchmark
go tool pprof -proto "$tmp"/detect-*.prof "$tmp/gnmi.prof" >cmd/telekernel/default.pgo
echo "wrote cmd/telekernel/default.pgo ($(wc -c <cmd/telekernel/default.pgo) bytes)"
