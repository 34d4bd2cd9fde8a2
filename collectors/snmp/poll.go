package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// OIDs polled.
const (
	oidSysUpTime = ".1.3.6.1.2.1.1.3.0"
	oidIfEntry   = ".1.3.6.1.2.1.2.2.1"
	oidIfXEntry  = ".1.3.6.1.2.1.31.1.1.1"
	oidEntPhys   = ".1.3.6.1.2.1.47.1.1.1.1"
	oidEntSensor = ".1.3.6.1.2.1.99.1.1.1"
	oidBgpPeer   = ".1.3.6.1.2.1.15.3.1" // BGP4-MIB bgpPeerEntry, indexed by the peer's address
	colBgpState  = oidBgpPeer + ".2"
)

// BGPKeys and the discontinuity reasons. Metric names are the vocabulary's
// (schemas.Metric…): those with an OpenConfig equivalent use its path, so a
// device's SNMP and gNMI series line up; the rest carry the "snmp:" origin.
const (
	// BGPKeys prefix the keys of BGP4-MIB peers ("…,neighbor-address=A"),
	// as the gNMI collector gives them for the default instance.
	BGPKeys               = schemas.BGPInstanceKeys
	DiscontinuityRestart  = "agent_restart"           // sysUpTime went back
	DiscontinuityIface    = "interface_discontinuity" // ifCounterDiscontinuityTime changed
	DiscontinuityDecrease = "counter_decrease"        // a 64-bit counter went down
)

// ifColumn is a column of ifTable or ifXTable that becomes a metric.
type ifColumn struct {
	oid    string
	metric string
	bits   int    // 32 or 64 for counters
	hc     string // for a 32-bit octet or packet counter: the HC column that replaces it when present
}

var ifColumns = []ifColumn{
	{oidIfXEntry + ".6", schemas.MetricInOctets, 64, ""},
	{oidIfXEntry + ".7", schemas.MetricInUnicastPkts, 64, ""},
	{oidIfXEntry + ".8", schemas.MetricInMulticastPkts, 64, ""},
	{oidIfXEntry + ".9", schemas.MetricInBroadcastPkts, 64, ""},
	{oidIfXEntry + ".10", schemas.MetricOutOctets, 64, ""},
	{oidIfXEntry + ".11", schemas.MetricOutUnicastPkts, 64, ""},
	{oidIfXEntry + ".12", schemas.MetricOutMulticastPkts, 64, ""},
	{oidIfXEntry + ".13", schemas.MetricOutBroadcastPkts, 64, ""},
	{oidIfEntry + ".10", schemas.MetricInOctets, 32, oidIfXEntry + ".6"},
	{oidIfEntry + ".11", schemas.MetricInUnicastPkts, 32, oidIfXEntry + ".7"},
	{oidIfEntry + ".16", schemas.MetricOutOctets, 32, oidIfXEntry + ".10"},
	{oidIfEntry + ".17", schemas.MetricOutUnicastPkts, 32, oidIfXEntry + ".11"},
	{oidIfEntry + ".13", schemas.MetricInDiscards, 32, ""},
	{oidIfEntry + ".14", schemas.MetricInErrors, 32, ""},
	{oidIfEntry + ".19", schemas.MetricOutDiscards, 32, ""},
	{oidIfEntry + ".20", schemas.MetricOutErrors, 32, ""},
}

const (
	colIfName   = oidIfXEntry + ".1"
	colIfDescr  = oidIfEntry + ".2"
	colIfAdmin  = oidIfEntry + ".7"
	colIfOper   = oidIfEntry + ".8"
	colIfDiscon = oidIfXEntry + ".19"
)

// ifOperStatus values as OpenConfig names them.
// bgpPeerState names, as OpenConfig's session-state.
var bgpStates = map[int]string{1: "IDLE", 2: "CONNECT", 3: "ACTIVE", 4: "OPENSENT", 5: "OPENCONFIRM", 6: "ESTABLISHED"}

var operStatus = map[int]string{1: "UP", 2: "DOWN", 3: "TESTING", 4: "UNKNOWN", 5: "DORMANT", 6: "NOT_PRESENT", 7: "LOWER_LAYER_DOWN"}

// ifAdminStatus values as OpenConfig names them.
var adminStatus = map[int]string{1: "UP", 2: "DOWN", 3: "TESTING"}

