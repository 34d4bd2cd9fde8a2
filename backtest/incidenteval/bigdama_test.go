package incidenteval

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/backtest/nab/nabtest"
	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestBigdamaBGPClear replays bigdama18's BGP-clear experiments (the
// second by default, both under TK_BACKTEST_FULL=1) through the detect
// stage and the incident rules, without an inventory (the export has
// none): each labelled clear, including those of several nodes together,
// is exactly one session-reset incident naming every node cleared.
func TestBigdamaBGPClear(t *testing.T) {
	dir := filepath.Join(nabtest.SharedData(), "bigdama18")
	if _, err := os.Stat(filepath.Join(dir, "labels", "bgpclear_second.csv")); err != nil {
		if os.Getenv("TK_INTEGRATION") != "" {
			t.Fatalf("bigdama18 not found at %s: %v", dir, err)
		}
		t.Skipf("bigdama18 not found at %s", dir)
	}
	exps := []string{"bgpclear_second"}
	if os.Getenv("TK_BACKTEST_FULL") != "" {
		exps = []string{"bgpclear_first", "bgpclear_second"}
	}
	var files, labels []string
	for _, x := range exps {
		m, _ := filepath.Glob(filepath.Join(dir, "data", "*"+x+".csv.gz"))
		files = append(files, m...)
		labels = append(labels, filepath.Join(dir, "labels", x+".csv"))
	}
	ds, err := backtest.LoadDataset(backtest.FormatWide, files, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := backtest.ReadLabelFiles(labels)
	if err != nil {
		t.Fatal(err)
	}
	res, err := backtest.Evaluate(t.Context(), "default", pipeline.DetectConfig{}, ds, nil, backtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	incs, _, err := Correlate(res.Detections, nil, incidents.Config{})
	if err != nil {
		t.Fatal(err)
	}
	events, extra := ScoreEvents(GroupLabels(rows), incs, schemas.RuleSession)
	rules := map[string]int{}
	for _, in := range incs {
		rules[in.Rule]++
	}
	hours := 0.0
	for _, s := range res.Stats.Devices {
		hours += s.Hours()
	}
	t.Logf("%s: %d points, %d detections → %d incidents %v over %.1f device-hours; %d session-reset incidents outside the labelled clears",
		strings.Join(exps, ", "), res.Stats.Points, len(res.Detections), len(incs), rules, hours, len(extra))
	grouped := 0
	for _, ev := range events {
		if ev.Grouped {
			grouped++
		} else {
			t.Errorf("clear of %v at %v: %d session-reset incidents, want one naming every node", ev.Devices, ev.Start.Format(time.DateTime), len(ev.Incidents))
		}
		for _, in := range ev.Incidents {
			t.Logf("clear of %v at %v: %s %s (%d evidence)", ev.Devices, ev.Start.Format(time.DateTime), in.ID, in.Cause, len(in.Evidence))
		}
	}
	t.Logf("%d of %d clears one incident", grouped, len(events))
	if len(events) != map[int]int{1: 5, 2: 12}[len(exps)] || len(extra) > 0 {
		t.Errorf("%d clears labelled, %d session-reset incidents outside them; want %d and none", len(events), len(extra), map[int]int{1: 5, 2: 12}[len(exps)])
	}
	for _, in := range extra {
		t.Logf("extra: %s %s %s (%d evidence)", in.OpenedAt.Format(time.DateTime), in.ID, in.Cause, len(in.Evidence))
	}
}
