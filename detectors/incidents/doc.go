// Package incidents turns detections into incidents: one incident per root
// cause, with the rule that named it, a probable cause and its confidence,
// the evidence in time order, the affected entities and a suggested next
// action for a person (never applied).
//
// It is pure: no I/O, no clock. An Engine takes detections (firing and
// resolved) and an inventory, and returns the incidents each detection
// changed. The incidents do not depend on the order in which detections
// of about the same event time arrive: an incident that a stronger cause
// arriving later explains is merged into it (merge.go), and incidents are
// held Lateness longer for detections that arrive late. Its state serialises (MarshalBinary, a kind tag and a
// version byte first) so a stage can keep it in a changelog. The rules are
// described in detectors/README.md ("Incident rules").
package incidents
