package incidents

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// verdict is what a rule concluded about an incident.
type verdict struct {
	rule       string
	cause      string
	action     string
	confidence float64
	planned    bool // every member follows from a shut (shutRule): the incident is info
	// device is the device the cause names when no member is on it (a
	// far end down by inference, farEndRule): the first entity.
	device string
}

// describe returns the contract view of in: its rule, cause, entities and
// evidence. Past MaxEvidence, the evidence lists the first half and the
// latest in event time, and the detection joined (nil for none; the
// members of its id) wherever its event time falls, so every detection is
// listed by the update of the incident it joined. Past MaxEntities, the
// entities list the first named.
func (e *Engine) describe(in *incident, joined *member) *schemas.Incident {
	t := e.tallied(in)
	v := e.judge(in, t)
	out := &schemas.Incident{Version: schemas.IncidentVersion, ID: in.ID, State: schemas.IncidentOpen,
		OpenedAt: time.Unix(0, in.Opened).UTC(), UpdatedAt: time.Unix(0, in.Updated).UTC(), Severity: schemas.SeverityInfo,
		Rule: v.rule, Cause: v.cause, Action: v.action, Confidence: v.confidence}
	if in.Resolved != 0 {
		t := time.Unix(0, in.Resolved).UTC()
		out.State, out.ResolvedAt = schemas.IncidentResolved, &t
		if in.Note != "" {
			out.Cause += "; resolved: " + in.Note
		}
	}
	out.MergedInto = in.MergedInto
	ms := in.Members // in event-time order (see insert)
	if !v.planned {
		sev := 0
		if t != nil {
			sev = t.sev
		} else {
			for i := range ms {
				if !ms[i].Effect {
					sev = max(sev, rank(ms[i].Severity))
				}
			}
		}
		out.Severity = [...]string{schemas.SeverityInfo, schemas.SeverityWarning, schemas.SeverityCritical}[sev]
	}
	// The first half and the latest of MaxEvidence, and between them the
	// members of the joined detection's id.
	first := e.cfg.MaxEvidence / 2
	last := max(first, len(ms)-(e.cfg.MaxEvidence-first))
	if first >= len(ms) {
		first, last = len(ms), len(ms)
	}
	mid := e.joinedBetween(t, ms, first, last, joined)
	out.EvidenceOmitted = last - first - len(mid)
	if len(ms) > 0 {
		out.Evidence = make([]schemas.Evidence, 0, len(ms)-out.EvidenceOmitted)
	}
	add := func(m *member) {
		role, state := schemas.EvidenceMember, schemas.StateResolved
		if m.Effect {
			role = schemas.EvidenceEffect
		}
		if m.Firing {
			state = schemas.StateFiring
		}
		out.Evidence = append(out.Evidence, schemas.Evidence{Time: time.Unix(0, m.Time).UTC(), Role: role, DetectionID: m.ID,
			Fingerprint: m.Fingerprint, State: state, Device: m.Device, Metric: m.Metric, Keys: m.Keys, Detector: m.Detector, Severity: m.Severity})
	}
	for i := range first {
		add(&ms[i])
	}
	for _, i := range mid {
		add(&ms[i])
	}
	for i := last; i < len(ms); i++ {
		add(&ms[i])
	}
	// The device down by inference, then the members' entities, the
	// first MaxEntities of them.
	var lead []schemas.Entity
	if v.device != "" {
		en := schemas.Entity{Kind: schemas.EntityDevice, Device: v.device}
		if d, ok := e.inv.Device(v.device); ok {
			en.Site, en.Role = d.Site, d.Role
		}
		lead = []schemas.Entity{en}
	}
	var named int
	out.Entities, named, out.Devices, out.Sites = e.entities(in, lead, e.cfg.MaxEntities)
	out.EntitiesOmitted = named - len(out.Entities)
	return out
}