// entPhySensorType names (ENTITY-SENSOR-MIB).
var sensorTypes = map[int]string{1: "other", 2: "unknown", 3: "volts_ac", 4: "volts_dc", 5: "amperes", 6: "watts", 7: "hertz", 8: "celsius", 9: "percent_rh", 10: "rpm", 11: "cmm", 12: "truthvalue"}

// entPhysicalClass values used in the mapping.
const (
	classPowerSupply = 6
	classFan         = 7
)

// table holds walked columns: column OID -> row index -> value.
type table map[string]map[string]gosnmp.SnmpPDU

// walkColumns walks several columns of a table together with GetBulk, one
// request per max-repetitions rows for all of them, to the end of each: a
// nil error means every column was walked whole (appendInterfaces drops
// the state of the interfaces a walk no longer has). It returns the number
// of varbinds received.
func walkColumns(g *gosnmp.GoSNMP, cols []string, t table) (int, error) {
	cur := make([]string, len(cols))
	copy(cur, cols)
	active := make([]int, len(cols))
	for i := range active {
		active[i] = i
		t[cols[i]] = map[string]gosnmp.SnmpPDU{}
	}
	n := 0
	for len(active) > 0 {
		oids := make([]string, len(active))
		for i, c := range active {
			oids[i] = cur[c]
		}
		resp, err := g.GetBulk(oids, 0, g.MaxRepetitions)
		if err != nil {
			return n, err
		}
		if resp.Error != gosnmp.NoError {
			return n, fmt.Errorf("agent answered %v", resp.Error)
		}
		if len(resp.Variables) == 0 {
			return n, fmt.Errorf("agent answered a GetBulk of %d columns with no value", len(active))
		}
		n += len(resp.Variables)
		// Each round either moves a column on or ends one (the first value
		// is column active[0]'s), so the walk ends. An answer cut short
		// (to fit the agent's message size) leaves the columns it missed
		// for the next request.
		done := make([]bool, len(active))
		for i, v := range resp.Variables {
			j := i % len(active)
			if done[j] {
				continue
			}
			col := cols[active[j]]
			if v.Type == gosnmp.EndOfMibView || v.Type == gosnmp.NoSuchObject || v.Type == gosnmp.NoSuchInstance ||
				!strings.HasPrefix(v.Name, col+".") {
				done[j] = true
				continue
			}
			if compareOIDs(v.Name, cur[active[j]]) <= 0 {
				return n, fmt.Errorf("agent returned OIDs out of order at %s", v.Name)
			}
			t[col][v.Name[len(col)+1:]] = v
			cur[active[j]] = v.Name
		}
		next := active[:0]
		for j, c := range active {
			if !done[j] {
				next = append(next, c)
			}
		}
		active = next
	}
	return n, nil
}

// compareOIDs compares dotted OIDs numerically.
func compareOIDs(a, b string) int {
	as, bs := strings.Split(strings.TrimPrefix(a, "."), "."), strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.ParseUint(as[i], 10, 32)
		y, _ := strconv.ParseUint(bs[i], 10, 32)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(as) - len(bs)
}

// restartSlack is how much longer than its sysUpTime the time since an
// agent's last answer may be before the agent counts as restarted: room
// for the ticks' rounding, the two clocks' rates and an agent that caches
// its answers. Only an agent that had been up less than that at its last
// answer can have a restart missed; a false one costs a single poll's
// counters, a missed one a 32-bit counter's false wrap.
const restartSlack = time.Second

// state is what the collector remembers of a target between polls. It is
// only touched by the worker polling the target.
type state struct {
	// sec are the target's secrets, loaded at its first poll and read
	// again from their files at each later one; log takes the lines of
	// their reloads (nil: none).
	sec      *secrets
	log      *slog.Logger
	uptime   uint32              // last sysUpTime, centiseconds
	upAt     time.Time           // when it came
	polled   bool                // uptime is set
	discon   map[string]uint64   // ifIndex -> ifCounterDiscontinuityTime
	counters map[string]*counter // metric + "\x00" + ifIndex + "\x00" + interface keys -> its counter
	// lldpPorts are the local ports that have had an LLDP neighbour: each
	// poll publishes their count, 0 when it is gone (appendLLDP).
	lldpPorts map[string]bool
}

