package sim

import "github.com/telekernel/telekernel/schemas"

// Inventory returns the fleet as an inventory: every device (site "sim",
// role spine or leaf with a topology, none without), the links of the
// topology and, for each end of a link, its BGP and BFD session with the
// peer's address over the link. Tests and the embedded default use it in
// place of an operator's inventory file.
func (f *Fleet) Inventory() *schemas.Inventory {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion}
	spines := f.cfg.Topology.Spines
	for i := range f.cfg.Devices {
		d := schemas.Device{Name: DeviceName(i), Site: "sim", Vendor: "telekernel", Model: "sim"}
		switch {
		case spines == 0:
		case i < spines:
			d.Role = "spine"
		default:
			d.Role = "leaf"
		}
		inv.Devices = append(inv.Devices, d)
	}
	for _, lk := range f.Links() {
		inv.Links = append(inv.Links, schemas.InvLink{
			A: schemas.Port{Device: lk.A.Device, Interface: lk.A.Interface},
			B: schemas.Port{Device: lk.B.Device, Interface: lk.B.Interface},
		})
		for _, e := range [2][2]Endpoint{{lk.A, lk.B}, {lk.B, lk.A}} {
			for _, proto := range []string{schemas.ProtocolBGP, schemas.ProtocolBFD} {
				inv.Sessions = append(inv.Sessions, schemas.Session{Device: e[0].Device, Protocol: proto,
					Neighbor: e[1].Address, Interface: e[0].Interface, PeerDevice: e[1].Device})
			}
		}
	}
	return inv
}
