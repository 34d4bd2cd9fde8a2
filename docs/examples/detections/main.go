// Command detections is the worked example of docs/detections.md: an
// alerting system that consumes telekernel's detection topic with nothing
// but a Kafka client (franz-go) and encoding/json. It keeps the alerts that
// are firing, keyed by fingerprint, prints every transition, and skips,
// with a clear message, any event of a contract version it does not know.
//
//	go run ./docs/examples/detections --brokers 127.0.0.1:9092 --topic tk.detections --group my-alerting
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Detection is the part of the v1 detection contract this consumer uses.
// Unknown fields are ignored, so additive changes within v1 do not break it.
type Detection struct {
	Version     int               `json:"version"`
	ID          string            `json:"id"`
	State       string            `json:"state"` // "firing" or "resolved"
	EventTime   time.Time         `json:"eventTime"`
	Device      string            `json:"device"`
	Metric      string            `json:"metric"`
	Keys        string            `json:"keys"`
	Detector    string            `json:"detector"`
	Score       float64           `json:"score"`
	Severity    string            `json:"severity"` // info, warning, critical
	Observed    float64           `json:"observed"`
	Expected    float64           `json:"expected"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      *time.Time        `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
}

// Alerts is the alerting system's state: the firing alerts by fingerprint,
// and the event ids seen, so a re-delivered event is handled once.
type Alerts struct {
	Firing map[string]Detection
	seen   map[string]bool
	out    io.Writer
}

// NewAlerts returns an empty state that reports transitions to out.
func NewAlerts(out io.Writer) *Alerts {
	return &Alerts{Firing: map[string]Detection{}, seen: map[string]bool{}, out: out}
}

// Handle processes one record of the detection topic.
func (a *Alerts) Handle(r *kgo.Record) {
	headers := map[string]string{}
	for _, h := range r.Headers {
		headers[h.Key] = string(h.Value)
	}
	// The contract version is in a header (and in the JSON): refuse what
	// this code was not written for instead of guessing.
	if v := headers["telekernel-schema-version"]; v != "1" {
		fmt.Fprintf(a.out, "skip %s/%d@%d: detection contract version %q, this consumer reads 1 (ce_type %s)\n",
			r.Topic, r.Partition, r.Offset, v, headers["ce_type"])
		return
	}
	var d Detection
	if err := json.Unmarshal(r.Value, &d); err != nil || d.Version != 1 {
		fmt.Fprintf(a.out, "skip %s/%d@%d: not a v1 detection: %v\n", r.Topic, r.Partition, r.Offset, err)
		return
	}
	if a.seen[d.ID] { // re-delivered: ce_id (= id) is stable
		return
	}
	a.seen[d.ID] = true
	switch d.State {
	case "firing":
		if _, ok := a.Firing[d.Fingerprint]; ok {
			fmt.Fprintf(a.out, "UPDATE %s %s %s %s severity=%s score=%.2f\n", d.Fingerprint, d.Device, d.Metric, d.Keys, d.Severity, d.Score)
		} else {
			fmt.Fprintf(a.out, "FIRING %s %s %s %s severity=%s observed=%g expected=%g (%s)\n",
				d.Fingerprint, d.Device, d.Metric, d.Keys, d.Severity, d.Observed, d.Expected, d.Annotations["summary"])
		}
		a.Firing[d.Fingerprint] = d
	case "resolved":
		delete(a.Firing, d.Fingerprint)
		fmt.Fprintf(a.out, "RESOLVED %s %s %s %s after %v\n", d.Fingerprint, d.Device, d.Metric, d.Keys, d.EndsAt.Sub(d.StartsAt).Round(time.Second))
	}
}

// Consume reads topic in consumer group group until ctx ends, handing every
// record to a and committing offsets after handling (the franz-go default:
// autocommit of what was polled).
func Consume(ctx context.Context, brokers []string, topic, group string, a *Alerts) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), // telekernel writes detections in transactions
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) { log.Printf("fetch %s/%d: %v", t, p, err) })
		fs.EachRecord(a.Handle)
	}
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	topic := flag.String("topic", "tk.detections", "detection topic (or tk.alerts, the compacted current state)")
	group := flag.String("group", "my-alerting", "consumer group")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	a := NewAlerts(os.Stdout)
	if err := Consume(ctx, strings.Split(*brokers, ","), *topic, *group, a); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d alerts firing\n", len(a.Firing))
}