// pollResult counts one poll.
type pollResult struct {
	oids, samples int
	wraps         int
	discont       []string // reasons
	repaired      int      // names with invalid UTF-8, repaired
	noLLDP        bool     // polled for LLDP-MIB, which has no neighbour
}

// poll polls one target and appends its samples to b.
func poll(ctx context.Context, t Target, st *state, b *publish.Batch) (pollResult, error) {
	var res pollResult
	if st.sec == nil {
		sec, err := t.newSecrets(st.log)
		if err != nil {
			return res, err
		}
		st.sec = sec
	} else {
		st.sec.reload()
	}
	g, err := t.client(st.sec)
	if err != nil {
		return res, err
	}
	g.Context = ctx
	if err := g.Connect(); err != nil {
		return res, fmt.Errorf("cannot connect: %w", err)
	}
	defer g.Conn.Close()
	// A request waits for its answer until its timeout whatever ctx says:
	// closing the socket ends it when ctx ends (a target removed, Run
	// stopping).
	defer context.AfterFunc(ctx, func() { _ = g.Conn.Close() })()
	sent := time.Now()
	up, err := g.Get([]string{oidSysUpTime})
	if err != nil {
		return res, fmt.Errorf("cannot get sysUpTime: %w", err)
	}
	answered := time.Now()
	if len(up.Variables) != 1 || up.Variables[0].Type != gosnmp.TimeTicks {
		return res, errors.New("agent has no sysUpTime")
	}
	res.oids++
	uptime := uint32(gosnmp.ToBigInt(up.Variables[0].Value).Uint64())
	// The agent restarted since its last answer when its sysUpTime went
	// back, or when it has been up for less time than has surely passed
	// since that answer (from its arrival to this request): a restart
	// during an outage longer than the uptime before it, after which
	// sysUpTime is higher than it was.
	//
	// sysUpTime wraps to 0 after 497 days (2^32 centiseconds): a value
	// lower than the last that moved on (modulo 2^32) by the time between
	// the two answers is that wrap, not a restart; one that moved on by
	// less restarted (during an outage across the wrap).
	ahead := time.Duration(uptime-st.uptime) * 10 * time.Millisecond
	wrapped := st.polled && uptime < st.uptime &&
		ahead >= sent.Sub(st.upAt)-restartSlack && ahead <= answered.Sub(st.upAt)+restartSlack
	restart := st.polled && !wrapped && (uptime < st.uptime ||
		time.Duration(uptime)*10*time.Millisecond+restartSlack < sent.Sub(st.upAt))
	tab := table{}
	for _, m := range t.MIBs {
		var cols []string
		switch m {
		case MIBInterfaces:
			cols = []string{colIfName, colIfDescr, colIfAdmin, colIfOper, colIfDiscon}
			for _, c := range ifColumns {
				cols = append(cols, c.oid)
			}
		case MIBEntity:
			cols = []string{oidEntPhys + ".4", oidEntPhys + ".5", oidEntPhys + ".7",
				oidEntSensor + ".1", oidEntSensor + ".2", oidEntSensor + ".3", oidEntSensor + ".4", oidEntSensor + ".5"}
		case MIBBGP:
			cols = []string{colBgpState}
		case MIBLLDP:
			n, found, err := walkLLDP(g, tab)
			res.oids += n
			if err != nil {
				return res, fmt.Errorf("cannot walk %s: %w", m, err)
			}
			res.noLLDP = !found
			continue
		}
		n, err := walkColumns(g, cols, tab)
		res.oids += n
		if err != nil {
			return res, fmt.Errorf("cannot walk %s: %w", m, err)
		}
	}
	// Only a poll that got through moves the baseline: one that failed
	// after sysUpTime (an agent half up after a restart) would otherwise
	// hide the restart from the next, which took 32-bit counters that came
	// back from 0 for a wrap.
	st.uptime, st.upAt, st.polled = uptime, answered, true
	ts := time.Now().UnixNano()
	if st.counters == nil {
		st.counters = map[string]*counter{}
		st.discon = map[string]uint64{}
	}
	if restart {
		res.discont = append(res.discont, DiscontinuityRestart)
		b.Append(&schemas.Sample{TS: ts, Metric: schemas.MetricSNMPDiscontinuity, Kind: schemas.KindState, Str: DiscontinuityRestart})
		res.samples++
	}
	if len(tab[colIfName]) > 0 || len(tab[colIfDescr]) > 0 {
		res.samples += appendInterfaces(tab, ts, restart, st, b, &res)
	}
	res.samples += appendSensors(tab, ts, b, &res)
	res.samples += appendBGP(tab, ts, b)
	res.samples += appendLLDP(tab, ts, st, b, &res)
	return res, nil
}

