package incidents

import (
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestEscapedPortNames: the collectors escape a backslash, comma or equals
// sign in a key value ("name=lag\,1"); '/' and spaces are left as they are
// ("name=Ethernet1/1"). A port is read back unescaped, so both ends of an
// inventory link between "lag,1" and "x=1" are one link incident, named
// as the inventory names them, with interface entities of those names;
// and a port whose name starts like another's ("lag,1" and "lag,2") is
// not the same port: a traffic drop on lag,2 later than window does not
// join lag,1's link incident.
func TestEscapedPortNames(t *testing.T) {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}, {Name: "leaf1", Site: "fra1", Role: "leaf"}},
		Links: []schemas.InvLink{
			{A: schemas.Port{Device: "spine1", Interface: "lag,1"}, B: schemas.Port{Device: "leaf1", Interface: "x=1"}},
			{A: schemas.Port{Device: "spine1", Interface: "Ethernet1/1"}, B: schemas.Port{Device: "leaf1", Interface: "Ethernet 2"}},
		},
	}
	incs := run(t, inv,
		fire(0, "spine1", mOper, `name=lag\,1`, "link_down", 0, 1),
		fire(2, "leaf1", mOper, `name=x\=1`, "link_down", 0, 1),
		fire(200, "spine1", mIn, `name=lag\,2`, "ewma", 0, 5e8),
	)
	if len(incs) != 2 {
		for _, in := range incs {
			t.Logf("%s [%s] %s", in.ID, in.Rule, in.Cause)
		}
		t.Fatalf("%d incidents, want 2 (the link, lag,2's traffic)", len(incs))
	}
	if in := incs[0]; in.Rule != schemas.RuleLink || in.Cause != "link spine1:lag,1 — leaf1:x=1 down" || len(in.Evidence) != 2 {
		t.Errorf("rule %s cause %q with %d evidence, want link \"link spine1:lag,1 — leaf1:x=1 down\" with 2", in.Rule, in.Cause, len(in.Evidence))
	} else {
		want := schemas.Entity{Kind: schemas.EntityInterface, Device: "spine1", Name: "lag,1", Site: "fra1", Role: "spine", PeerDevice: "leaf1", PeerInterface: "x=1"}
		if !slices.Contains(in.Entities, want) {
			t.Errorf("entities %+v, want one %+v", in.Entities, want)
		}
	}
	// Names with '/' and spaces are not escaped, and read as they are.
	in := one(t, run(t, inv,
		fire(0, "spine1", mOper, "name=Ethernet1/1", "link_down", 0, 1),
		fire(2, "leaf1", mOper, "name=Ethernet 2", "link_down", 0, 1),
	), schemas.RuleLink, "")
	if in.Cause != "link spine1:Ethernet1/1 — leaf1:Ethernet 2 down" {
		t.Errorf("cause %q", in.Cause)
	}
}

// TestKey: key reads one value of canonical keys, unescaped.
func TestKey(t *testing.T) {
	f := func(keys, name, want string) {
		t.Helper()
		if got := key(keys, name); got != want {
			t.Errorf("key(%q, %q) = %q, want %q", keys, name, got, want)
		}
	}
	f("name=Ethernet1", "name", "Ethernet1")
	f("name=Ethernet1/1,index=0", "index", "0")
	f(`name=lag\,1`, "name", "lag,1")
	f(`name=x\=1`, "name", "x=1")
	f(`name=a\\b,id=c`, "name", `a\b`)
	f(`name=a\\,id=c\,d`, "id", "c,d")
	f(`name=a\,id=c`, "id", "")
	f("name=default,identifier=BGP,protocol.name=BGP,neighbor-address=10.0.0.1", "neighbor-address", "10.0.0.1")
	f("name=default,identifier=BGP,protocol.name=BGP", "name", "default")
	f("", "name", "")
	f("name=", "name", "")
}
