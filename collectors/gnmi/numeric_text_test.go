package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestNumericTextLeavesStayText: a component's part number of digits (a
// Huawei BOM code, "02120529") and a port's aggregate id of digits, sent
// in JSON_IETF, where every string is quoted and 64-bit numbers are
// strings too, are published as the text they are. Before, each became a
// gauge with empty text (the part number's leading zero lost): the power
// model, which reads their text, found no part number and no LAG.
func TestNumericTextLeavesStayText(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/", jsonv(`{"openconfig-platform:components":{"component":[{"name":"PSU1","state":{"name":"PSU1","part-no":"02120529"}}]},`+
			`"openconfig-interfaces:interfaces":{"interface":[{"name":"eth1","ethernet":{"state":{"aggregate-id":"10"}}}]}}`))))
	got := map[string]string{}
	for _, s := range out {
		switch s.Metric {
		case schemas.MetricPartNo, schemas.MetricAggregateID:
			if s.Kind != schemas.KindState {
				t.Errorf("%s {%s}: kind %v %q, want a state", s.Metric, s.Keys, s.Kind, s.Str)
			}
			got[s.Metric] = s.Str
		}
	}
	if got[schemas.MetricPartNo] != "02120529" || got[schemas.MetricAggregateID] != "10" {
		t.Errorf("text %v, want the part number 02120529 and the aggregate id 10", got)
	}
}