// appendBGP appends each BGP4-MIB peer's state as its OpenConfig session
// state; a state outside the MIB's enum is kept as its number.
func appendBGP(tab table, ts int64, b *publish.Batch) int {
	s := schemas.Sample{TS: ts, Metric: schemas.MetricBGPSessionState, Kind: schemas.KindState}
	for addr, v := range tab[colBgpState] {
		code := int(gosnmp.ToBigInt(v.Value).Int64())
		str, known := bgpStates[code]
		if !known {
			str = strconv.Itoa(code)
		}
		s.Keys, s.Str = BGPKeys+",neighbor-address="+addr, str
		b.Append(&s)
	}
	return len(tab[colBgpState])
}

// ifaceName is an interface's name: base as the agent gives it (its
// ifName, else its ifDescr, else "ifIndex" and its index), and unique,
// the name its keys give it.
type ifaceName struct{ base, unique string }

// interfaceNames names the interfaces of tab (every ifIndex in ifName or
// ifDescr) for their keys, uniquely on the agent: an interface is keyed
// by its base name, as schemas.SNMPInterfaceKeys keys it, unless another
// interface of a lower ifIndex has that name too (an agent without ifName
// whose interfaces share an ifDescr, "Ethernet"); those are keyed by it
// followed by " (ifIndex N)". So an interface keeps its keys when a
// namesake comes or goes with a higher ifIndex (a dynamic interface), as
// they mostly do. A name that another interface's so suffixed name would
// take (an interface named "Ethernet (ifIndex 3)" beside two "Ethernet")
// is suffixed too, so the keys are unique whatever the names; they do not
// depend on the order of the rows.
func interfaceNames(tab table, res *pollResult) map[string]ifaceName {
	names := map[string]ifaceName{}
	for _, col := range []string{colIfName, colIfDescr} {
		for idx := range tab[col] {
			if _, done := names[idx]; done {
				continue
			}
			name, descr := res.text(tab[colIfName][idx]), res.text(tab[colIfDescr][idx])
			if name == "" {
				name = descr
			}
			if name == "" {
				name = "ifIndex" + idx
			}
			names[idx] = ifaceName{base: name, unique: name}
		}
	}
	first := make(map[string]string, len(names)) // base name -> its lowest ifIndex
	for idx, n := range names {
		if f, ok := first[n.base]; !ok || lowerIndex(idx, f) {
			first[n.base] = idx
		}
	}
	suffix := func(idx string, n ifaceName) {
		n.unique = n.base + " (ifIndex " + idx + ")"
		names[idx] = n
	}
	for idx, n := range names {
		if first[n.base] != idx {
			suffix(idx, n)
		}
	}
	// Suffixed names are unique among themselves (the index ends them);
	// suffix the names they would take until none does. Each round
	// suffixes one more name at least, so this ends.
	for {
		taken := map[string]bool{}
		for _, n := range names {
			if n.unique != n.base {
				taken[n.unique] = true
			}
		}
		changed := false
		for idx, n := range names {
			if n.unique == n.base && taken[n.base] {
				suffix(idx, n)
				changed = true
			}
		}
		if !changed {
			return names
		}
	}
}

// lowerIndex reports whether ifIndex a comes before b: by number, or as
// text where one is not a number.
func lowerIndex(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return a < b
	}
	return x < y
}