// joinedBetween returns the indexes in ms[first:last] of the members of
// the joined detection's id ("" for none), in order. With a tally t,
// which counts the members by id, the joined member itself is found by
// its place in memberOrder when no other has its id.
func (e *Engine) joinedBetween(t *tally, ms []member, first, last int, joined *member) []int {
	if first >= last {
		return nil
	}
	id := ""
	if joined != nil {
		id = joined.ID
	}
	if t != nil {
		switch n := t.ids[id]; {
		case n == 0:
			return nil
		case n == 1 && joined != nil:
			if i, ok := slices.BinarySearchFunc(ms, *joined, memberOrder); ok {
				if i >= first && i < last {
					return []int{i}
				}
				return nil
			}
		}
	}
	var out []int
	for i := first; i < last; i++ {
		if ms[i].ID == id {
			out = append(out, i)
		}
	}
	return out
}

func rank(sev string) int {
	switch sev {
	case schemas.SeverityCritical:
		return 2
	case schemas.SeverityWarning:
		return 1
	}
	return 0
}

// judge applies the rules in order: a lost target, a shut, a far end
// down by inference (farend.go), device, link (a link down, then an LLDP
// neighbour lost on a link that is up), session, hardware, surge,
// traffic, unexplained. With t, in's tally, the first rules read it
// rather than the members (judgeLong).
func (e *Engine) judge(in *incident, t *tally) verdict {
	if t != nil {
		if v, ok := e.judgeLong(in, t); ok {
			return v
		}
	}
	down := map[string][]string{} // device → interfaces with a link-state member
	flapping := false
	var lldp, sessions, hardware, traffic []*member
	targetFlapping := false
	for i := range in.Members {
		m := &in.Members[i]
		switch {
		case m.Effect:
		case m.isTarget():
			targetFlapping = targetFlapping || m.Detector == "flapping"
		case m.linkState():
			if !slices.Contains(down[m.Device], m.Port) {
				down[m.Device] = append(down[m.Device], m.Port)
			}
			flapping = flapping || m.Detector == "flapping"
		case m.lldp():
			lldp = append(lldp, m)
		case m.Class == classSession:
			sessions = append(sessions, m)
		case m.Class == classHardware:
			hardware = append(hardware, m)
		case m.Class == classTraffic:
			traffic = append(traffic, m)
		}
	}
	if devs := in.targetDevices(); len(devs) > 0 {
		return e.targetRule(devs, down, targetFlapping)
	}
	if sh, ok := e.planned(in); ok {
		return e.shutRule(in, sh)
	}
	switch {
	case len(down) > 0:
		if far, ok := e.farEnd(in, down); ok {
			return e.farEndRule(far, down, flapping)
		}
		return e.linkRule(down, flapping)
	case len(lldp) > 0:
		return e.lldpRule(lldp)
	case len(sessions) > 0:
		return e.sessionRule(sessions)
	case len(hardware) > 0:
		return hardwareRule(hardware)
	case len(traffic) > 0:
		return e.trafficRule(traffic)
	}
	m := &in.Members[0]
	return verdict{rule: schemas.RuleUnexplained, confidence: 0.3,
		cause:  fmt.Sprintf("unexplained: %s on %s %s %s", m.Detector, m.Device, m.Metric, m.Keys),
		action: fmt.Sprintf("look at %s %s %s around %s", m.Device, m.Metric, m.Keys, time.Unix(0, m.Time).UTC().Format(time.RFC3339))}
}

// shutSpan is a stretch an interface was shut on purpose: from its
// admin_down's firing to its resolution (0 while it lasts).
type shutSpan struct{ from, to int64 }

// shuts returns the interfaces of in that an admin_down says were shut,
// with the stretches they were.
func shuts(in *incident) map[schemas.Port][]shutSpan {
	var out map[schemas.Port][]shutSpan
	for i := range in.Members { // in event-time order
		m := &in.Members[i]
		if m.Class != classLink || m.Detector != adminDown || m.Port == "" {
			continue
		}
		p := schemas.Port{Device: m.Device, Interface: m.Port}
		if out == nil {
			out = map[schemas.Port][]shutSpan{}
		}
		spans := out[p]
		switch {
		case m.Firing && (len(spans) == 0 || spans[len(spans)-1].to != 0):
			out[p] = append(spans, shutSpan{from: m.Time})
		case !m.Firing && len(spans) > 0 && spans[len(spans)-1].to == 0:
			spans[len(spans)-1].to = m.Time
		}
	}
	return out
}

