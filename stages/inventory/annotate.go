package inventory

import (
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// Annotations a detection gets from the inventory (Annotate).
const (
	AnnotationSite          = "site"
	AnnotationRole          = "role"
	AnnotationPeerDevice    = "peer_device"
	AnnotationPeerInterface = "peer_interface"
)

// Annotate adds to d's annotations what x knows of its series: the
// device's site and role, and the device and interface at the other end of
// its interface's link (an interface series: metric under /interfaces/
// with a name key) or of its BGP session (a neighbor-address key the
// inventory lists a session for: the peer device and the local interface
// the session runs over). It adds nothing x does not know, changes no label
// (the fingerprint stays), and reports whether it added anything.
func Annotate(d *schemas.Detection, x *schemas.InventoryIndex) bool {
	add := map[string]string{}
	if dev, ok := x.Device(d.Device); ok {
		put(add, AnnotationSite, dev.Site)
		put(add, AnnotationRole, dev.Role)
	}
	if port := keyValue(d.Keys, "name"); port != "" && strings.HasPrefix(d.Metric, "/interfaces/") {
		if p, ok := x.Peer(schemas.Port{Device: d.Device, Interface: port}); ok {
			put(add, AnnotationPeerDevice, p.Device)
			put(add, AnnotationPeerInterface, p.Interface)
		}
	} else if nb := keyValue(d.Keys, "neighbor-address"); nb != "" {
		if s, ok := x.Session(d.Device, nb); ok {
			put(add, AnnotationPeerDevice, s.PeerDevice)
			if p, ok := x.Peer(schemas.Port{Device: d.Device, Interface: s.Interface}); ok && s.Interface != "" {
				put(add, AnnotationPeerInterface, p.Interface)
			}
		}
	}
	if len(add) == 0 {
		return false
	}
	if d.Annotations == nil {
		d.Annotations = make(map[string]string, len(add))
	}
	for k, v := range add {
		d.Annotations[k] = v
	}
	return true
}

func put(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// keyValue returns the value of name in canonical keys "a=1,b=2",
// unescaped: the collectors escape a backslash, comma or equals sign in a
// value with a backslash ("name=Port 1\, Slot 2" is port "Port 1, Slot
// 2"), and the inventory names ports as they are.
func keyValue(keys, name string) string { return schemas.KeyValue(keys, name) }
