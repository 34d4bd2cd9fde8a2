package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// SNMP serves the fleet over SNMP v2c on one UDP socket, as snmpsim does:
// the community names the device ("sim-00", "sim-01", ...). Each device
// has IF-MIB (ifTable with 32-bit counters that wrap, ifXTable with HC
// counters and ifName), ENTITY-MIB (entPhysicalTable: the temperature
// sensors, fans, power supplies and the PSUs' sensors) and
// ENTITY-SENSOR-MIB (entPhySensorTable, with scale and precision) and
// sysUpTime, all from the values of the agent's last Step; with a
// topology, BGP4-MIB's bgpPeerTable and LLDP-MIB's lldpLocPortTable and
// lldpRemTable too. GetRequest,
// GetNextRequest and GetBulkRequest are answered.
type SNMP struct {
	a    *Agent
	conn net.PacketConn
	wg   sync.WaitGroup

	mu   sync.Mutex
	mibs map[int]*mib // device index -> MIB of a step

	requests atomic.Int64
	varbinds atomic.Int64
}

// ServeSNMP starts the SNMP responder on addr (e.g. "127.0.0.1:0") with
// workers goroutines reading the socket (default 1).
func (a *Agent) ServeSNMP(addr string, workers int) (*SNMP, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim snmp: %w", err)
	}
	s := &SNMP{a: a, conn: conn, mibs: map[int]*mib{}}
	for range max(workers, 1) {
		s.wg.Add(1)
		go s.serve()
	}
	return s, nil
}

// Addr returns the UDP address.
func (s *SNMP) Addr() string { return s.conn.LocalAddr().String() }

// Served returns the requests and varbinds answered so far.
func (s *SNMP) Served() (requests, varbinds int64) { return s.requests.Load(), s.varbinds.Load() }

// Close stops the responder.
func (s *SNMP) Close() error {
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

func (s *SNMP) serve() {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Transport: "udp", Context: context.Background()}
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil || req.Version != gosnmp.Version2c {
			continue
		}
		resp := s.answer(req)
		if resp == nil {
			continue
		}
		out, err := resp.MarshalMsg()
		if err != nil {
			continue
		}
		_, _ = s.conn.WriteTo(out, from)
	}
}

func (s *SNMP) answer(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
	d, ok := s.a.byName[req.Community]
	if !ok {
		return nil // a wrong community gets no answer, as with real agents
	}
	m := s.mib(d)
	resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for _, v := range req.Variables {
			resp.Variables = append(resp.Variables, m.get(v.Name))
		}
	case gosnmp.GetNextRequest:
		for _, v := range req.Variables {
			resp.Variables = append(resp.Variables, m.next(v.Name))
		}
	case gosnmp.GetBulkRequest:
		nr := min(int(req.NonRepeaters), len(req.Variables))
		for _, v := range req.Variables[:nr] {
			resp.Variables = append(resp.Variables, m.next(v.Name))
		}
		reps := req.Variables[nr:]
		cur := make([]string, len(reps))
		for i, v := range reps {
			cur[i] = v.Name
		}
		maxRep := min(int(req.MaxRepetitions), 256)
		for r := 0; r < maxRep && len(reps) > 0; r++ {
			for i := range cur {
				v := m.next(cur[i])
				resp.Variables = append(resp.Variables, v)
				cur[i] = v.Name
			}
		}
	default:
		return nil
	}
	s.requests.Add(1)
	s.varbinds.Add(int64(len(resp.Variables)))
	return resp
}

// mib is one device's objects at one step, sorted by OID.
type mib struct {
	seq  int64
	oids [][]uint32
	vars []gosnmp.SnmpPDU
}

// OIDs of the MIB objects served.
const (
	oidSysUpTime     = "1.3.6.1.2.1.1.3.0"
	oidIfEntry       = "1.3.6.1.2.1.2.2.1"
	oidIfXEntry      = "1.3.6.1.2.1.31.1.1.1"
	oidEntPhysEntry  = "1.3.6.1.2.1.47.1.1.1.1"
	oidEntSensorEntr = "1.3.6.1.2.1.99.1.1.1"
	oidBgpPeerEntry  = "1.3.6.1.2.1.15.3.1"
)

// bgpStates are BGP4-MIB's bgpPeerState codes of OpenConfig's session
// states.
var bgpStates = map[string]int{sim.BGPIdle: 1, "CONNECT": 2, sim.BGPActive: 3, "OPENSENT": 4, "OPENCONFIRM": 5, sim.BGPEstablished: 6}

func (s *SNMP) mib(d *device) *mib {
	t := d.current()
	idx := slices.Index(s.a.devices, d)
	s.mu.Lock()
	defer s.mu.Unlock()
	var seq int64 = -1
	if t != nil {
		seq = t.seq
	}
	if m, ok := s.mibs[idx]; ok && m.seq == seq {
		return m
	}
	m := buildMIB(s.a, idx, t)
	m.seq = seq
	s.mibs[idx] = m
	return m
}

