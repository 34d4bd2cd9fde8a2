package backtest

import (
	"context"
	"math"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// xrGenericCounters are the leaves of bigdama18's interface columns that
// IOS-XR streams in infra-statistics' generic-counters container; the
// others (rates, loads, bandwidth) are in data-rate.
var xrGenericCounters = map[string]bool{"bytes-received": true, "bytes-sent": true, "packets-received": true, "packets-sent": true,
	"input-drops": true, "output-drops": true, "input-queue-drops": true, "output-queue-drops": true, "input-errors": true,
	"output-errors": true, "crc-errors": true, "carrier-transitions": true, "input-ignored-packets": true, "output-buffer-failures": true}

// xrPath returns the IOS-XR native gNMI path, origin first, of a wide CSV
// column read with no leaf mapped (/native/[TABLE/]LEAF, keys name=PREFIX
// or none): an interface's leaf under Cisco-IOS-XR-infra-statsd-oper, a
// route processor's drop counter under Cisco-IOS-XR-ipv4-io-oper, a BGP
// table's leaf under Cisco-IOS-XR-ipv4-bgp-oper's process-info, the rest
// under Cisco-IOS-XR-ip-rib-ipv4-oper.
func xrPath(metric, keys string) string {
	leaf := path.Base(metric)
	table := strings.TrimPrefix(path.Dir(metric), DefaultNativePrefix)
	if x, ok := strings.CutPrefix(keys, "name="); ok {
		if c := x[0]; 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' {
			container := "data-rate"
			if xrGenericCounters[leaf] {
				container = "generic-counters"
			}
			return "Cisco-IOS-XR-infra-statsd-oper:infra-statistics/interfaces/interface[interface-name=" + x + "]/latest/" + container + "/" + leaf
		}
		return "Cisco-IOS-XR-ipv4-io-oper:ipv4-network/nodes/node[node-name=" + x + "]/statistics/traffic/ipv4-stats/" + leaf
	}
	if table != "" {
		return "Cisco-IOS-XR-ipv4-bgp-oper:bgp/instances/instance[instance-name=default]/instance-active/default-vrf/process-info" + table + "/" + leaf
	}
	return "Cisco-IOS-XR-ip-rib-ipv4-oper:rib/vrfs/vrf[vrf-name=default]/afs/af[af-name=IPv4]/safs/saf[saf-name=Unicast]/ip-rib-route-table-names/ip-rib-route-table-name[route-table-name=default]/summary/" + leaf
}

// gnmiReplay is a Source that sends each row of a wide CSV source through
// the gNMI collector's decoder, as a target streaming IOS-XR's native
// models would: one notification per row, stamped with the row's time
// (years before the receive time), each cell a leaf at its xrPath with
// the value type a router gives it (whole numbers as uint_val, others
// double_val). The decoder decides every kind.
type gnmiReplay struct {
	src   Source
	paths map[string]*pb.Path
	decs  map[string]*gnmi.Decoder
	bats  map[string]*publish.Batch
}

func (g *gnmiReplay) Next(ctx context.Context) ([]schemas.Sample, error) {
	row, err := g.src.Next(ctx)
	if err != nil || len(row) == 0 {
		return row, err
	}
	dev := row[0].Device
	d, ok := g.decs[dev]
	if !ok {
		g.bats[dev] = publish.NewBatch(memory.NewGoAllocator(), dev, schemas.SourceGNMI)
		// A target's default timestamp window, as the collector gives
		// its decoder (DecoderConfig's own zero leaves it open).
		if d, err = gnmi.NewDecoder(g.bats[dev], gnmi.DecoderConfig{MaxPast: gnmi.DefaultMaxPast, MaxFuture: gnmi.DefaultMaxFuture}); err != nil {
			return nil, err
		}
		g.decs[dev] = d
	}
	n := &pb.Notification{Timestamp: row[0].TS}
	for _, s := range row {
		k := s.Metric + "\x00" + s.Keys
		p, ok := g.paths[k]
		if !ok {
			if p, err = gnmi.ParsePath(xrPath(s.Metric, s.Keys)); err != nil {
				return nil, err
			}
			g.paths[k] = p
		}
		v := &pb.TypedValue{Value: &pb.TypedValue_UintVal{UintVal: s.U64}}
		if s.Kind == schemas.KindGauge {
			if s.F64 >= 0 && s.F64 == math.Trunc(s.F64) && s.F64 < 1<<63 {
				v.Value = &pb.TypedValue_UintVal{UintVal: uint64(s.F64)}
			} else {
				v.Value = &pb.TypedValue_DoubleVal{DoubleVal: s.F64}
			}
		} else if s.Kind == schemas.KindState {
			v.Value = &pb.TypedValue_StringVal{StringVal: s.Str}
		}
		n.Update = append(n.Update, &pb.Update{Path: p, Val: v})
	}
	r := &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: n}}
	if _, err := d.DecodeResponse(r, time.Now().UnixNano()); err != nil {
		return nil, err
	}
	rec := g.bats[dev].NewRecord()
	if rec == nil { // every value of the row dropped
		return nil, nil
	}
	defer rec.Release()
	return schemas.Samples(rec)
}

