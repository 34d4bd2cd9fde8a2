package inventory

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/telekernel/telekernel/schemas"
)

// The record layout of the inventory topic (compacted):
//
//   - key: a device name;
//   - value: a v1 inventory (schemas.Inventory JSON) holding that device
//     with its attributes first, the links whose a end is on it, the
//     sessions it has, and, after it, a name-only entry for every other
//     device those links and sessions name (so each record validates on its
//     own); nil (a tombstone): the device left the inventory.
//
// A reader keeps the latest value of each key and merges them: a device's
// attributes come from the record keyed by its name, a device that only
// appears name-only in other records is a device without attributes, and
// links and sessions are the union of every record's. Merger does that.

// Normalize returns a copy of inv with its devices, links and sessions
// sorted (devices by name; links by a end, then b end; sessions by device,
// neighbour and protocol), so two inventories with the same content compare
// and encode equal. A nil inv gives nil.
func Normalize(inv *schemas.Inventory) *schemas.Inventory {
	if inv == nil {
		return nil
	}
	out := &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: slices.Clone(inv.Devices), Links: slices.Clone(inv.Links), Sessions: slices.Clone(inv.Sessions)}
	slices.SortFunc(out.Devices, func(a, b schemas.Device) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(out.Links, compareLink)
	slices.SortFunc(out.Sessions, compareSession)
	return out
}

func compareLink(a, b schemas.InvLink) int {
	return cmp.Or(comparePort(a.A, b.A), comparePort(a.B, b.B))
}

func compareSession(a, b schemas.Session) int {
	return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Neighbor, b.Neighbor), cmp.Compare(a.Protocol, b.Protocol),
		cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.PeerDevice, b.PeerDevice))
}

// sortGroup sorts a device's links and sessions (copies: the inventory's
// slices are not touched).
func sortGroup(g *group) {
	g.links = slices.Clone(g.links)
	slices.SortFunc(g.links, compareLink)
	g.sessions = slices.Clone(g.sessions)
	slices.SortFunc(g.sessions, compareSession)
}

func comparePort(a, b schemas.Port) int {
	return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Interface, b.Interface))
}

// Equal reports whether a and b hold the same devices, links and sessions,
// in any order. nil equals only nil.
func Equal(a, b *schemas.Inventory) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := Normalize(a), Normalize(b)
	return slices.EqualFunc(x.Devices, y.Devices, func(p, q schemas.Device) bool {
		return p.Name == q.Name && p.Site == q.Site && p.Role == q.Role && p.Vendor == q.Vendor && p.Model == q.Model && slices.Equal(p.Tags, q.Tags)
	}) && slices.Equal(x.Links, y.Links) && slices.Equal(x.Sessions, y.Sessions)
}

// Split returns the records of inv in the topic's layout: the encoded
// value of each device, by device name. Equal inventories give equal
// records, so publishing them again changes nothing.
func Split(inv *schemas.Inventory) (map[string][]byte, error) {
	var sp splitter
	return sp.split(inv)
}

// splitter splits inventories one after the other, encoding again only
// the devices whose record changed since the last split (at 10 000
// devices, encoding them all is seconds of CPU). It is not safe for
// concurrent use.
type splitter struct {
	prev map[string]group
}

// group is what one device's record holds, and its encoding.
type group struct {
	dev      schemas.Device
	links    []schemas.InvLink
	sessions []schemas.Session
	val      []byte
}

func (g *group) same(o *group) bool {
	return g.dev.Name == o.dev.Name && g.dev.Site == o.dev.Site && g.dev.Role == o.dev.Role && g.dev.Vendor == o.dev.Vendor &&
		g.dev.Model == o.dev.Model && slices.Equal(g.dev.Tags, o.dev.Tags) && slices.Equal(g.links, o.links) && slices.Equal(g.sessions, o.sessions)
}