// planned returns the shuts of in and reports whether in holds one (an admin_down on an interface)
// and every other alert it holds follows from one: a link-state, traffic
// or session alert on a shut interface or on its inventory link's far end,
// or a session alert without a known interface on a device with a shut
// interface or the far end of one, firing from Window before the shut
// until it ended. The far end of a shut link goes down (its admin-status
// stays up: a link_down there), and the BGP and BFD sessions over it
// reset; none of that is a fault.
func (e *Engine) planned(in *incident) (map[schemas.Port][]shutSpan, bool) {
	sh := shuts(in)
	if len(sh) == 0 {
		return nil, false
	}
	during := func(p schemas.Port, t int64) bool {
		for _, s := range sh[p] {
			if t >= e.around(s.from, s.from).lo && (s.to == 0 || t <= s.to) {
				return true
			}
		}
		return false
	}
	onShut := func(p schemas.Port, t int64) bool {
		if during(p, t) {
			return true
		}
		q, ok := e.peer(p)
		return ok && during(q, t)
	}
	for i := range in.Members {
		m := &in.Members[i]
		if m.Effect || !m.Firing || m.Class == classLink && m.Detector == adminDown {
			continue
		}
		switch {
		case m.Class != classLink && m.Class != classTraffic && m.Class != classSession:
			return nil, false
		case m.Port != "":
			if !onShut(schemas.Port{Device: m.Device, Interface: m.Port}, m.Time) {
				return nil, false
			}
		case m.Class != classSession:
			return nil, false
		default:
			near := false
			for p := range sh {
				q, ok := e.peer(p)
				near = near || p.Device == m.Device && during(p, m.Time) || ok && q.Device == m.Device && during(p, m.Time)
			}
			if !near {
				return nil, false
			}
		}
	}
	return sh, true
}

// shutRule names the interfaces shut on purpose (sh, planned's) and what
// followed from it: the far ends that went down, the sessions over them,
// the traffic that stopped.
func (e *Engine) shutRule(in *incident, sh map[schemas.Port][]shutSpan) verdict {
	var ports, far []string
	for p := range sh {
		ports = append(ports, p.String())
	}
	sessions, traffic := map[string]bool{}, false
	for i := range in.Members {
		m := &in.Members[i]
		switch {
		case !m.Firing || m.Effect:
		case m.linkState():
			p := schemas.Port{Device: m.Device, Interface: m.Port}
			if _, shut := sh[p]; !shut && !slices.Contains(far, p.String()) {
				far = append(far, p.String())
			}
		case m.Class == classSession:
			sessions[m.Fingerprint] = true
		case m.Class == classTraffic:
			traffic = true
		}
	}
	sort.Strings(ports)
	sort.Strings(far)
	word := "interface"
	if len(ports) > 1 {
		word = "interfaces"
	}
	cause := fmt.Sprintf("%s %s shut by configuration (admin down)", word, strings.Join(ports, ", "))
	var with []string
	if len(far) > 0 {
		with = append(with, "the far end "+strings.Join(far, ", ")+" down")
	}
	switch n := len(sessions); {
	case n == 1:
		with = append(with, "1 BGP/BFD session down")
	case n > 1:
		with = append(with, fmt.Sprintf("%d BGP/BFD sessions down", n))
	}
	if traffic {
		with = append(with, "its traffic stopped")
	}
	if len(with) > 0 {
		cause += "; with it " + strings.Join(with, ", ")
	}
	return verdict{rule: schemas.RuleLink, confidence: 0.9, planned: true, cause: cause,
		action: fmt.Sprintf("nothing, if the shut was planned; otherwise enable %s again (no shutdown)", strings.Join(ports, ", "))}
}

// linkRule names the links (or the device) whose interfaces went down.
func (e *Engine) linkRule(down map[string][]string, flapping bool) verdict {
	devs := sortedKeys(down)
	for _, d := range devs {
		if len(down[d]) >= e.cfg.DeviceInterfaces {
			return deviceVerdict(d, down[d])
		}
	}
	var ports []schemas.Port
	for _, d := range devs {
		for _, i := range slices.Sorted(slices.Values(down[d])) {
			ports = append(ports, schemas.Port{Device: d, Interface: i})
		}
	}
	n, links, bothEnds := e.links(down, ports)
	return linkVerdict(n, links, bothEnds, flapping)
}

