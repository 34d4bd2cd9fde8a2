package detect

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
)

var updateDetections = flag.Bool("update-detections", false, "rewrite testdata/detections.golden from this build")

// detectionsGolden holds every record the detect stage emitted for
// goldenRecords, as the stage of 2026-12-02 wrote them (commit 786de83,
// before the detection builder and the shared hysteresis; the
// multivariate group's distances since the first vectors of its runs off
// the model are kept out of it, TestDetectMultivarOutlier): key, headers
// and value, one record a line.
const detectionsGolden = "testdata/detections.golden"

// goldenRecords is four simulated devices over two hours with a traffic
// spike, a traffic drop and a link flap: ensemble alerts, a multivariate
// group's alert and state events, firing and resolved.
func goldenRecords(t *testing.T) []*kgo.Record {
	m := time.Minute
	recs, _, _ := simMessages(t, 4, 720, []sim.Fault{
		{Device: "sim-01", Interface: "Ethernet1", Kind: sim.FaultTrafficSpike, After: 45 * m, Duration: 10 * m},
		{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultTrafficDrop, After: 80 * m, Duration: 20 * m},
		{Device: "sim-00", Interface: "Ethernet3", Kind: sim.FaultLinkFlap, After: 35 * m, Duration: 5 * m},
	})
	return recs
}

// TestDetectionsGolden: the detect stage emits, byte for byte, the records
// in detectionsGolden (with detectedAt fixed): the detections' JSON, their
// keys and CloudEvents headers do not change with a refactoring.
func TestDetectionsGolden(t *testing.T) {
	d := newTestDetect(t, multivarConfig())
	d.det.Now = func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	var b bytes.Buffer
	n := 0
	for _, r := range goldenRecords(t) {
		err := d.Process(context.Background(), r, func(o *kgo.Record) {
			n++
			b.Write(o.Key)
			for _, h := range o.Headers {
				b.WriteString(" " + h.Key + "=" + string(h.Value))
			}
			b.WriteString(" " + string(o.Value) + "\n")
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if *updateDetections {
		if err := os.WriteFile(detectionsGolden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(detectionsGolden)
	if err != nil {
		t.Fatal(err)
	}
	got, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
	if n < 10 || !strings.Contains(b.String(), `"mahalanobis"`) || !strings.Contains(b.String(), `"link_down"`) {
		t.Fatalf("%d detections, want at least 10 with ensemble, multivariate and state ones", n)
	}
	for i := range max(len(got), len(wl)) {
		if i >= len(got) || i >= len(wl) || got[i] != wl[i] {
			t.Fatalf("record %d differs from %s (%d lines, want %d):\ngot  %q\nwant %q", i, detectionsGolden, len(got), len(wl), at(got, i), at(wl, i))
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