// simBootUptime is every device's sysUpTime (centiseconds) at the fleet's
// start: a day.
const simBootUptime = 24 * 60 * 60 * 100

// buildMIB builds device dev's MIB from its values at tick t (nil: before
// the first step, every value zero).
func buildMIB(a *Agent, dev int, t *tick) *mib {
	cfg := a.fleet.Config()
	b := &mibBuilder{series: a.fleet.DeviceLeaves(dev)}
	// The devices have been up a day when the fleet starts: sysUpTime
	// stands still between steps, and an agent up for less time than has
	// passed since its last answer counts as restarted (collectors/snmp).
	uptime := uint32(simBootUptime)
	if t != nil {
		b.vals = t.vals
		uptime = uint32((t.ts-cfg.Start.UnixNano())/1e7) + simBootUptime
	}
	if b.vals == nil {
		b.vals = make([]value, len(b.series))
	}
	b.add(oidSysUpTime, gosnmp.TimeTicks, uptime)
	for i := 1; i <= cfg.Interfaces; i++ {
		b.addInterface(i)
	}
	b.addEntities()
	b.addBGPPeers()
	b.addLLDP()
	return b.mib()
}

// mibBuilder collects the objects of one device's MIB from its series and
// their values at one tick.
type mibBuilder struct {
	objs   []mibObject
	series []sim.Series
	vals   []value // of series, index by index
}

type mibObject struct {
	oid string
	typ gosnmp.Asn1BER
	val any
}

func (b *mibBuilder) add(oid string, typ gosnmp.Asn1BER, v any) {
	b.objs = append(b.objs, mibObject{oid, typ, v})
}

// find returns the value of a series, nil if the device has none.
func (b *mibBuilder) find(metric, keys string) *value {
	for i, s := range b.series {
		if s.Metric == metric && s.Keys == keys {
			return &b.vals[i]
		}
	}
	return nil
}

// addInterface adds interface i's rows of ifTable and ifXTable (IF-MIB).
func (b *mibBuilder) addInterface(i int) {
	name := fmt.Sprintf("Ethernet%d", i)
	k := "name=" + name
	col := func(entry string, c int) string { return fmt.Sprintf("%s.%d.%d", entry, c, i) }
	u := func(m string) uint64 { return b.find(m, k).u }
	status := func(metric string) int {
		if v := b.find(metric, k); v != nil && v.s == "DOWN" {
			return 2
		}
		return 1
	}
	b.add(col(oidIfEntry, 1), gosnmp.Integer, i)
	b.add(col(oidIfEntry, 2), gosnmp.OctetString, []byte(name))
	b.add(col(oidIfEntry, 7), gosnmp.Integer, status(schemas.MetricAdminStatus))
	b.add(col(oidIfEntry, 8), gosnmp.Integer, status(schemas.MetricOperStatus))
	b.add(col(oidIfEntry, 10), gosnmp.Counter32, uint(uint32(u(schemas.MetricInOctets))))
	b.add(col(oidIfEntry, 11), gosnmp.Counter32, uint(uint32(u(schemas.MetricInUnicastPkts))))
	b.add(col(oidIfEntry, 13), gosnmp.Counter32, uint(0))
	b.add(col(oidIfEntry, 14), gosnmp.Counter32, uint(uint32(u(schemas.MetricInErrors))))
	b.add(col(oidIfEntry, 16), gosnmp.Counter32, uint(uint32(u(schemas.MetricOutOctets))))
	b.add(col(oidIfEntry, 17), gosnmp.Counter32, uint(uint32(u(schemas.MetricOutUnicastPkts))))
	b.add(col(oidIfEntry, 19), gosnmp.Counter32, uint(0))
	b.add(col(oidIfEntry, 20), gosnmp.Counter32, uint(0))
	b.add(col(oidIfXEntry, 1), gosnmp.OctetString, []byte(name))
	b.add(col(oidIfXEntry, 6), gosnmp.Counter64, u(schemas.MetricInOctets))
	b.add(col(oidIfXEntry, 7), gosnmp.Counter64, u(schemas.MetricInUnicastPkts))
	b.add(col(oidIfXEntry, 10), gosnmp.Counter64, u(schemas.MetricOutOctets))
	b.add(col(oidIfXEntry, 11), gosnmp.Counter64, u(schemas.MetricOutUnicastPkts))
	b.add(col(oidIfXEntry, 19), gosnmp.TimeTicks, uint32(0))
}

// entity is a row of entPhysicalTable, with its entPhySensorTable row when
// it is a sensor.
type entity struct {
	name      string
	class     int // entPhysicalClass: 6 powerSupply, 7 fan, 8 sensor, 12 cpu
	parent    int
	stype     int // entPhySensorType, 0 for none: 3 voltsAC, 5 amperes, 6 watts, 8 celsius, 10 rpm
	scale     int // entPhySensorScale: 8 milli, 9 units
	precision int
	metric    string
	keys      string
}

