package correlate

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// ReadIncidents reads the incidents topic to its end and returns the latest update of
// each incident id, oldest opened first, and the number of records that
// did not decode as incidents (skipped).
func ReadIncidents(ctx context.Context, kc kafka.Config, topic string) ([]*schemas.Incident, int, error) {
	latest := map[string]*schemas.Incident{}
	skipped := 0
	err := kafka.ReadAll(ctx, kc, topic, func(r *kgo.Record) {
		if r.Value == nil { // a tombstone forgets the incident
			delete(latest, string(r.Key))
			return
		}
		in, err := schemas.UnmarshalIncident(r.Value)
		if err != nil {
			skipped++
			return
		}
		if old := latest[in.ID]; old == nil || !in.UpdatedAt.Before(old.UpdatedAt) {
			latest[in.ID] = in
		}
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*schemas.Incident, 0, len(latest))
	for _, in := range latest {
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b *schemas.Incident) int {
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, skipped, nil
}
