// Package incidents turns detections into incidents: one incident per root
// cause, with the rule that named it, a probable cause and its confidence,
// the evidence in time order, the affected entities and a suggested next
// action for a person (never applied).
//
// It is pure: no I/O, no clock. An Engine takes detections (firing and
// resolved) and an inventory, and returns the incidents each detection
// changed. Its time, which forgets resolved incidents and finds stale
// ones, is each detection's event time, or its DetectedAt when that is
// earlier, so that a device whose clock runs ahead does not move it.
//
// The incidents do not depend on the order in which detections of about
// the same event time arrive: an incident that a stronger cause arriving
// later explains is merged into it (merge.go), an incident's class is
// that of its strongest earliest member, traffic held as an effect
// becomes a member when the link state of its port (or the loss of its
// device) arrives, traffic that may be the effect of several incidents
// held goes to the strongest, first opened, and
// incidents are held Lateness longer for detections that arrive late.
// One exception remains: traffic that is the effect of an incident stays
// there when another incident it would join, or that ranks before it as
// the traffic's cause, opens after it (an incident's members only grow,
// schemas.IncidentUpdateVersion counts them); and a session that the
// device rule lets join a link incident over another port of its device
// may join that link or stay in its session incident, as they arrive.
//
// Its state serialises (MarshalBinary, a kind tag and a version byte
// first) so a stage can keep it in a changelog. The rules are described
// in detectors/README.md ("Incident rules").
package incidents