// appendInterfaces appends the interfaces of tab, a complete walk of
// IF-MIB's columns (walkColumns), keyed by their names (interfaceNames),
// and drops the counter state of those it no longer has (ifIndex gone, or
// keyed otherwise). The counter state is the interface's, by ifIndex: two
// interfaces of one name no longer share one.
func appendInterfaces(tab table, ts int64, restart bool, st *state, b *publish.Batch, res *pollResult) int {
	n := 0
	rows := interfaceNames(tab, res)
	var s schemas.Sample
	s.TS = ts
	present := make(map[string]bool, len(rows)) // ifIndex + "\x00" + keys
	for idx, name := range rows {
		s.Keys = schemas.SNMPInterfaceKeys(name.unique, "", idx)
		id := idx + "\x00" + s.Keys
		present[id] = true
		discon := restart
		if v, ok := tab[colIfDiscon][idx]; ok {
			d := gosnmp.ToBigInt(v.Value).Uint64()
			if old, seen := st.discon[idx]; seen && old != d && !restart {
				discon = true
				res.discont = append(res.discont, DiscontinuityIface)
				s.Metric, s.Kind, s.Str = schemas.MetricSNMPDiscontinuity, schemas.KindState, DiscontinuityIface
				b.Append(&s)
				n++
			}
			st.discon[idx] = d
		}
		// admin-status first: a port shut is admin_down, not a link down
		// (the detect stage reads both).
		for _, c := range [...]struct {
			col, metric string
			names       map[int]string
		}{{colIfAdmin, schemas.MetricAdminStatus, adminStatus}, {colIfOper, schemas.MetricOperStatus, operStatus}} {
			v, ok := tab[c.col][idx]
			if !ok {
				continue
			}
			code := int(gosnmp.ToBigInt(v.Value).Int64())
			str, known := c.names[code]
			if !known {
				str = strconv.Itoa(code)
			}
			s.Metric, s.Kind, s.Str = c.metric, schemas.KindState, str
			b.Append(&s)
			n++
		}
		for _, c := range ifColumns {
			v, ok := tab[c.oid][idx]
			if !ok || (c.hc != "" && hasValue(tab[c.hc][idx])) {
				continue
			}
			if v.Type != gosnmp.Counter32 && v.Type != gosnmp.Counter64 {
				continue
			}
			raw := gosnmp.ToBigInt(v.Value).Uint64()
			key := c.metric + "\x00" + id
			ctr := st.counters[key]
			if ctr == nil {
				ctr = &counter{}
				st.counters[key] = ctr
			}
			out, o := ctr.update(raw, c.bits, discon)
			switch o {
			case rebaselined:
				if !discon {
					res.discont = append(res.discont, DiscontinuityDecrease)
					s.Metric, s.Kind, s.Str = schemas.MetricSNMPDiscontinuity, schemas.KindState, DiscontinuityDecrease
					b.Append(&s)
					n++
				}
				continue
			case switched:
				continue
			case wrapped:
				res.wraps++
			}
			s.Metric, s.Kind, s.U64 = c.metric, schemas.KindCounter, out
			b.Append(&s)
			n++
		}
	}
	// An interface that left the table may come back with its counters
	// reset (a line card reinserted: no agent restart, no
	// ifCounterDiscontinuityTime), which the old state took for a 32-bit
	// wrap, ~4.3e9 at once; and dynamic interfaces (tunnels, subscriber
	// sessions) take a new ifIndex each time, so the state grew for ever.
	// Back, an interface starts a new baseline as at its first poll.
	for idx := range st.discon {
		if _, ok := rows[idx]; !ok {
			delete(st.discon, idx)
		}
	}
	for key := range st.counters {
		if !present[key[strings.IndexByte(key, 0)+1:]] {
			delete(st.counters, key)
		}
	}
	return n
}

func hasValue(v gosnmp.SnmpPDU) bool {
	return v.Type == gosnmp.Counter64 || v.Type == gosnmp.Counter32
}

// sensorValue applies ENTITY-SENSOR-MIB's scale (a power of 1000, units =
// 9) and precision (decimal places) to a raw reading.
func sensorValue(raw int64, scale, precision int) float64 {
	v := float64(raw) * math.Pow10(3*(scale-9)) / math.Pow10(precision)
	// Round to the digits the reading has, so 4530/10^2 is 45.3.
	digits := precision - 3*(scale-9)
	if digits >= 0 && digits <= 15 {
		p := math.Pow10(digits)
		v = math.Round(v*p) / p
	}
	return v
}