// deviceVerdict is linkRule's verdict on device d, whose interfaces ifs
// went down.
func deviceVerdict(d string, ifs []string) verdict {
	ifs = slices.Sorted(slices.Values(ifs))
	return verdict{rule: schemas.RuleDevice, confidence: 0.8,
		cause:  fmt.Sprintf("device %s: %d interfaces down at once (%s)", d, len(ifs), strings.Join(ifs, ", ")),
		action: fmt.Sprintf("check %s itself: line card, power, a reload or the console log; the links on %s went down together", d, strings.Join(ifs, ", "))}
}

// links returns how many links the ports of down (ports, by device then
// interface) are on, listed (a port the inventory links to none by
// itself), and whether both ends of every one are down.
func (e *Engine) links(down map[string][]string, ports []schemas.Port) (int, string, bool) {
	seen := map[schemas.Port]bool{}
	var links []string
	bothEnds := true
	for _, p := range ports {
		if seen[p] {
			continue
		}
		seen[p] = true
		l, ok := e.inv.Link(p)
		if !ok {
			links = append(links, p.String())
			bothEnds = false
			continue
		}
		seen[l.A], seen[l.B] = true, true
		bothEnds = bothEnds && slices.Contains(down[l.A.Device], l.A.Interface) && slices.Contains(down[l.B.Device], l.B.Interface)
		links = append(links, l.A.String()+" — "+l.B.String())
	}
	return len(links), strings.Join(links, ", "), bothEnds
}

// linkVerdict is linkRule's verdict on n links down (or flapping), listed.
func linkVerdict(n int, links string, bothEnds, flapping bool) verdict {
	what, act := "down", "check the optic and the fibre on %s; drain the link if it does not come back"
	if flapping {
		what, act = "flapping", "drain the link %s and check the optic and the fibre before returning it to service"
	}
	conf := 0.9
	if !bothEnds {
		conf = 0.7
	}
	word := "link"
	if n > 1 {
		word = "links"
	}
	return verdict{rule: schemas.RuleLink, confidence: conf,
		cause: fmt.Sprintf("%s %s %s", word, links, what), action: fmt.Sprintf(act, links)}
}

// lldpRule names the ports that lost their LLDP neighbour while their
// links stayed up, with their inventory links: the far end stopped sending
// LLDP (a reload, its LLDP agent) or the link fails one way.
func (e *Engine) lldpRule(ms []*member) verdict {
	var ports, peers []string
	for _, m := range ms {
		p := schemas.Port{Device: m.Device, Interface: m.Port}
		what := p.String()
		if l, ok := e.inv.Link(p); ok {
			what += " (link " + l.A.String() + " — " + l.B.String() + ")"
			if q, ok := e.inv.Peer(p); ok && !slices.Contains(peers, q.Device) {
				peers = append(peers, q.Device)
			}
		}
		if !slices.Contains(ports, what) {
			ports = append(ports, what)
		}
	}
	sort.Strings(ports)
	sort.Strings(peers)
	far := "the far end"
	if len(peers) > 0 {
		far = strings.Join(peers, ", ")
	}
	return verdict{rule: schemas.RuleLink, confidence: 0.6,
		cause:  fmt.Sprintf("LLDP neighbour lost on %s while the link stays up", strings.Join(ports, ", ")),
		action: fmt.Sprintf("check %s (a reload, its LLDP agent) and the link for a one-way fault; traffic may still flow", far)}
}

// sessionRule names the sessions reset with no link event.
func (e *Engine) sessionRule(ms []*member) verdict {
	devs := map[string]bool{}
	var peers []string
	for _, m := range ms {
		devs[m.Device] = true
		if m.Neighbor != "" && !slices.Contains(peers, m.Device+"→"+m.Neighbor) {
			peers = append(peers, m.Device+"→"+m.Neighbor)
		}
	}
	names := sortedKeys(devs)
	sort.Strings(peers)
	cause := fmt.Sprintf("BGP/BFD session reset on %s with no link event", strings.Join(names, ", "))
	if len(names) > 2 {
		cause = fmt.Sprintf("BGP/BFD sessions reset together on %d devices (%s) with no link event", len(names), strings.Join(names, ", "))
	}
	if len(peers) > 0 && len(peers) <= 4 {
		cause += " (" + strings.Join(peers, ", ") + ")"
	}
	return verdict{rule: schemas.RuleSession, confidence: 0.8, cause: cause,
		action: fmt.Sprintf("check the BGP log and recent changes (clear, policy, hold timer) on %s; no interface went down", strings.Join(names, ", "))}
}

