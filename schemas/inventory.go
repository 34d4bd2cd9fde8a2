package schemas

import (
	_ "embed"
	"errors"
	"fmt"
)

// InventoryVersion is the version of the inventory contract this build
// writes and the only one it reads.
const InventoryVersion = 1

// Inventory event type (CloudEvents type) and HeaderSchema value, for the
// compacted tk.inventory topic a later stage publishes.
const (
	InventoryType   = "io.telekernel.inventory.v1"
	SchemaInventory = "inventory"
)

// Session protocols of an inventory.
const (
	ProtocolBGP = "bgp"
	ProtocolBFD = "bfd"
)

//go:embed inventory.v1.schema.json
var inventorySchemaJSON []byte

// InventorySchemaJSON returns the JSON Schema (draft 2020-12) of the
// inventory contract, version InventoryVersion: the shape MarshalInventory
// writes. The returned slice is a fresh copy.
func InventorySchemaJSON() []byte { return append([]byte(nil), inventorySchemaJSON...) }

// Device is one device of an inventory and its attributes.
type Device struct {
	Name   string   `json:"name" yaml:"name"`
	Site   string   `json:"site" yaml:"site"`
	Role   string   `json:"role" yaml:"role"` // e.g. spine, leaf, border
	Vendor string   `json:"vendor" yaml:"vendor"`
	Model  string   `json:"model" yaml:"model"`
	Tags   []string `json:"tags" yaml:"tags"`
}

// Port is one interface of a device.
type Port struct {
	Device    string `json:"device" yaml:"device"`
	Interface string `json:"interface" yaml:"interface"`
}

// String returns the port as device:interface.
func (p Port) String() string { return p.Device + ":" + p.Interface }

// InvLink is a cable between two ports.
type InvLink struct {
	A Port `json:"a" yaml:"a"`
	B Port `json:"b" yaml:"b"`
}

// Session is a BGP or BFD session as one device sees it: the neighbour
// address it peers with, the local interface the session runs over and the
// peer device, where known.
type Session struct {
	Device     string `json:"device" yaml:"device"`
	Protocol   string `json:"protocol" yaml:"protocol"` // ProtocolBGP or ProtocolBFD
	Neighbor   string `json:"neighbor" yaml:"neighbor"` // the neighbour address
	Interface  string `json:"interface" yaml:"interface"`
	PeerDevice string `json:"peerDevice" yaml:"peer_device"`
}

// Inventory is the inventory contract, version 1: devices, the links
// between their ports and the sessions over them. Build lookups with
// Index. The JSON Schema is inventory.v1.schema.json.
type Inventory struct {
	Version  int       `json:"version"` // always InventoryVersion
	Devices  []Device  `json:"devices"`
	Links    []InvLink `json:"links"`
	Sessions []Session `json:"sessions"`
}

// Validate reports the first entry that breaks the contract: a device
// without a name or named twice, a link or session naming an unknown device
// or without an interface, a session of an unknown protocol.
func (inv *Inventory) Validate() error {
	if inv.Version != InventoryVersion {
		return unsupportedVersion("inventory", inv.Version, InventoryVersion)
	}
	known := make(map[string]bool, len(inv.Devices))
	for i, d := range inv.Devices {
		if err := checkDevice(d, known); err != nil {
			return fmt.Errorf("inventory: devices[%d]: %w", i, err)
		}
		known[d.Name] = true
	}
	for i, l := range inv.Links {
		if err := checkLink(l, known); err != nil {
			return fmt.Errorf("inventory: links[%d]: %w", i, err)
		}
	}
	for i, s := range inv.Sessions {
		if err := checkSession(s, known); err != nil {
			return fmt.Errorf("inventory: sessions[%d]: %w", i, err)
		}
	}
	return nil
}

func checkDevice(d Device, known map[string]bool) error {
	switch {
	case d.Name == "":
		return errors.New("name is empty")
	case known[d.Name]:
		return fmt.Errorf("device %q is listed twice", d.Name)
	}
	return nil
}