func (g *gnmiReplay) Close() error { return g.src.Close() }

// TestBigdamaOverGNMI replays bigdama18's port-flap experiment (11 IOS-XR
// routers, 32 minutes, 4 labelled flaps) twice through the detect stage's
// default configuration: as telekernel eval reads the wide CSV, and as
// the gNMI collector's decoder reads the same values streamed over IOS-XR's
// native models with their own 2017 timestamps (xrPath, gnmiReplay; its
// default timestamp window, the counter kinds it infers from names and
// value types). Both must give the same report: every event, latency,
// false incident and firing detection. Before the decoder's window reached
// back 20 years, the replay published nothing (its one-year window dropped
// every value); before it read BGP's update-messages-received and its like
// as counters, the whole data set gave 9 741 firing detections over gNMI
// against 9 731 from the CSV.
func TestBigdamaOverGNMI(t *testing.T) {
	dir := bigdama(t)
	files, err := filepath.Glob(filepath.Join(dir, "data", "*portflap_first.csv.gz"))
	if err != nil || len(files) != 11 {
		t.Fatalf("%d portflap_first files (%v), want 11", len(files), err)
	}
	events, err := ReadLabelFiles([]string{filepath.Join(dir, "labels", "portflap_first.csv")})
	if err != nil {
		t.Fatal(err)
	}
	csvDS, err := LoadDataset(FormatWide, files, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Evaluate(t.Context(), "wide-csv", detect.Config{}, csvDS, events, quiet)
	if err != nil {
		t.Fatal(err)
	}
	m := DefaultMapping()
	m.Leaves = map[string]Leaf{}
	if err := m.compile(); err != nil {
		t.Fatal(err)
	}
	ds, err := LoadDataset(FormatWide, files, m, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ds.Groups {
		open := ds.Groups[i].Open
		ds.Groups[i].Open = func() (Source, error) {
			src, err := open()
			if err != nil {
				return nil, err
			}
			return &gnmiReplay{src: src, paths: map[string]*pb.Path{}, decs: map[string]*gnmi.Decoder{}, bats: map[string]*publish.Batch{}}, nil
		}
	}
	got, err := Evaluate(t.Context(), "gnmi", detect.Config{}, ds, events, quiet)
	if err != nil {
		t.Fatal(err)
	}
	w, g := want.Report, got.Report
	t.Logf("wide CSV: %d points, %d/%d events, %d within 30 s, %d state-based, false %d / %d, %d firing; over gNMI: %d points, %d/%d, %d, %d, false %d / %d, %d firing",
		want.Stats.Points, w.Detected, len(events), w.Within30s, w.StateWithinOneSample, w.FalseAny, w.FalseOwn, w.Firing,
		got.Stats.Points, g.Detected, len(events), g.Within30s, g.StateWithinOneSample, g.FalseAny, g.FalseOwn, g.Firing)
	if got.Stats.Points != want.Stats.Points || g.Detected != w.Detected || g.Detected != len(events) || g.Within30s != w.Within30s ||
		g.StateWithinOneSample != w.StateWithinOneSample || g.MedianLatency != w.MedianLatency || g.MaxLatency != w.MaxLatency ||
		g.FalseAny != w.FalseAny || g.FalseOwn != w.FalseOwn || g.Firing != w.Firing {
		t.Errorf("the replay over gNMI differs from the wide CSV's (above)")
	}
}