// hardwareRule names the component: a PSU first, then a fan that slowed or
// stopped, then any fan, an optic, a temperature sensor.
func hardwareRule(ms []*member) verdict {
	best, score := ms[0], -1
	for _, m := range ms {
		s := 0
		switch c := strings.ToUpper(m.Component); {
		case strings.Contains(m.Metric, "power-supply") || strings.HasPrefix(c, "PSU"):
			s = 4
		case strings.Contains(m.Metric, "/fan/") && m.Observed < m.Expected:
			s = 3
		case strings.Contains(m.Metric, "/fan/"):
			s = 2
		case strings.Contains(m.Metric, "/transceiver/"):
			s = 1
		}
		if s > score {
			best, score = m, s
		}
	}
	action := map[int]string{4: "replace %s on %s", 3: "replace %s on %s", 2: "check %s on %s and the airflow",
		1: "check or replace the optic %s on %s and clean the connector"}[score]
	if action == "" {
		action = "check cooling and airflow around %s on %s"
	}
	return verdict{rule: schemas.RuleHardware, confidence: 0.5 + 0.1*float64(score),
		cause:  fmt.Sprintf("%s on %s", best.Component, best.Device),
		action: fmt.Sprintf(action, best.Component, best.Device)}
}

// trafficRule tells a volumetric surge (ingress up on several ports of a
// device) from another traffic anomaly of a port.
func (e *Engine) trafficRule(ms []*member) verdict {
	dev := ms[0].Device
	up, out := map[string]float64{}, map[string]bool{}
	for _, m := range ms {
		if m.ingressUp() {
			up[m.Port] = max(up[m.Port], m.Observed/max(m.Expected, 1))
		}
		if m.egressUp() {
			out[m.Port] = true
		}
	}
	ports := sortedKeys(up)
	sort.SliceStable(ports, func(i, j int) bool { return up[ports[i]] > up[ports[j]] })
	if len(ports) >= e.cfg.SurgePorts {
		talkers := make([]string, 0, 3)
		for _, p := range ports[:min(3, len(ports))] {
			talkers = append(talkers, fmt.Sprintf("%s ×%.1f", p, up[p]))
		}
		asym := "in/out asymmetric"
		if len(out) > 0 {
			asym = "outbound up too on " + strings.Join(sortedKeys(out), ", ")
		}
		return verdict{rule: schemas.RuleSurge, confidence: 0.6,
			cause:  fmt.Sprintf("volumetric surge on %s: ingress up on %d ports (%s), %s; top talkers %s", dev, len(ports), strings.Join(slices.Sorted(slices.Values(ports)), ", "), asym, strings.Join(talkers, ", ")),
			action: fmt.Sprintf("look at the sources behind %s on %s (flow data); rate-limit or divert to scrubbing if it is an attack", strings.Join(ports, ", "), dev)}
	}
	m := ms[0]
	what := "traffic anomaly"
	switch {
	case len(ports) == 1:
		what = fmt.Sprintf("ingress surge (×%.1f)", up[ports[0]])
	case isLoss(m.Metric[strings.LastIndexByte(m.Metric, '/')+1:]):
		what = "errors or discards rising"
	case m.Observed < m.Expected:
		what = "traffic drop"
	}
	return verdict{rule: schemas.RuleTraffic, confidence: 0.5,
		cause:  fmt.Sprintf("%s on %s:%s", what, dev, m.Port),
		action: fmt.Sprintf("check what changed behind %s:%s (its peer, the traffic sources, the optic for errors)", dev, m.Port)}
}

