package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/collectors/snmp"
	"github.com/telekernel/telekernel/internal/httpserve"
	"github.com/telekernel/telekernel/kafka"
)

// Run runs one collector, "gnmi" or "snmp", as `telekernel collect` does:
// it connects to Kafka (creating the topic), serves /metrics and /targets
// until it returns (/readyz fails once ctx ends), publishes until ctx
// ends, and re-reads the file at path every cfg.Reload to apply a changed
// target list without a restart. With cfg.Group
// enabled it collects only the targets its group assigns to it (see
// package share), and leaves the group once its collector has stopped.
func Run(ctx context.Context, kind, path string, cfg *Config, log *slog.Logger) error {
	if kind != "gnmi" && kind != "snmp" {
		return fmt.Errorf("collect: %q is not gnmi or snmp", kind)
	}
	if kind == "gnmi" && len(cfg.GNMI.Targets) == 0 || kind == "snmp" && len(cfg.SNMP.Targets) == 0 {
		log.Warn("no targets configured yet; waiting for the config to list some", "collector", kind, "config", path)
	}
	// The clients share one reading of the SASL password file, and
	// AuthError tells /readyz when the broker refuses their login.
	kc := cfg.Kafka.WithLogger(log)
	cl, err := kafka.Connect(ctx, kc, kgo.MaxBufferedBytes(cfg.MaxBufferedBytes), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(int32(max(cfg.MaxBatchBytes+batchFraming, producerBatchMax))))
	if err != nil {
		return startFailed(ctx, log, err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: cfg.Topic, Partitions: cfg.Partitions}); err != nil {
		return startFailed(ctx, log, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	kafka.RegisterAuthFailures(reg, kc)
	pub, err := publish.New(cl, publish.Config{Topic: cfg.Topic, MaxBatchBytes: batchBytes(ctx, cl, cfg, log)},
		publish.WithLogger(log), publish.WithMetrics(publish.NewMetrics(reg)))
	if err != nil {
		return startFailed(ctx, log, err)
	}
	defer pub.Close()
	own := newOwner(kind, cfg, reg, log)
	if cfg.HTTP.Listen != "off" {
		// The endpoints outlive the signal: the stop (delivering what was
		// collected, up to 30 s, and leaving the group) can be watched, and
		// a liveness probe still passes; /readyz says it is stopping.
		httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
		defer stopHTTP()
		ready := func() error {
			if ctx.Err() != nil {
				return errors.New("stopping")
			}
			return kc.AuthError()
		}
		addr, err := httpserve.Serve(httpCtx, cfg.HTTP, reg, httpserve.Health{Ready: ready, Routes: map[string]http.Handler{"/targets": own}}, log)
		if err != nil {
			return startFailed(ctx, log, err)
		}
		log.Info("serving /metrics, /healthz, /readyz and /targets", "addr", addr.String())
	}
	own.mu.Lock()
	first := own.filtered(cfg)
	own.mu.Unlock()
	run, setTargets, err := newCollector(kind, first, pub, reg, log)
	if err != nil {
		return startFailed(ctx, log, err)
	}
	own.start(ctx, setTargets, ownerRecheck)
	if err := own.setConfig(cfg); err != nil {
		return startFailed(ctx, log, err)
	}
	var group *share.Group
	if cfg.Group.Enabled {
		if group, err = share.Join(ctx, kc, cfg.Group, kind, own.setOwned, share.WithLogger(log)); err != nil {
			return startFailed(ctx, log, err)
		}
	}
	log.Info("collecting", "collector", kind, "topic", cfg.Topic, "gnmi_targets", len(cfg.GNMI.Targets), "snmp_targets", len(cfg.SNMP.Targets), "group", own.group)
	if cfg.Reload > 0 {
		go WatchConfig(ctx, path, cfg, log, own.setConfig)
	}
	err = run(ctx)
	own.stop()
	if group != nil {
		group.Close() // the others take our targets now, not after the session timeout
	}
	st := pub.Stats()
	log.Info("collector stopped", "collector", kind, "samples_published", st.Samples, "batches", st.Batches, "publish_errors", st.Errors)
	return err
}

// startFailed returns err, the error a start step failed with, or nil
// when ctx ended meanwhile: a step the stop cut short fails with whatever
// it makes of the cancelled ctx (a Kafka connection that "failed"), which
// is no fault to report, and nothing was collected yet that could be lost.
// A stop during start then exits as a stop once collecting does.
func startFailed(ctx context.Context, log *slog.Logger, err error) error {
	if ctx.Err() == nil {
		return err
	}
	log.Info("stopped while starting")
	log.Debug("the stop cut a start step short", "err", err)
	return nil
}

// ownerRecheck is how often the owned targets are handed to the collector
// again (a no-op when unchanged).
const ownerRecheck = 5 * time.Second

// newCollector builds the collector of kind on cfg; setTargets applies a
// new config's target list to it.
func newCollector(kind string, cfg *Config, pub *publish.Publisher, reg prometheus.Registerer, log *slog.Logger) (run func(context.Context) error, setTargets func(*Config) error, err error) {
	switch kind {
	case "gnmi":
		c, err := gnmi.New(cfg.GNMI, pub, gnmi.WithLogger(log), gnmi.WithMetrics(gnmi.NewMetrics(reg)))
		if err != nil {
			return nil, nil, err
		}
		warn := warnRisky(log)
		warn(cfg)
		return c.Run, func(n *Config) error { warn(n); return c.SetTargets(n.GNMI.Targets) }, nil
	default:
		c, err := snmp.New(cfg.SNMP, pub, snmp.WithLogger(log), snmp.WithMetrics(snmp.NewMetrics(reg)))
		if err != nil {
			return nil, nil, err
		}
		warn := warnRisky(log)
		warn(cfg)
		return c.Run, func(n *Config) error { warn(n); return c.SetTargets(n.SNMP.Targets) }, nil
	}
}

// Record framing and franz-go's default ProducerBatchMaxBytes, for sizing
// the producer to a configured max_batch_bytes.
const (
	batchFraming     = 16 << 10
	producerBatchMax = 1_000_012
)

// batchBytes returns the record size limit: max_batch_bytes when set
// (warning when the topic accepts less), else learned from the topic.
func batchBytes(ctx context.Context, cl *kgo.Client, cfg *Config, log *slog.Logger) int {
	topicMax, err := publish.TopicMaxMessageBytes(ctx, cl, cfg.Topic)
	switch {
	case err != nil && cfg.MaxBatchBytes == 0:
		log.Warn("cannot learn the topic's message size limit; using the default", "err", err,
			"max_batch_bytes", publish.DefaultMaxBatchBytes)
		return publish.DefaultMaxBatchBytes
	case err != nil:
		return cfg.MaxBatchBytes
	case cfg.MaxBatchBytes == 0:
		n := publish.BatchBytesFor(topicMax)
		log.Info("record size limit learned from the topic", "topic", cfg.Topic, "max_message_bytes", topicMax, "max_batch_bytes", n)
		return n
	case cfg.MaxBatchBytes+batchFraming > topicMax:
		log.Warn("max_batch_bytes is above what the topic accepts; records that size will be refused",
			"max_batch_bytes", cfg.MaxBatchBytes, "topic", cfg.Topic, "max_message_bytes", topicMax)
	}
	return cfg.MaxBatchBytes
}

// WatchConfig re-reads the file at path every cfg.Reload until ctx ends
// and calls apply with each changed, valid config; an invalid one is logged
// and the running one kept. Changes beyond the target lists are logged as
// needing a restart.
func WatchConfig(ctx context.Context, path string, cfg *Config, log *slog.Logger, apply func(*Config) error) {
	last, _ := os.ReadFile(path)
	cur := cfg
	every(ctx, cfg.Reload, func() {
		data, err := os.ReadFile(path)
		if err != nil || bytes.Equal(data, last) {
			return
		}
		last = data
		next, err := cur.reparse(path, data)
		if err != nil {
			log.Error("config changed but is not valid; keeping the running one", "err", err)
			return
		}
		if err := apply(next); err != nil {
			log.Error("cannot apply the new targets", "err", err)
			return
		}
		log.Info("config reloaded: targets applied", "gnmi_targets", len(next.GNMI.Targets), "snmp_targets", len(next.SNMP.Targets))
		a, b := *cur, *next
		a.GNMI.Targets, b.GNMI.Targets, a.SNMP.Targets, b.SNMP.Targets = nil, nil, nil, nil
		a.Parse, b.Parse = nil, nil // funcs are never DeepEqual
		b.HTTP = a.HTTP             // the running address may come from --http
		if !reflect.DeepEqual(a, b) {
			log.Warn("config changes other than the target lists take effect after a restart")
		}
		cur = next
	})
}
