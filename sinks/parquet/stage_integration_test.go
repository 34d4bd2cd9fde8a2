package parquet

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/internal/sinktest"
)

// counterFleet returns interface counters of devices×ifaces series every
// 20 s for steps steps from 10:48 UTC, so they cross an hour boundary, in
// messages of one device and step each (the way a collector batches).
func counterFleet(mem memory.Allocator, devices, ifaces, steps int) ([]arrow.RecordBatch, []schemas.Sample) {
	const in = "/interfaces/interface/state/counters/in-octets"
	start := time.Date(2026, 11, 23, 10, 48, 0, 0, time.UTC)
	var recs []arrow.RecordBatch
	var all []schemas.Sample
	b := schemas.NewSampleBuilder(mem)
	defer b.Release()
	for k := range steps {
		for d := range devices {
			for i := range ifaces {
				s := schemas.Sample{TS: start.Add(time.Duration(k)*20*time.Second + time.Duration(d)*time.Millisecond).UnixNano(),
					Device: fmt.Sprintf("edge%03d", d), Metric: in, Keys: fmt.Sprintf("name=Ethernet%d", i),
					Kind: schemas.KindCounter, U64: 1<<60 + uint64(k*(d+1)*(i+1))*1_000_003, Source: schemas.SourceGNMI}
				b.Append(&s)
				all = append(all, s)
			}
			recs = append(recs, b.NewRecord())
		}
	}
	return recs, all
}

func sortSamples(ss []schemas.Sample) {
	slices.SortFunc(ss, func(a, b schemas.Sample) int {
		return cmp.Or(strings.Compare(a.Device, b.Device), strings.Compare(a.Metric, b.Metric),
			strings.Compare(a.Keys, b.Keys), cmp.Compare(a.TS, b.TS))
	})
}

// TestIntegrationStageKillBetweenWriteAndCommit runs the Parquet stage on
// the real Kafka: the first runner commits a flush, then is killed after
// its next flush has written files and before the commit; more messages
// arrive; a second runner, flushing at other boundaries, re-reads from the
// last commit. The lake then holds exactly the N samples produced, by the
// Go reader and by pyarrow.
func TestIntegrationStageKillBetweenWriteAndCommit(t *testing.T) {
	kc, cl := sinktest.Kafka(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	topic := sinktest.Topic(t, cl, "tk-test-pqkill-", 3)
	group := sinktest.Name("tk-test-pqkill-")
	root := t.TempDir()

	recs, want := counterFleet(mem, 24, 8, 45) // 8640 rows, 1080 messages
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	third := len(recs) / 3
	sinktest.ProduceSamples(t, cl, topic, recs[:third])

	log, _ := sinktest.NewLog(t)
	newRunner := func(sink pipeline.Sink, rows int) *pipeline.Runner {
		r, err := pipeline.NewRunner(context.Background(), kc, pipeline.RunnerConfig{
			Name: "parquet", Group: group, Topics: []string{topic}, FlushRows: rows, FlushInterval: 200 * time.Millisecond,
		}, sink, pipeline.NewMetrics(prometheus.NewRegistry()), log)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	w1, err := New(Config{Root: root}, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	kill := &sinktest.KillAfterWrite{Sink: NewStage(w1, mem), KillAt: 2}
	r1 := newRunner(kill, 1_000_000)
	done := make(chan error, 1)
	go func() { done <- r1.Run(context.Background()) }()
	for deadline := time.Now().Add(30 * time.Second); r1.Stats().Flushed == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first flush was not committed within 30 s")
		}
	}
	sinktest.ProduceSamples(t, cl, topic, recs[third:2*third])
	select {
	case err := <-done:
		if !errors.Is(err, sinktest.ErrKilled) {
			t.Fatalf("first runner: %v, want the test kill", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first runner was not killed")
	}
	_, killedRows := kill.Killed()
	committed := r1.Stats().Flushed
	t.Logf("first runner: %d rows committed, then killed after writing %d more", committed, killedRows)
	sinktest.ProduceSamples(t, cl, topic, recs[2*third:])

	w2, err := New(Config{Root: root}, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	r2 := newRunner(NewStage(w2, mem), 700)
	sinktest.Drain(t, r2, 45*time.Second)
	t.Logf("second runner: %d rows written in %d files, %d files of the killed flush replaced", w2.Stats().Rows, w2.Stats().Files, w2.Stats().Replaced)
	if got := r2.Stats().Flushed; got != int64(len(want))-committed {
		t.Errorf("second runner wrote %d rows, want the %d not committed", got, int64(len(want))-committed)
	}

	t.Logf("lake:\n%s", strings.Join(lake(t, root), "\n"))
	n, err := CountRows(root)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) {
		t.Fatalf("CountRows = %d, want exactly N = %d", n, len(want))
	}
	var got []schemas.Sample
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		ss, err := ReadSamples(p)
		got = append(got, ss...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sortSamples(got)
	sortSamples(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the lake's rows differ from the samples produced (%d vs %d rows)", len(got), len(want))
	}

	// An independent reader agrees.
	requirePyarrow(t)
	script := `
import json, sys
import pyarrow.dataset as ds
t = ds.dataset(sys.argv[1], format="parquet", partitioning="hive").to_table()
keys = set(zip(t["device"].to_pylist(), t["keys"].to_pylist(), t["ts"].cast("int64").to_pylist()))
print(json.dumps({"rows": t.num_rows, "distinct": len(keys), "u64_sum": str(sum(t["value_u64"].to_pylist()))}))
`
	cmd := exec.Command("python3", "-c", script, filepath.Join(root, DefaultTable))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyarrow: %v\n%s", err, stderr.String())
	}
	var py struct {
		Rows, Distinct int
		U64Sum         string `json:"u64_sum"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("pyarrow output %s: %v", out, err)
	}
	var sum big.Int
	for _, s := range want {
		sum.Add(&sum, new(big.Int).SetUint64(s.U64))
	}
	if py.Rows != len(want) || py.Distinct != len(want) || py.U64Sum != sum.String() {
		t.Errorf("pyarrow reads %d rows, %d distinct (device, keys, ts), value_u64 sum %s; want %d, %d, %s",
			py.Rows, py.Distinct, py.U64Sum, len(want), len(want), sum.String())
	}
	t.Logf("pyarrow: %d rows, %d distinct, sums agree", py.Rows, py.Distinct)
}
