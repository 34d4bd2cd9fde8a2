package correlate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestPartialInventoryRemovesNoDevice: the correlate stage runs on the
// operator's file (its base) while the inventory topic is empty, with
// leaf2999's link_down open. The inventory stage then publishes the whole
// fleet to the topic in one ProduceSync, more than a follower fetches of a
// partition at a time (1 MiB), leaf2999's record among the last. The view
// takes the topic's inventory only once it is read to its end, so no
// detection meanwhile finds leaf2999 missing: its incident stays open.
// Before, the follower published every poll's records, and the detection
// after the first poll resolved the incident as "device leaf2999 removed
// from the inventory".
func TestPartialInventoryRemovesNoDevice(t *testing.T) {
	fleet := &schemas.Inventory{Version: schemas.InventoryVersion}
	tags := make([]string, 40)
	for i := range tags {
		tags[i] = fmt.Sprintf("rack-%02d-row-%02d", i, i)
	}
	for i := range 3000 {
		fleet.Devices = append(fleet.Devices, schemas.Device{Name: fmt.Sprintf("leaf%04d", i), Site: "fra1", Role: "leaf", Tags: tags})
	}
	// The topic also names a device LLDP found (the last key), so the
	// view's generation changes once it takes the topic's inventory.
	topic := &schemas.Inventory{Version: schemas.InventoryVersion, Devices: append(slices.Clone(fleet.Devices), schemas.Device{Name: "leaf3000"})}
	recs, err := inventory.Split(topic)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "tk.inventory"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	v := inventory.Fixed(fleet) // correlate.inventory
	if err := inventory.Follow(ctx, kc, "tk.inventory", v, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{}, v, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	F := schemas.StateFiring
	updates(t, c, det(0, F, "leaf2999", mOper, "name=e1", "link_down"))

	var rs []*kgo.Record
	size := 0
	for _, k := range slices.Sorted(maps.Keys(recs)) {
		rs = append(rs, &kgo.Record{Topic: "tk.inventory", Key: []byte(k), Value: recs[k]})
		size += len(recs[k])
	}
	if size < 2<<20 {
		t.Fatalf("the flush is %d bytes, want it to take several fetches", size)
	}
	gen := v.Current(time.Now()).Gen
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A detection after every inventory the view takes.
	var got []update
	for sec := 10; ctx.Err() == nil; time.Sleep(time.Millisecond) {
		s := v.Current(time.Now())
		if s.Gen == gen {
			continue
		}
		gen = s.Gen
		got = append(got, updates(t, c, det(sec, F, "leaf0007", mTemp, "name=CPU0", "ewma"))...)
		sec++
		if _, ok := s.Index.Device("leaf3000"); ok && len(s.Inv.Devices) == len(topic.Devices) {
			break
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the view never took the topic's whole inventory")
	}
	for _, u := range got {
		if strings.Contains(u.in.Cause, "leaf2999") && u.in.State != schemas.IncidentOpen {
			t.Errorf("leaf2999's link_down incident while the fleet's inventory was being read from the topic: %s, %q; want it open (leaf2999 was never removed)", u.in.State, u.in.Cause)
		}
	}
	if n := c.parts[0].e.OpenCount(); n != 2 {
		t.Errorf("%d incidents open at the end, want 2 (leaf2999's, leaf0007's)", n)
	}
}
