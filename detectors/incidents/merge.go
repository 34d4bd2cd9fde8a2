package incidents

import "slices"

// Merging makes the engine's incidents independent of the order in which
// detections of about the same event time arrive. A detection joins the
// first incident it fits, or opens one; on the stream, detections of one
// instant come from several partitions in any order, so a leaf's
// established-neighbors count may open a session incident before the link
// state that explains it arrives, and the link then opens a second
// incident. After every change the engine therefore looks for an incident
// opened within Window of the changed one that it explains, or that
// explains it (or, for a link, a lost target or hardware, opened later
// while it was live: see rejoins): B is explained by A
// when every firing symptom of B (not its effects) would have joined A
// had it arrived after A's members (traffic may join as an effect); two
// session incidents are one reset as soon as one symptom of either would
// join the other. The weaker of the two (or the later opened of two of one
// class) is absorbed into the stronger: its members move over
// (as members, or as effects when they only fit as effects), and it is
// published once more, resolved, with MergedInto naming the survivor.

// strength orders the classes of incident a merge keeps: a lost target
// explains its neighbours' links, sessions and traffic; a link (or
// device) explains sessions and traffic; a session explains traffic.
func strength(c class) int {
	switch c {
	case classTarget:
		return 3
	case classLink:
		return 2
	case classSession:
		return 1
	}
	return 0
}

// mergeAll absorbs, until none is left, every incident that in explains or
// that explains in, into the stronger of the two; at is the event time of
// the detection that changed in. It returns the absorbed incidents and the
// survivor.
func (e *Engine) mergeAll(in *incident, at int64) ([]*incident, *incident) {
	var merged []*incident
	for {
		var a, b *incident
		for _, o := range e.nearIncident(in) {
			if o == in || !e.live(o, at) {
				continue
			}
			if a, b = e.pair(in, o); a != nil {
				break
			}
		}
		if a == nil {
			return merged, in
		}
		e.absorb(a, b, at)
		merged = append(merged, b)
		in = a
	}
}

// pair returns (survivor, absorbed) when x and y opened within Window of
// each other and x explains y or y explains x, or when one rejoins the
// other, or nils. When each explains the other, the survivor is the stronger class,
// then the one opened first, then the smaller id, so that the same
// incidents survive whatever order their detections came in.
func (e *Engine) pair(x, y *incident) (*incident, *incident) {
	if !e.within(x.Opened, y.Opened) {
		// Not one event (resets minutes apart stay apart), unless one is
		// a link, a lost target or hardware that the other's symptoms
		// would have joined in event-time order (see rejoins).
		switch {
		case e.rejoins(x, y):
			return x, y
		case e.rejoins(y, x):
			return y, x
		}
		return nil, nil
	}
	xy, yx := e.explains(x, y), e.explains(y, x)
	if x.class() == classSession && y.class() == classSession && (e.overlaps(x, y) || e.overlaps(y, x)) {
		xy, yx = true, true // one reset seen as two: either may absorb the other
	}
	if x.class() == classLink && y.class() == classLink && (e.farEndOverlaps(x, y) || e.farEndOverlaps(y, x)) {
		xy, yx = true, true // one far end lost, seen from two of its neighbours (farend.go)
	}
	if x.class() == classTarget || y.class() == classTarget {
		// A lost target explains an incident of which one symptom is on
		// it or faces it: that neighbour's other symptoms are its too.
		xy = xy || x.class() == classTarget && e.anyJoins(x, y)
		yx = yx || y.class() == classTarget && e.anyJoins(y, x)
	}
	switch {
	case xy && yx:
		if survives(y, x) {
			return y, x
		}
		return x, y
	case xy:
		return x, y
	case yx:
		return y, x
	}
	return nil, nil
}

// rejoins reports whether a, live when b opened and opened before it,
// is a link, lost target or hardware incident that explains b: in
// event-time order b's symptoms would have joined a, but on the stream
// they arrived before the evidence of a that they join by, from another
// detections partition, and opened b. A flapping link takes its alerts
// back for Reopen, so the sessions of its second flap open b when they
// arrive before the link's state; an optic's laser bias that moves at the
// instant its light's alerts resolve opens b when it arrives before those
// resolutions. Session incidents are left out: a BGP clear minutes after
// another is a new event.
func (e *Engine) rejoins(a, b *incident) bool {
	switch a.class() {
	case classLink, classTarget, classHardware:
		return a.Opened < b.Opened && e.live(a, b.Opened) && e.explains(a, b)
	}
	return false
}

// survives reports whether a, rather than b, survives a merge of two
// incidents that explain each other.
func survives(a, b *incident) bool { return outranks(a, b, strength) }

// outranks reports whether a comes before b: its class is the stronger
// by rank, else it opened first, else its id is the smaller.
func outranks(a, b *incident, rank func(class) int) bool {
	sa, sb := rank(a.class()), rank(b.class())
	switch {
	case sa != sb:
		return sa > sb
	case a.Opened != b.Opened:
		return a.Opened < b.Opened
	}
	return a.ID < b.ID
}

// explains reports whether every firing symptom of b would join a (traffic
// as an effect at least): b is then a part or a consequence of a's cause.
func (e *Engine) explains(a, b *incident) bool {
	n := 0
	for i := range b.Members {
		m := &b.Members[i]
		if !m.Firing || m.Effect {
			continue
		}
		if _, ok := e.role(a, m); !ok {
			return false
		}
		n++
	}
	return n > 0
}

