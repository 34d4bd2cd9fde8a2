package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/stages/correlate"
)

// The correlate stage's two rows of the registry: Route re-keys the
// detections by site onto correlate.input, Correlate keeps the incidents.

func correlateEnabled(c *config.Config) error {
	if !*c.Correlate.Enabled {
		return errors.New("correlate.enabled is false")
	}
	return nil
}

func correlateInput(c *config.Config) string { return c.Correlate.Input }

// correlateInventory returns the inventory of the correlate stage: its
// file, or the simulated fleet's when the simulator runs, or none. The two
// rows each keep their own copy of the file; log is where its problems go
// (the route's copy is quiet: the correlate row logs the same file).
func correlateInventory(env *Env, log *slog.Logger) (*correlate.Inventory, error) {
	c := env.Config
	if p := c.Correlate.Inventory; p != "" {
		inv, err := correlate.NewInventory(p, c.Correlate.Reload, log)
		if err != nil {
			return nil, fmt.Errorf("correlate.inventory: %w", err)
		}
		return inv, nil
	}
	if c.Sim.Enabled == nil || !*c.Sim.Enabled {
		return correlate.FixedInventory(nil), nil
	}
	sc := c.Sim.Fleet()
	if sc.Start.IsZero() {
		sc.Start = time.Unix(0, 0) // the inventory does not depend on it
	}
	f, err := sim.New(sc)
	if err != nil {
		return nil, fmt.Errorf("correlate: cannot build the simulated fleet's inventory: %w", err)
	}
	return correlate.FixedInventory(f.Inventory()), nil
}

func buildCorrelateRoute(ctx context.Context, env *Env) (Built, error) {
	c := env.Config.Correlate
	inv, err := correlateInventory(env, slog.New(slog.DiscardHandler))
	if err != nil {
		return Built{}, err
	}
	in := kafka.TopicSpec{Name: c.Input, Partitions: c.Partitions}
	if err := kafka.EnsureTopics(ctx, env.Admin, in); err != nil {
		return Built{}, err
	}
	r := correlate.NewRoute(c.Input, inv)
	return Built{Proc: r, Progress: func() string { return fmt.Sprintf("routed %d", r.Routed()) }}, nil
}

func buildCorrelate(ctx context.Context, env *Env) (Built, error) {
	c := env.Config.Correlate
	inv, err := correlateInventory(env, env.Log.With("stage", "correlate"))
	if err != nil {
		return Built{}, err
	}
	out := []kafka.TopicSpec{{Name: c.Input, Partitions: c.Partitions}, {Name: c.Topic, Partitions: c.Partitions, Compacted: true}}
	if err := kafka.EnsureTopics(ctx, env.Admin, out...); err != nil {
		return Built{}, err
	}
	cr, err := correlate.New(c, inv, correlate.NewMetrics(env.Registry), env.Log)
	if err != nil {
		return Built{}, err
	}
	return Built{Proc: cr,
		Report:   func(s *Summary, _ pipeline.Stats) { s.Incidents, s.OpenIncidents = cr.Opened(), cr.Open() },
		Progress: func() string { return fmt.Sprintf("incidents %d (%d open)", cr.Opened(), cr.Open()) },
	}, nil
}
