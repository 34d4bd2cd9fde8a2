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
	"github.com/telekernel/telekernel/stages/inventory"
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

// baseInventory returns the inventory an operator gave: correlate.inventory
// (re-read every correlate.reload), or the simulated fleet's when the
// simulator runs, or none. log is where the file's problems go.
func baseInventory(env *Env, log *slog.Logger) (*inventory.View, error) {
	c := env.Config
	if p := c.Correlate.Inventory; p != "" {
		inv, err := inventory.NewFile(p, c.Correlate.Reload, log)
		if err != nil {
			return nil, fmt.Errorf("correlate.inventory: %w", err)
		}
		return inv, nil
	}
	if c.Sim.Enabled == nil || !*c.Sim.Enabled {
		return inventory.Fixed(nil), nil
	}
	sc := c.Sim.Fleet()
	if sc.Start.IsZero() {
		sc.Start = time.Unix(0, 0) // the inventory does not depend on it
	}
	f, err := sim.New(sc)
	if err != nil {
		return nil, fmt.Errorf("correlate: cannot build the simulated fleet's inventory: %w", err)
	}
	return inventory.Fixed(f.Inventory()), nil
}

// correlateInventory returns the inventory of the correlate stage: with
// inventory.enabled, the inventory topic, read to its end before it returns
// and followed until the stages stop; while the topic holds nothing, or
// without inventory.enabled, the base inventory (baseInventory). Each row
// keeps its own copy; log is where its problems go (the route's copy is
// quiet: the correlate row logs the same file).
func correlateInventory(ctx context.Context, env *Env, log *slog.Logger) (*inventory.View, error) {
	v, err := baseInventory(env, log)
	if err != nil {
		return nil, err
	}
	ic := env.Config.Inventory
	if !ic.On() {
		return v, nil
	}
	if err := kafka.EnsureTopics(ctx, env.Admin, inventoryTopicSpec(env.Config)); err != nil {
		return nil, err
	}
	// The follower outlives ctx (a stop signal lets the stages drain, still
	// reading the inventory); it stops once the stages did. ctx bounds only
	// the first read.
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	detach := context.AfterFunc(ctx, cancel)
	err = inventory.Follow(fctx, env.Kafka, ic.Topic, v, log)
	detach()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("inventory.topic: %w", err)
	}
	env.onClose(cancel)
	return v, nil
}

func buildCorrelateRoute(ctx context.Context, env *Env) (Built, error) {
	c := env.Config.Correlate
	inv, err := correlateInventory(ctx, env, slog.New(slog.DiscardHandler))
	if err != nil {
		return Built{}, err
	}
	in := kafka.TopicSpec{Name: c.Input, Partitions: c.Partitions}
	if err := kafka.EnsureTopics(ctx, env.Admin, in); err != nil {
		return Built{}, err
	}
	r := correlate.NewRoute(c.Input, inv, c.Engine)
	return Built{Proc: r, Progress: func() string { return fmt.Sprintf("routed %d", r.Routed()) }}, nil
}

func buildCorrelate(ctx context.Context, env *Env) (Built, error) {
	c := env.Config.Correlate
	inv, err := correlateInventory(ctx, env, env.Log.With("stage", "correlate"))
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