// entities returns lead and then the devices, interfaces, sessions and
// components of in's members, each once, in the order the members first
// name them, up to limit entities in all; how many that is without the
// limit; and, when that is more, the devices and the non-empty sites of
// them all, sorted (nil otherwise: the entities returned say it). An
// entity is a function of its kind, device, name and (for a session)
// port, given the inventory, so those skip the repeats before the
// inventory is asked: a long incident's members name few entities.
//
// An incident of longFrom members or more keeps its entities in its
// memo, each with the place in memberOrder of the first member that
// names it, in that order; Add brings them up to date with the member it
// inserts (rememberAdded), wherever it lands, so a detection joining a
// long incident does not go over every member again, and only the
// entities listed are copied: a storm's incident naming thousands costs
// each update no more than limit, and a copy of its devices and sites,
// which the memo keeps sorted too. A new inventory, or members added
// otherwise (a merge), take them afresh. A shorter incident keeps none:
// a storm's thousands of small incidents would hold maps each for little
// gain.
func (e *Engine) entities(in *incident, lead []schemas.Entity, limit int) (listed []schemas.Entity, named int, devices, sites []string) {
	if len(in.Members) < e.longFrom() {
		out := lead
		seen, seenEntity := map[entityRef]bool{}, map[schemas.Entity]bool{}
		for i := range in.Members {
			out = e.addEntities(out, seen, seenEntity, &in.Members[i])
		}
		if len(out) > limit {
			for _, x := range out {
				devices, sites = addSorted(devices, x.Device), addSorted(sites, x.Site)
			}
			devices, sites = e.bounded(devices, sites)
		}
		return out[:min(len(out), limit)], len(out), devices, sites
	}
	l := in.memo.ents
	if l == nil || l.n != len(in.Members) || l.inv != e.invGen {
		l = &entityList{inv: e.invGen, refs: map[entityRef]int{}, of: map[schemas.Entity]int{}}
		for i := range in.Members {
			e.entitiesAdd(l, &in.Members[i])
		}
		l.n = len(in.Members)
		in.memo.ents = l
	}
	named = len(lead) + len(l.order)
	out := make([]schemas.Entity, 0, min(named, limit))
	out = append(out, lead[:min(len(lead), limit)]...)
	for _, j := range l.order[:min(len(l.order), limit-len(out))] {
		out = append(out, l.ents[j].en)
	}
	if named > limit {
		devices, sites = slices.Clone(l.devices), slices.Clone(l.sites)
		for _, x := range lead {
			devices, sites = addSorted(devices, x.Device), addSorted(sites, x.Site)
		}
		devices, sites = e.bounded(devices, sites)
	}
	return out, named, devices, sites
}

// maxNamesBytes is the most bytes of names an update's Devices and Sites
// take together (a name's JSON: its bytes, two quotes and a comma), about
// 3 000 devices of 30-character names. Past it an update carries neither,
// as a build before them: the rows' devices and sites are then the
// listed entities' only. So an update stays under a record: with the
// entities' and the evidence's bounds (under a third of one at the test
// fabric's names), names three times as long still leave room for these
// (TestOmittedUpdateNamesAllDevices). Without a bound, a storm of 18 000 devices of
// 34-character names made an update of 1.01 MB, which the producer
// refuses, and the stage stopped.
const maxNamesBytes = 100_000

// namesMax returns maxNamesBytes, or the engine's bound for tests.
func (e *Engine) namesMax() int {
	if e.namesBound == 0 {
		return maxNamesBytes
	}
	return e.namesBound
}

// bounded returns devices and sites, or nil for both when their names
// take more than namesMax bytes.
func (e *Engine) bounded(devices, sites []string) ([]string, []string) {
	n := 0
	for _, l := range [...][]string{devices, sites} {
		for _, v := range l {
			n += len(v) + 3
		}
	}
	if n > e.namesMax() {
		return nil, nil
	}
	return devices, sites
}

// addSorted inserts v into sorted s unless it is there or empty.
func addSorted(s []string, v string) []string {
	if i, found := slices.BinarySearch(s, v); !found && v != "" {
		return slices.Insert(s, i, v)
	}
	return s
}

// entityRef is what an entity is a function of (see entities).
type entityRef struct{ kind, device, name, port string }

