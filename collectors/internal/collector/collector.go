// Package collector holds what the gNMI and SNMP collectors share: the
// parts every collector holds besides its configuration and targets, and
// the checks of their constructors.
package collector

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/arrowpool"
)

// Config is a collector's configuration: it fills its defaults and
// validates itself.
type Config[C any] interface {
	WithDefaults() C
	Validate() error
}

// Base is what a collector holds besides its configuration and targets:
// the publisher its samples go through, its logger, the Arrow allocator of
// its batches and its metrics (nil: none). A collector keeps it in a field;
// its options set Log, Mem and Metrics.
type Base[M any] struct {
	Pub     *publish.Publisher
	Log     *slog.Logger
	Mem     memory.Allocator
	Metrics *M
}

// New returns cfg with its defaults, validated, and a Base publishing
// through pub with slog.Default() and an arrowpool.Allocator (batches
// reuse the buffers of the records they produced). Its errors start
// with name, the collector's ("gnmi: …").
func New[C Config[C], M any](name string, cfg C, pub *publish.Publisher) (C, Base[M], error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, Base[M]{}, fmt.Errorf("%s: %w", name, err)
	}
	if pub == nil {
		return cfg, Base[M]{}, errors.New(name + ": a publisher is required")
	}
	return cfg, Base[M]{Pub: pub, Log: slog.Default(), Mem: arrowpool.New()}, nil
}