// sensorMetric maps a sensor to a metric and keys: OpenConfig's leaf where
// there is one. A power supply's sensors are told apart by their names
// (sensorSays): its volts and amperes are its input unless the name says
// output, its watts its output power unless the name says input; an input
// power goes out as the generic sensor, since the vocabulary's input-power
// is the gNMI collector's derived one. Without that, a supply's "Output
// Voltage" (12 V) went out as its input-voltage beside the input's 230 V,
// two samples of one series at one time, and the power model read either.
func sensorMetric(stype int, name string, class int, parentName string, parentClass int) (string, string) {
	owner, ownerClass := name, class
	if parentName != "" && (parentClass == classPowerSupply || parentClass == classFan) {
		owner, ownerClass = parentName, parentClass
	}
	keys := "name=" + schemas.EscapeKeyValue(owner)
	switch stype {
	case 8:
		return schemas.MetricTemperature, "name=" + schemas.EscapeKeyValue(name)
	case 10:
		return schemas.MetricFanSpeed, keys
	}
	if ownerClass == classPowerSupply {
		out := sensorSays(name, outputWords)
		switch {
		case stype == 6 && !sensorSays(name, inputWords):
			return schemas.MetricPSUOutPower, keys
		case (stype == 3 || stype == 4) && out:
			return schemas.MetricPSUOutVoltage, keys
		case stype == 3 || stype == 4:
			return schemas.MetricPSUInVoltage, keys
		case stype == 5 && out:
			return schemas.MetricPSUOutCurrent, keys
		case stype == 5:
			return schemas.MetricPSUInCurrent, keys
		}
	}
	t, ok := sensorTypes[stype]
	if !ok {
		t = strconv.Itoa(stype)
	}
	return schemas.MetricSNMPSensorPrefix + t, "name=" + schemas.EscapeKeyValue(name)
}

// Words of a power supply sensor's name that tell its side: whole words,
// in any case ("PM0 Output Voltage", "PSU1 VOUT", "psu2-pin"). A bare "in"
// is not one: "PSU in slot 2 output power" is an output.
var (
	inputWords  = []string{"input", "vin", "iin", "pin"}
	outputWords = []string{"output", "out", "vout", "iout", "pout"}
)

// sensorSays reports whether name holds one of words as a whole word.
func sensorSays(name string, words []string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if slices.Contains(words, w) {
			return true
		}
	}
	return false
}

func appendSensors(tab table, ts int64, b *publish.Batch, res *pollResult) int {
	n := 0
	types := tab[oidEntSensor+".1"]
	for idx, tv := range types {
		if st, ok := tab[oidEntSensor+".5"][idx]; ok && gosnmp.ToBigInt(st.Value).Int64() != 1 {
			continue // not ok(1): unavailable or nonoperational
		}
		val, ok := tab[oidEntSensor+".4"][idx]
		if !ok {
			continue
		}
		scale := int(gosnmp.ToBigInt(tab[oidEntSensor+".2"][idx].Value).Int64())
		if scale == 0 {
			scale = 9
		}
		prec := int(gosnmp.ToBigInt(tab[oidEntSensor+".3"][idx].Value).Int64())
		name := res.text(tab[oidEntPhys+".7"][idx])
		if name == "" {
			name = "entPhysicalIndex" + idx
		}
		class := int(gosnmp.ToBigInt(tab[oidEntPhys+".5"][idx].Value).Int64())
		var parentName string
		var parentClass int
		if p := gosnmp.ToBigInt(tab[oidEntPhys+".4"][idx].Value).Int64(); p > 0 {
			pi := strconv.FormatInt(p, 10)
			parentName = res.text(tab[oidEntPhys+".7"][pi])
			parentClass = int(gosnmp.ToBigInt(tab[oidEntPhys+".5"][pi].Value).Int64())
		}
		metric, keys := sensorMetric(int(gosnmp.ToBigInt(tv.Value).Int64()), name, class, parentName, parentClass)
		b.Append(&schemas.Sample{TS: ts, Metric: metric, Keys: keys, Kind: schemas.KindGauge,
			F64: sensorValue(gosnmp.ToBigInt(val.Value).Int64(), scale, prec)})
		n++
	}
	return n
}

// text returns the string of v for a key: invalid UTF-8 (an agent's
// binary or Latin-1 name) is replaced by U+FFFD and counted, so one such
// name cannot make the record unwritable downstream.
func (r *pollResult) text(v gosnmp.SnmpPDU) string {
	s := pduString(v)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		r.repaired++
	}
	return s
}

func pduString(v gosnmp.SnmpPDU) string {
	if b, ok := v.Value.([]byte); ok {
		return strings.TrimRight(string(b), "\x00")
	}
	if s, ok := v.Value.(string); ok {
		return s
	}
	return ""
}
