package live

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Config says where a Watcher reads.
type Config struct {
	Kafka kafka.Config
	// Topics of detections, maintenance events, power rows and incidents;
	// an empty name is not read.
	Detections, Maintenance, Power, Incidents string
	// Gatherer holds the process's metrics (stages, collector targets,
	// publisher); nil leaves those panes empty.
	Gatherer prometheus.Gatherer
}

// Watcher reads what the output topics receive after it starts
// (read-committed, no consumer group: it commits nothing and moves no
// stage's offsets) into a State, and reads the stage and collector figures
// from the metrics.
type Watcher struct {
	cfg    Config
	cl     *kgo.Client
	topics []string

	mu    sync.Mutex
	state *State
	next  map[string]map[int32]int64 // offset after the last record read
	prev  Snapshot
	prevT time.Time
}

// NewWatcher connects a Watcher; Run reads.
func NewWatcher(ctx context.Context, cfg Config) (*Watcher, error) {
	w := &Watcher{cfg: cfg, state: NewState(), next: map[string]map[int32]int64{}}
	for _, t := range []string{cfg.Detections, cfg.Maintenance, cfg.Power, cfg.Incidents} {
		if t != "" {
			w.topics = append(w.topics, t)
			w.next[t] = map[int32]int64{}
		}
	}
	admin, err := kafka.Connect(ctx, cfg.Kafka)
	if err != nil {
		return nil, fmt.Errorf("live view: %w", err)
	}
	// A topic created a moment ago may not be in every broker's metadata
	// yet: retry for a few seconds.
	ends, err := pipeline.EndOffsets(ctx, admin, w.topics...)
	for t0 := time.Now(); err != nil && time.Since(t0) < 10*time.Second && ctx.Err() == nil; {
		time.Sleep(200 * time.Millisecond)
		ends, err = pipeline.EndOffsets(ctx, admin, w.topics...)
	}
	admin.Close()
	if err != nil {
		return nil, fmt.Errorf("live view: %w", err)
	}
	from := map[string]map[int32]kgo.Offset{}
	for t, parts := range ends {
		from[t] = map[int32]kgo.Offset{}
		for p, o := range parts {
			from[t][p] = kgo.NewOffset().At(o)
			w.next[t][p] = o
		}
	}
	cl, err := kafka.Connect(ctx, cfg.Kafka, kgo.ConsumePartitions(from),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return nil, fmt.Errorf("live view: %w", err)
	}
	w.cl = cl
	return w, nil
}

// Close closes the Kafka client.
func (w *Watcher) Close() { w.cl.Close() }

// Positions returns, by topic and partition, the offset after the last
// record the view read: the embedded broker keeps the records from there
// on (app/retention.go), as the view commits no offsets.
func (w *Watcher) Positions() map[string]map[int32]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]map[int32]int64, len(w.next))
	for t, parts := range w.next {
		out[t] = maps.Clone(parts)
	}
	return out
}

// Run reads until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	for {
		fs := w.cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return nil
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.Canceled) {
			time.Sleep(100 * time.Millisecond) // the client retries; the view keeps what it has
		}
		w.mu.Lock()
		fs.EachRecord(w.add)
		w.mu.Unlock()
	}
}

func (w *Watcher) add(r *kgo.Record) {
	w.next[r.Topic][r.Partition] = r.Offset + 1
	if r.Attrs.IsControl() {
		return
	}
	hs := kafka.Headers(r)
	switch r.Topic {
	case w.cfg.Detections:
		d, err := schemas.DecodeDetection(hs, r.Value)
		addDecoded(w.state, w.state.AddDetection, d, err)
	case w.cfg.Maintenance:
		e, err := schemas.DecodeMaintenance(hs, r.Value)
		addDecoded(w.state, w.state.AddMaintenance, e, err)
	case w.cfg.Power:
		rows, err := schemas.DecodePower(hs, r.Value)
		addDecoded(w.state, w.state.AddPower, rows, err)
	case w.cfg.Incidents:
		if r.Value == nil {
			return // a tombstone of the compacted topic
		}
		in, err := schemas.UnmarshalIncident(r.Value)
		addDecoded(w.state, w.state.AddIncident, in, err)
	}
}

// addDecoded gives s what a record decoded to, v, through add, or counts
// the record as a decode error when err is set.
func addDecoded[T any](s *State, add func(T), v T, err error) {
	if err != nil {
		s.DecodeError()
		return
	}
	add(v)
}

// CatchUp waits until the Watcher has read every topic to its end as of
// the call (Run must be running), so the counts cover everything the
// stages committed.
func (w *Watcher) CatchUp(ctx context.Context, admin *kgo.Client) error {
	ends, err := pipeline.EndOffsets(ctx, admin, w.topics...)
	if err != nil {
		return err
	}
	for {
		if w.reached(ends) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("live view: cannot read the output topics to their end: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (w *Watcher) reached(ends map[string]map[int32]int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for t, parts := range ends {
		for p, end := range parts {
			if w.next[t][p] < end {
				return false
			}
		}
	}
	return true
}

// Snapshot returns the state now, with rates since the previous call.
func (w *Watcher) Snapshot() Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	snap := w.state.Snapshot()
	snap.WithIncidents = w.cfg.Incidents != ""
	now := time.Now()
	if w.cfg.Gatherer != nil {
		fillMetrics(&snap, w.cfg.Gatherer)
	}
	if dt := now.Sub(w.prevT).Seconds(); !w.prevT.IsZero() && dt > 0 {
		snap.SamplesRate = max(snap.Samples-w.prev.Samples, 0) / dt
		for i, st := range snap.Stages {
			for _, p := range w.prev.Stages {
				if p.Name == st.Name {
					snap.Stages[i].PerSec = max(st.Records-p.Records, 0) / dt
					snap.Stages[i].RowsRate = max(st.Rows-p.Rows, 0) / dt
				}
			}
		}
	}
	w.prev, w.prevT = snap, now
	return snap
}

// fillMetrics reads the stage, target and publisher figures of snap.
func fillMetrics(snap *Snapshot, g prometheus.Gatherer) {
	mfs, err := g.Gather()
	if err != nil && len(mfs) == 0 {
		return
	}
	stages := map[string]*Stage{}
	stage := func(m *dto.Metric) *Stage {
		name := label(m, "stage")
		if stages[name] == nil {
			stages[name] = &Stage{Name: name}
			snap.Stages = append(snap.Stages, Stage{})
		}
		return stages[name]
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "telekernel_stage_records_total":
				stage(m).Records = m.GetCounter().GetValue()
			case "telekernel_stage_rows_flushed_total":
				stage(m).Rows = m.GetCounter().GetValue()
			case "telekernel_stage_lag_records":
				stage(m).Lag = m.GetGauge().GetValue()
			case "telekernel_gnmi_target_up":
				snap.Targets = append(snap.Targets, Target{Name: label(m, "target"), Up: m.GetGauge().GetValue() == 1})
			case "telekernel_publish_samples_total":
				snap.Samples = m.GetCounter().GetValue()
			}
		}
	}
	snap.Stages = snap.Stages[:0]
	for _, name := range sortedStages(stages) {
		snap.Stages = append(snap.Stages, *stages[name])
	}
}

func sortedStages(m map[string]*Stage) []string {
	keys := map[string]bool{}
	for k := range m {
		keys[k] = true
	}
	return sortedKeys(keys)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