// overlaps reports whether a firing symptom of b would join a. Two session
// incidents of which one has a session of the other's reset are one
// reset: on the stream a leaf's session that arrives before the cleared
// spine's opens an incident that the spine's sessions, arriving later,
// then grow from both sides.
//
// Sessions of devices the inventory does not know join by time alone, so
// there the two must also fit in SessionSpan together, as one incident
// grown in event-time order would.
func (e *Engine) overlaps(a, b *incident) bool {
	span := max(a.lastOnset(classSession), b.lastOnset(classSession)) - min(a.Opened, b.Opened)
	for i := range b.Members {
		m := &b.Members[i]
		if m.Firing && !m.Effect && e.joins(a, m) && (span <= int64(e.cfg.SessionSpan) || e.involves(a, m.Device)) {
			return true
		}
	}
	return false
}

// anyJoins reports whether a firing symptom of b (not an effect) would
// join a. Of a long b, a lost target's incident a checks only those that
// may join it (anyJoinsTarget).
func (e *Engine) anyJoins(a, b *incident) bool {
	if len(b.Members) >= e.longFrom() && a.class() == classTarget {
		return e.anyJoinsTarget(a, b)
	}
	for i := range b.Members {
		if m := &b.Members[i]; m.Firing && !m.Effect && e.joins(a, m) {
			return true
		}
	}
	return false
}

// role returns whether m would join a as an effect, and whether it would
// join a at all.
func (e *Engine) role(a *incident, m *member) (effect, ok bool) {
	if e.joins(a, m) {
		return false, true
	}
	if m.Class == classTraffic && e.effectOf(a, m) {
		return true, true
	}
	return false, false
}

// absorb moves b's members into a, b's firing symptoms as members or
// effects as they fit a (a resolution takes its alert's role), and marks b
// merged into a at event time at. A resolved a stays resolved, at the
// latest resolution of its members. b leaves the engine's incidents.
func (e *Engine) absorb(a, b *incident, at int64) {
	effect := map[string]bool{}
	for i := range b.Members {
		m := &b.Members[i]
		if m.Firing && !m.Effect {
			effect[m.Fingerprint], _ = e.role(a, m)
		}
	}
	for _, m := range b.Members {
		if eff, ok := effect[m.Fingerprint]; ok {
			m.Effect = eff
		}
		a.insert(m)
		if !m.Effect && b.Firing[m.Fingerprint] {
			a.Firing[m.Fingerprint] = true
		}
	}
	e.file(a, b.Members)
	e.unfile(b)
	a.settle(at)
	if a.Resolved != 0 {
		// a resolved before it absorbed b: it resolves at the latest
		// resolution of its members, b's too, as it would have had b's
		// symptoms joined it in event-time order (TestMergedResolvedAt).
		a.Resolved = resolvedAt(max(a.Resolved, a.lastResolution()))
	}
	b.MergedInto = a.ID
	if b.Resolved == 0 {
		b.Resolved = resolvedAt(max(at, b.Updated))
	}
	e.incs = slices.DeleteFunc(e.incs, func(in *incident) bool { return in == b })
}

// reclaim makes members of in the traffic alerts it holds as effects
// that are symptoms of it now (see symptom): traffic on a port of a link
// whose state arrived after it (traffic on leaf3:e7 joins as an effect
// the incident of leaf3:e2 flapping; leaf3:e7 going down at the same
// instant then joins that incident too, and the traffic is on its port),
// or traffic on a device the incident that held it as an effect turned
// out to be the loss of (its target state arrived last, and absorbed the
// link incident that held it). With the link's or the target's state
// first, the traffic would have joined as a member. Each alert changes
// role with all of its detections. It reports whether it changed in.
//
// Only in's own effects change role: one held by another incident stays
// there, since an incident's members only grow (the update version of an
// incident, schemas.IncidentUpdateVersion, counts them).
func (e *Engine) reclaim(in *incident) bool {
	if in.classMemo().effects == 0 {
		return false
	}
	var take map[string]bool
	for i := range in.Members {
		p := &in.Members[i]
		if p.Effect && p.Firing && !take[p.Fingerprint] && e.live(in, p.Time) && e.symptom(in, p) {
			if take == nil {
				take = map[string]bool{}
			}
			take[p.Fingerprint] = true
		}
	}
	if take == nil {
		return false
	}
	for i := range in.Members {
		if p := &in.Members[i]; take[p.Fingerprint] {
			p.Effect = false
			if p.Firing && p.Time < in.Opened {
				in.Opened = p.Time
			}
		}
	}
	for fp := range take {
		if in.lastOf(fp).Firing {
			in.Firing[fp] = true
		}
	}
	in.memo = memo{}
	return true
}

// symptom reports whether traffic member p, an effect of in, now joins it
// as a symptom: it is on the port of one of its members (see hasPort), or
// on or facing the device in says was lost (see touchesTarget).
func (e *Engine) symptom(in *incident, p *member) bool {
	if p.Port != "" && e.hasPort(in, p.Device, p.Port) {
		return true
	}
	return in.class() == classTarget && e.touchesTarget(in, p)
}

// lastOf returns in's latest member of alert fp, in event-time order; fp
// must be one of in's.
func (in *incident) lastOf(fp string) *member {
	for i := len(in.Members) - 1; i >= 0; i-- {
		if m := &in.Members[i]; m.Fingerprint == fp {
			return m
		}
	}
	return nil
}