// entityList is the entities of an incident's first n members, with the
// inventory generation they were taken with: each entity (ents) with
// where it is named first, the entity of each ref (refs) and the index
// in ents of each entity (of), the indexes in ents in order, and the
// distinct devices and non-empty sites of the entities, sorted.
type entityList struct {
	n, inv         int
	ents           []entityAt
	refs           map[entityRef]int
	of             map[schemas.Entity]int
	order          []int32
	devices, sites []string
}

// entityAt is an entity and where it is named first.
type entityAt struct {
	en schemas.Entity
	at entityKey
}

// entitiesAdd adds the entities member m names to l, or moves those it
// names before their first member (it landed before it) to their place.
func (e *Engine) entitiesAdd(l *entityList, m *member) {
	refs, n := entityRefs(m)
	for sub, r := range refs[:n] {
		k := entityKey{t: m.Time, fp: m.Fingerprint, firing: m.Firing, id: m.ID, sub: uint8(sub)}
		j, ok := l.refs[r]
		if !ok {
			x := e.entityOf(m, r)
			if j, ok = l.of[x]; !ok { // two sessions' ports may name one entity
				j = len(l.ents)
				l.ents = append(l.ents, entityAt{en: x, at: k})
				l.refs[r], l.of[x] = j, j
				l.place(j)
				l.devices, l.sites = addSorted(l.devices, x.Device), addSorted(l.sites, x.Site)
				continue
			}
			l.refs[r] = j
		}
		if k.compare(l.ents[j].at) < 0 {
			i, _ := slices.BinarySearchFunc(l.order, int32(j), l.orderOf)
			l.order = slices.Delete(l.order, i, i+1)
			l.ents[j].at = k
			l.place(j)
		}
	}
}

// orderOf orders indexes in l.ents by where their entities are named
// first, then by index (members of one place in memberOrder; see insert).
func (l *entityList) orderOf(a, b int32) int {
	if c := l.ents[a].at.compare(l.ents[b].at); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// place puts index j of l.ents in its place in l.order.
func (l *entityList) place(j int) {
	i, _ := slices.BinarySearchFunc(l.order, int32(j), l.orderOf)
	l.order = slices.Insert(l.order, i, int32(j))
}

// addEntities appends to out the entities member m names that are not
// in seen (by what they are a function of) or seenEntity (as they are),
// and adds them to both.
func (e *Engine) addEntities(out []schemas.Entity, seen map[entityRef]bool, seenEntity map[schemas.Entity]bool, m *member) []schemas.Entity {
	refs, n := entityRefs(m)
	for _, r := range refs[:n] {
		if seen[r] {
			continue
		}
		seen[r] = true
		x := e.entityOf(m, r)
		if !seenEntity[x] { // two sessions' ports may name one entity
			seenEntity[x] = true
			out = append(out, x)
		}
	}
	return out
}

// entityRefs returns what each entity member m names is a function of,
// in order: its device, then its component, session or interface, if
// any; and how many.
func entityRefs(m *member) ([2]entityRef, int) {
	refs := [2]entityRef{{schemas.EntityDevice, m.Device, "", ""}}
	switch {
	case m.Class == classHardware:
		refs[1] = entityRef{schemas.EntityComponent, m.Device, m.Component, ""}
	case m.Neighbor != "":
		refs[1] = entityRef{schemas.EntitySession, m.Device, m.Neighbor, m.Port}
	case m.Port != "":
		refs[1] = entityRef{schemas.EntityInterface, m.Device, m.Port, ""}
	default:
		return refs, 1
	}
	return refs, 2
}

// entityOf returns the entity member m names by r, one of its
// entityRefs, with its device's site and role.
func (e *Engine) entityOf(m *member, r entityRef) schemas.Entity {
	x := schemas.Entity{Kind: r.kind, Device: m.Device}
	switch r.kind {
	case schemas.EntityComponent:
		x.Name = m.Component
	case schemas.EntitySession:
		x.Name, x.PeerDevice = m.Neighbor, e.peerDevice(m)
	case schemas.EntityInterface:
		x.Name = m.Port
		if p, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok {
			x.PeerDevice, x.PeerInterface = p.Device, p.Interface
		}
	}
	if d, ok := e.inv.Device(x.Device); ok {
		x.Site, x.Role = d.Site, d.Role
	}
	return x
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
