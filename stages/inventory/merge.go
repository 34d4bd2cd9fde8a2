package inventory

import (
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// merge returns the inventory of base (the operator's file, or the
// simulated fleet's; nil: none) and the LLDP neighbours in l:
//
//   - devices: base's, then every device that sent an LLDP sample within
//     the expiry and every neighbour the base does not list, without
//     attributes;
//   - links: base's, then one per cable LLDP reports, except on a port a
//     base link names (the file wins where it says something explicit);
//   - sessions: base's.
//
// An LLDP system name is matched to a device by name, then by its first
// label (spine1.example.net → spine1); an unknown one is added as a device
// of that name.
func merge(base *schemas.Inventory, l *lldp) *schemas.Inventory {
	out := &schemas.Inventory{Version: schemas.InventoryVersion}
	known := map[string]bool{}
	taken := map[schemas.Port]bool{}
	if base != nil {
		out.Devices = append(out.Devices, base.Devices...)
		out.Links = append(out.Links, base.Links...)
		out.Sessions = append(out.Sessions, base.Sessions...)
		for _, d := range base.Devices {
			known[d.Name] = true
		}
		for _, k := range base.Links {
			taken[k.A], taken[k.B] = true, true
		}
	}
	add := func(name string) {
		if !known[name] {
			known[name] = true
			out.Devices = append(out.Devices, schemas.Device{Name: name})
		}
	}
	for d := range l.reporters {
		add(d)
	}
	for k := range l.neighbors {
		add(k.device) // a seeded link's end that has not reported yet
	}
	resolve := func(system string) string {
		if known[system] {
			return system
		}
		if short, _, ok := strings.Cut(system, "."); ok && short != "" && known[short] {
			return short
		}
		return system
	}
	for _, k := range l.links(taken, resolve) {
		add(k.A.Device)
		add(k.B.Device)
		out.Links = append(out.Links, k)
	}
	return out
}