// entities returns the device's physical entities: two temperature
// sensors, two fans, two power supplies and three sensors of each.
func entities() []entity {
	ents := []entity{
		{name: "CPU", class: 12, stype: 8, scale: 9, precision: 1, metric: schemas.MetricTemperature, keys: "name=CPU"},
		{name: "Inlet", class: 8, stype: 8, scale: 9, precision: 1, metric: schemas.MetricTemperature, keys: "name=Inlet"},
		{name: "Fan1", class: 7, stype: 10, scale: 9, metric: schemas.MetricFanSpeed, keys: "name=Fan1"},
		{name: "Fan2", class: 7, stype: 10, scale: 9, metric: schemas.MetricFanSpeed, keys: "name=Fan2"},
		{name: "PSU1", class: 6},
		{name: "PSU2", class: 6},
	}
	for p, psu := range []string{"PSU1", "PSU2"} {
		parent := 5 + p
		k := "name=" + psu
		ents = append(ents,
			entity{name: psu + " output power", class: 8, parent: parent, stype: 6, scale: 9, precision: 2, metric: schemas.MetricPSUOutPower, keys: k},
			entity{name: psu + " input voltage", class: 8, parent: parent, stype: 3, scale: 9, precision: 2, metric: schemas.MetricPSUInVoltage, keys: k},
			entity{name: psu + " input current", class: 8, parent: parent, stype: 5, scale: 8, precision: 0, metric: schemas.MetricPSUInCurrent, keys: k})
	}
	return ents
}

// addEntities adds ENTITY-MIB and ENTITY-SENSOR-MIB.
func (b *mibBuilder) addEntities() {
	for i, e := range entities() {
		idx := i + 1
		col := func(entry string, c int) string { return fmt.Sprintf("%s.%d.%d", entry, c, idx) }
		b.add(col(oidEntPhysEntry, 2), gosnmp.OctetString, []byte(e.name))
		b.add(col(oidEntPhysEntry, 4), gosnmp.Integer, e.parent)
		b.add(col(oidEntPhysEntry, 5), gosnmp.Integer, e.class)
		b.add(col(oidEntPhysEntry, 7), gosnmp.OctetString, []byte(e.name))
		if e.stype == 0 {
			continue
		}
		v := 0.0
		if p := b.find(e.metric, e.keys); p != nil {
			v = p.f
		}
		raw := math.Round(v * math.Pow10(e.precision) / math.Pow10(3*(e.scale-9)))
		b.add(col(oidEntSensorEntr, 1), gosnmp.Integer, e.stype)
		b.add(col(oidEntSensorEntr, 2), gosnmp.Integer, e.scale)
		b.add(col(oidEntSensorEntr, 3), gosnmp.Integer, e.precision)
		b.add(col(oidEntSensorEntr, 4), gosnmp.Integer, int(raw))
		b.add(col(oidEntSensorEntr, 5), gosnmp.Integer, 1) // ok
	}
}

// addBGPPeers adds BGP4-MIB: a bgpPeerEntry per session, indexed by the
// peer's address.
func (b *mibBuilder) addBGPPeers() {
	for i, s := range b.series {
		if s.Metric != schemas.MetricBGPSessionState {
			continue
		}
		_, addr, _ := strings.Cut(s.Keys, "neighbor-address=")
		b.add(oidBgpPeerEntry+".2."+addr, gosnmp.Integer, bgpStates[b.vals[i].s])
		b.add(oidBgpPeerEntry+".7."+addr, gosnmp.IPAddress, addr)
	}
}

// mib sorts the objects into a MIB.
func (b *mibBuilder) mib() *mib {
	m := &mib{}
	slices.SortFunc(b.objs, func(x, y mibObject) int { return compareOID(parseOID(x.oid), parseOID(y.oid)) })
	for _, o := range b.objs {
		m.oids = append(m.oids, parseOID(o.oid))
		m.vars = append(m.vars, gosnmp.SnmpPDU{Name: "." + o.oid, Type: o.typ, Value: o.val})
	}
	return m
}

func parseOID(s string) []uint32 {
	s = strings.TrimPrefix(s, ".")
	parts := strings.Split(s, ".")
	out := make([]uint32, 0, len(parts))
	for _, p := range parts {
		n, _ := strconv.ParseUint(p, 10, 32)
		out = append(out, uint32(n))
	}
	return out
}

func compareOID(a, b []uint32) int { return slices.Compare(a, b) }

func (m *mib) get(name string) gosnmp.SnmpPDU {
	o := parseOID(name)
	i, found := slices.BinarySearchFunc(m.oids, o, compareOID)
	if !found {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.NoSuchObject}
	}
	return m.vars[i]
}

func (m *mib) next(name string) gosnmp.SnmpPDU {
	o := parseOID(name)
	i, found := slices.BinarySearchFunc(m.oids, o, compareOID)
	if found {
		i++
	}
	if i >= len(m.oids) {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.EndOfMibView}
	}
	return m.vars[i]
}
