package clickhouse

import (
	"context"
	"sync"
	"testing"
)

// TestIntegrationApplyConcurrent runs Apply from four sinks at once on a
// new database, as instances starting together do: none may fail.
func TestIntegrationApplyConcurrent(t *testing.T) {
	for round := range 3 {
		first := newTestSink(t, nil)
		sinks := []*Sink{first}
		for range 3 {
			sinks = append(sinks, newTestSink(t, func(c *Config) { c.Database = first.Database() }))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(sinks))
		for i, s := range sinks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Apply(context.Background())
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: Apply %d: %v", round, i, err)
			}
		}
	}
}