func checkPort(name string, p Port, known map[string]bool) error {
	switch {
	case p.Device == "":
		return fmt.Errorf("%s.device is empty", name)
	case !known[p.Device]:
		return fmt.Errorf("%s.device %q is not a device of the inventory", name, p.Device)
	case p.Interface == "":
		return fmt.Errorf("%s.interface is empty", name)
	}
	return nil
}

func checkLink(l InvLink, known map[string]bool) error {
	if err := checkPort("a", l.A, known); err != nil {
		return err
	}
	return checkPort("b", l.B, known)
}

func checkSession(s Session, known map[string]bool) error {
	switch {
	case s.Device == "" || !known[s.Device]:
		return fmt.Errorf("device %q is not a device of the inventory", s.Device)
	case s.Protocol != ProtocolBGP && s.Protocol != ProtocolBFD:
		return fmt.Errorf("protocol %q is neither %q nor %q", s.Protocol, ProtocolBGP, ProtocolBFD)
	case s.Neighbor == "":
		return errors.New("neighbor is empty")
	case s.PeerDevice != "" && !known[s.PeerDevice]:
		return fmt.Errorf("peer_device %q is not a device of the inventory", s.PeerDevice)
	}
	return nil
}

// MarshalInventory validates inv and encodes it as JSON, nil lists as empty
// arrays.
func MarshalInventory(inv *Inventory) ([]byte, error) {
	return marshalValid(inv, "inventory", func() any {
		out := *inv
		out.Devices = nonNil(out.Devices)
		out.Links = nonNil(out.Links)
		out.Sessions = nonNil(out.Sessions)
		for i := range out.Devices {
			out.Devices[i].Tags = nonNil(out.Devices[i].Tags)
		}
		return &out
	})
}

// UnmarshalInventory decodes and validates an inventory message. An unknown
// version is an error wrapping ErrUnknownVersion.
func UnmarshalInventory(b []byte) (*Inventory, error) {
	return unmarshalValid[Inventory](b, "inventory")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// InventoryIndex answers the questions incident rules ask of an
// inventory. It is read-only after Index and safe for concurrent reads.
type InventoryIndex struct {
	devices  map[string]Device
	links    map[Port]InvLink
	sessions map[sessionKey]Session
}

type sessionKey struct{ device, neighbor string }

// Index builds the lookups of inv. A nil inventory gives an empty index,
// which knows no device.
func (inv *Inventory) Index() *InventoryIndex {
	x := &InventoryIndex{devices: map[string]Device{}, links: map[Port]InvLink{}, sessions: map[sessionKey]Session{}}
	if inv == nil {
		return x
	}
	for _, d := range inv.Devices {
		x.devices[d.Name] = d
	}
	for _, l := range inv.Links {
		x.links[l.A], x.links[l.B] = l, l
	}
	for _, s := range inv.Sessions {
		k := sessionKey{s.Device, s.Neighbor}
		if old, ok := x.sessions[k]; !ok || old.Protocol != ProtocolBGP {
			x.sessions[k] = s
		}
	}
	return x
}

// Device returns a device's attributes and whether the inventory knows it.
func (x *InventoryIndex) Device(name string) (Device, bool) {
	d, ok := x.devices[name]
	return d, ok
}

// Peer returns the port at the other end of p's link, if p is linked.
func (x *InventoryIndex) Peer(p Port) (Port, bool) {
	l, ok := x.links[p]
	if l.A == p {
		return l.B, ok
	}
	return l.A, ok
}

// Link returns p's link as the inventory lists it (A end first), if p is
// linked.
func (x *InventoryIndex) Link(p Port) (InvLink, bool) {
	l, ok := x.links[p]
	return l, ok
}

// Session returns the session device has with a neighbour address, if the
// inventory knows it (either protocol; BGP wins when both are listed).
func (x *InventoryIndex) Session(device, neighbor string) (Session, bool) {
	s, ok := x.sessions[sessionKey{device, neighbor}]
	return s, ok
}
