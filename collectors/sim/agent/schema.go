package agent

import (
	"strings"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/schemas"
)

// schemaLeaves are the paths of the metric vocabulary's OpenConfig and
// native leaves, as path elements without keys: the schema the agent
// knows, whether or not a device has data there.
var schemaLeaves = func() [][]*pb.PathElem {
	var out [][]*pb.PathElem
	for _, m := range schemas.Metrics() {
		if m.Origin != schemas.OriginOpenConfig && m.Origin != schemas.OriginNative {
			continue
		}
		var elems []*pb.PathElem
		for _, n := range strings.Split(strings.TrimPrefix(m.Name, "/"), "/") {
			elems = append(elems, &pb.PathElem{Name: n})
		}
		out = append(out, elems)
	}
	return out
}()

// inSchema reports whether a subscription path names a container or leaf
// of the vocabulary, keys aside. Such a path with no data on a device (the
// LLDP neighbours of a device whose links are all down, BGP on a fleet
// without a topology) is subscribed to without error, as a path of the
// device's models that holds no data yet; any other path without data is
// NotFound.
func inSchema(path []*pb.PathElem) bool {
	for _, leaf := range schemaLeaves {
		if matchElems(path, leaf, false) {
			return true
		}
	}
	return false
}
