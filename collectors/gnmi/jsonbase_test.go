package gnmi

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// TestJSONListPathParsedOnce: a JSON update holding a list, sent again
// (as a device does every interval), costs as many allocations under a
// deep path as under a short one: its path is parsed for the list's keys
// once, not at every update. Before, every such update parsed its path
// again, at a few allocations per path element (9 more per update under
// /ietf-interfaces:interfaces, BenchmarkJSONTree/list).
func TestJSONListPathParsedOnce(t *testing.T) {
	const tree = `{"interface":[{"name":"eth0","oper-status":"up","statistics":{"in-octets":"5"}}]}`
	allocs := func(path string) float64 {
		raw, err := proto.Marshal(notif(t, ts1, "", upd(t, path, jsonv(tree))))
		if err != nil {
			t.Fatal(err)
		}
		b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
		defer b.Release()
		d := newDecoder(t, b, DecoderConfig{})
		return testing.AllocsPerRun(100, func() {
			if _, err := d.Decode(raw, ts1); err != nil { // the same timestamp: duplicates after the first
				t.Fatal(err)
			}
		})
	}
	short := allocs("/ietf-interfaces:interfaces")
	deep := allocs(strings.Repeat("/a[k=v]", 12) + "/ietf-interfaces:interfaces")
	if deep != short {
		t.Errorf("%.0f allocations per update under a 13-element path, %.0f under /interfaces: want the same", deep, short)
	}
}