// split is Split, reusing the encodings of the last call for the devices
// whose record did not change.
func (sp *splitter) split(inv *schemas.Inventory) (map[string][]byte, error) {
	if inv == nil {
		inv = &schemas.Inventory{}
	}
	// Group first, then sort each device's few entries: cheaper than
	// sorting every link of the fleet (Normalize).
	links := map[string][]schemas.InvLink{}
	for _, l := range inv.Links {
		links[l.A.Device] = append(links[l.A.Device], l)
	}
	sessions := map[string][]schemas.Session{}
	for _, s := range inv.Sessions {
		sessions[s.Device] = append(sessions[s.Device], s)
	}
	out := make(map[string][]byte, len(inv.Devices))
	next := make(map[string]group, len(inv.Devices))
	for _, d := range inv.Devices {
		g := group{dev: d, links: links[d.Name], sessions: sessions[d.Name]}
		sortGroup(&g)
		if old, ok := sp.prev[d.Name]; ok && g.same(&old) {
			g.val = old.val
		} else {
			b, err := encodeGroup(&g)
			if err != nil {
				return nil, err
			}
			g.val = b
		}
		next[d.Name], out[d.Name] = g, g.val
	}
	sp.prev = next
	return out, nil
}

// encodeGroup encodes the record of g: its device, links and sessions,
// and the other devices they name, name-only.
func encodeGroup(g *group) ([]byte, error) {
	rec := &schemas.Inventory{Version: schemas.InventoryVersion, Devices: []schemas.Device{g.dev}, Links: g.links, Sessions: g.sessions}
	var others []string
	for _, l := range rec.Links {
		others = append(others, l.B.Device)
	}
	for _, s := range rec.Sessions {
		if s.PeerDevice != "" {
			others = append(others, s.PeerDevice)
		}
	}
	slices.Sort(others)
	for _, o := range slices.Compact(others) {
		if o != g.dev.Name {
			rec.Devices = append(rec.Devices, schemas.Device{Name: o})
		}
	}
	b, err := schemas.MarshalInventory(rec)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the inventory record of %s: %w", g.dev.Name, err)
	}
	return b, nil
}

// Merger keeps the latest record of each key of the inventory topic and
// merges them into one inventory. It is not safe for concurrent use.
type Merger struct {
	recs map[string]*schemas.Inventory
}

// NewMerger returns an empty Merger.
func NewMerger() *Merger { return &Merger{recs: map[string]*schemas.Inventory{}} }

// Apply takes one record of the topic: a nil value (a tombstone) deletes
// the key; any other value must decode as a v1 inventory, else Apply
// returns why and keeps the key's previous record.
func (m *Merger) Apply(key, value []byte) error {
	if value == nil {
		delete(m.recs, string(key))
		return nil
	}
	inv, err := schemas.UnmarshalInventory(value)
	if err != nil {
		return fmt.Errorf("cannot read the inventory record %q: %w", key, err)
	}
	m.recs[string(key)] = inv
	return nil
}

// Len returns the number of keys held.
func (m *Merger) Len() int { return len(m.recs) }

// Merged returns the inventory the records make, normalized; nil when no
// key is held.
func (m *Merger) Merged() *schemas.Inventory {
	if len(m.recs) == 0 {
		return nil
	}
	out := &schemas.Inventory{Version: schemas.InventoryVersion}
	own := map[string]bool{}
	for key, r := range m.recs {
		for _, d := range r.Devices {
			if d.Name == key {
				out.Devices = append(out.Devices, d)
				own[key] = true
			}
		}
		out.Links = append(out.Links, r.Links...)
		out.Sessions = append(out.Sessions, r.Sessions...)
	}
	for _, r := range m.recs {
		for _, d := range r.Devices {
			if !own[d.Name] {
				out.Devices = append(out.Devices, schemas.Device{Name: d.Name})
				own[d.Name] = true
			}
		}
	}
	return Normalize(out)
}
