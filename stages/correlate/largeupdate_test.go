package correlate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestLargeIncidentKafka runs the stage on the real broker over four
// spines losing power at once under 48 leaves whose names are 5 000
// characters long (no collector reporting the spines): one incident
// naming 240 entities, 1.2 MB of them, as 2 000 leaves of ordinary names
// name. The evidence is cut to 2 so that the entities alone make the
// size, and engine.max_entities to 20, as the default 1000 is to
// ordinary names. Before, every update listed every entity: the producer
// refused the first one over its 1,000,012-byte batch limit
// (MESSAGE_TOO_LARGE), the transaction aborted and the stage stopped
// ("raise the topic's max.message.bytes and restart"), at every restart
// again.
func TestLargeIncidentKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	id := fmt.Sprintf("large-%d", time.Now().UnixNano())
	input, out, group := id+".input", id+".incidents", id
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, input, out, "dlq"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = adm.DeleteTopics(context.Background(), input, out, group+"-changelog") }()

	const leaves = 48
	inv := &schemas.Inventory{Version: schemas.InventoryVersion}
	for s := 1; s <= 4; s++ {
		inv.Devices = append(inv.Devices, schemas.Device{Name: fmt.Sprintf("spine%d", s), Site: "fra1", Role: "spine"})
	}
	var dets []*schemas.Detection
	for l := 1; l <= leaves; l++ {
		leaf := fmt.Sprintf("leaf%d-", l) + strings.Repeat("x", 5000)
		inv.Devices = append(inv.Devices, schemas.Device{Name: leaf, Site: "fra1", Role: "leaf"})
		for s := 1; s <= 4; s++ {
			sp, lp := schemas.Port{Device: fmt.Sprintf("spine%d", s), Interface: fmt.Sprintf("e%d", l)}, schemas.Port{Device: leaf, Interface: fmt.Sprintf("e%d", s)}
			inv.Links = append(inv.Links, schemas.InvLink{A: sp, B: lp})
			dets = append(dets, det(l%50, schemas.StateFiring, leaf, mOper, "name="+lp.Interface, "link_down"))
		}
	}
	produceDetections(t, ctx, cl, input, dets)
	cfg := Config{Topic: out, Input: input, Engine: incidents.Config{MaxEvidence: 2, MaxEntities: 20}}
	c, err := New(cfg, inventory.Fixed(inv), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runToEnd(t, ctx, kc, cl, group, input, c)
	recs := stagetest.ConsumeAll(t, ctx, kc.Brokers, out, int(c.Emitted()))
	incs := latest(t, recs)
	if len(recs) != len(dets) || len(incs) != 1 {
		t.Fatalf("%d updates of %d incidents, want %d of 1", len(recs), len(incs), len(dets))
	}
	for _, in := range incs {
		if len(in.Entities) != 20 || len(in.Entities)+in.EntitiesOmitted != 5*leaves {
			t.Errorf("incident %s: %d entities listed and %d left out, want 20 of %d", in.ID, len(in.Entities), in.EntitiesOmitted, 5*leaves)
		}
	}
}
