package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The export's shape.
const (
	step      = 10                  // seconds between rows
	days      = 4                   // Thursday to Sunday
	rows      = days * 86400 / step // rows per router
	tick      = 2                   // seconds between a router's updates of its averages
	bandwidth = 100_000_000         // kb/s of every link (HundredGigE)
	cpuName   = "0/RP0/CPU0"        // the route processor of CPU, memory and temperature
	labelHead = "device,interface,start,end,kind"
)

// t0 is the first row's time: Thursday 2026-11-05 00:00 UTC, so that days
// 3 and 4 are Saturday and Sunday.
var t0 = time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC).Unix()

// ifaces are every router's four links.
var ifaces = [4]string{"HundredGigE0/0/0/0", "HundredGigE0/0/0/1", "HundredGigE0/0/0/2", "HundredGigE0/0/0/3"}

// link is what one interface carries: on a busy link level is the input's
// mean bits/s at the daily peak of a weekday (output 85 % of it); on a
// sparse one, control frames per second each way.
type link struct {
	busy  bool
	level float64
}

// router is one device of the export.
type router struct {
	name  string
	load  int     // load interval, seconds
	state bool    // whether the links have a state column
	links [4]link // by ifaces
	temp  float64 // mean inlet temperature, °C
	mem   float64 // memory used at the start, bytes
}

var routers = []router{
	{name: "rtr1", load: 300, state: true, links: [4]link{{true, 30e9}, {true, 9e9}, {false, 1.0}, {false, 0.3}}, temp: 38, mem: 3.4e9},
	{name: "rtr2", load: 30, links: [4]link{{true, 20e9}, {true, 6e9}, {false, 1.0}, {false, 0.3}}, temp: 41, mem: 2.9e9},
	{name: "rtr3", load: 60, links: [4]link{{true, 45e9}, {true, 8e9}, {false, 1.2}, {false, 0.5}}, temp: 35, mem: 3.1e9},
}

// Event is a labelled event, as labels.csv has it (times in epoch
// seconds; an empty interface for a device's own metrics).
type Event struct {
	Device, Interface string
	Start, End        int64
	Kind              string
}

// Event kinds.
const (
	kindLinkDown    = "link_down"
	kindMaintenance = "maintenance"
	kindBurst       = "traffic_burst"
	kindCPUStuck    = "cpu_stuck"
	kindTempRise    = "temp_rise"
)

// at is the time of day (1-based) at hh:mm.
func at(day, hh, mm int) int64 { return t0 + int64((day-1)*86400+hh*3600+mm*60) }

// Events are the labelled events.
var Events = []Event{
	{"rtr1", ifaces[0], at(2, 14, 0), at(2, 14, 15), kindLinkDown},  // with a state column, 300 s load interval
	{"rtr2", ifaces[1], at(1, 16, 20), at(1, 16, 30), kindLinkDown}, // no state column, 30 s load interval
	{"rtr3", ifaces[0], at(3, 11, 0), at(3, 11, 15), kindLinkDown},  // no state column, 60 s load interval
	{"rtr1", ifaces[1], at(3, 2, 0), at(3, 2, 30), kindMaintenance}, // traffic drained to 0 for 30 min, link up
	{"rtr3", ifaces[1], at(2, 21, 0), at(2, 21, 10), kindBurst},     // 10×
	{"rtr2", "", at(3, 2, 30), at(3, 2, 50), kindCPUStuck},          // 100 % for 20 min
	{"rtr3", "", at(4, 13, 0), at(4, 14, 50), kindTempRise},         // +15 °C over an hour, held 30 min, back over 20
}

// Unlabelled real changes: a route-count step and a process restart.
var (
	routeStep = struct {
		device string
		at     int64
		routes int64
	}{"rtr2", at(3, 9, 30), 1200}
	restart = struct {
		device string
		at     int64
		freed  float64
	}{"rtr1", at(2, 10, 17), 160e6}
)

// active reports whether an event of kind on device's iface is under way at t.
func active(device, iface, kind string, t int64) bool {
	for _, e := range Events {
		if e.Device == device && e.Interface == iface && e.Kind == kind && e.Start <= t && t < e.End {
			return true
		}
	}
	return false
}

// diurnal is the traffic's shape at t: trough near 05:00, peak near 20:00
// UTC, Saturday and Sunday at 60 %.
func diurnal(t int64) float64 {
	day := (t - t0) / 86400
	h := float64((t-t0)%86400) / 3600
	shape := 0.55 + 0.45*math.Cos(2*math.Pi*(h-20)/24) + 0.08*math.Cos(2*math.Pi*(h-12)/12)
	week := 1.0
	if day >= 2 {
		week = 0.6
	}
	return max(shape, 0.08) * week
}

// smooth is a router's load-interval average, updated every tick seconds.
type smooth struct{ a, v float64 }

func newSmooth(load int, v float64) smooth {
	return smooth{a: math.Exp(-float64(tick) / float64(load)), v: v}
}

func (s *smooth) add(x float64) { s.v = s.a*s.v + (1-s.a)*x }

// gen writes one router's rows in order.
type gen struct {
	r        router
	rnd      *rand.Rand
	counters bool

	bits, pkts [4][2]smooth  // by link, input and output
	walk       [4][2]float64 // a busy link's slow log-level wander
	ctr        [4][2]float64 // bytes received and sent since the counter's start
	cpu1, cpu5 smooth
	cpuBase    float64
	mem        float64
	tempRoom   float64
	routes     int64
	buf        []byte
}

// direction factors: output carries 85 % of the input.
var dirs = [2]float64{1.0, 0.85}

// newGen returns the generator of routers[i] with seed.
func newGen(i int, seed uint64, counters bool) *gen {
	r := routers[i]
	g := &gen{r: r, rnd: rand.New(rand.NewPCG(seed, uint64(i))), counters: counters}
	for j, l := range r.links {
		g.ctr[j] = [2]float64{1e12 * float64(1+j), 1e12 * float64(5+j)}
		for d, f := range dirs {
			// Warm the averages at the first row's level.
			b, p := l.level*8*120, l.level
			if l.busy {
				b = l.level * f * diurnal(t0)
				p = b / (8 * 850)
			}
			g.bits[j][d] = newSmooth(r.load, b)
			g.pkts[j][d] = newSmooth(r.load, p)
		}
	}
	g.cpu1, g.cpu5 = newSmooth(60, 4), newSmooth(300, 4)
	g.cpuBase = 4
	g.mem = r.mem
	g.routes = 812_345 + int64(g.rnd.IntN(1000))
	return g
}

// header returns the column names.
func (g *gen) header() []string {
	cols := []string{"time"}
	for _, i := range ifaces {
		for _, c := range []string{"input-data-rate", "output-data-rate", "input-packet-rate", "output-packet-rate",
			"input-load", "output-load", "bandwidth", "load-interval"} {
			cols = append(cols, i+c)
		}
		if g.r.state {
			cols = append(cols, i+"state")
		}
		if g.counters {
			cols = append(cols, i+"bytes-received", i+"bytes-sent")
		}
	}
	for _, c := range []string{"total-cpu-one-minute", "total-cpu-five-minute", "used-memory", "inlet-temperature"} {
		cols = append(cols, cpuName+c)
	}
	return append(cols, "active-routes-count", "global__neighbors-count-total", "global__established-neighbors-count-total")
}

// row returns row n (rows must be asked for in order from 0), without its
// line break. The bytes are the generator's until the next call.
func (g *gen) row(n int) []byte {
	t := t0 + int64(n)*step
	b := strconv.AppendInt(g.buf[:0], t, 10)
	num := func(v int64) { b = append(b, ','); b = strconv.AppendInt(b, v, 10) }
	whole := func(v float64) { num(int64(math.RoundToEven(v))) }
	rnd := g.rnd
	for j, l := range g.r.links {
		iface := ifaces[j]
		down := active(g.r.name, iface, kindLinkDown, t) || active(g.r.name, iface, kindMaintenance, t)
		burst := 1.0
		if active(g.r.name, iface, kindBurst, t) {
			burst = 10
		}
		for d, f := range dirs {
			for range step / tick {
				var bits, pkts float64
				if l.busy {
					g.walk[j][d] = 0.999*g.walk[j][d] + 0.004*rnd.NormFloat64()
					bits = l.level * f * diurnal(t) * math.Exp(g.walk[j][d]+0.06*rnd.NormFloat64()) * burst
					pkts = bits / (8 * (800 + 100*rnd.Float64()))
				} else {
					c := poisson(rnd, l.level*tick)
					pkts = float64(c) / tick
					var bytes int
					for range c {
						bytes += [4]int{64, 120, 128, 300}[rnd.IntN(4)]
					}
					bits = float64(bytes) * 8 / tick
				}
				if down {
					bits, pkts = 0, 0
				}
				g.ctr[j][d] += bits / 8 * tick
				g.bits[j][d].add(bits)
				g.pkts[j][d].add(pkts)
			}
		}
		ib, ob := g.bits[j][0].v, g.bits[j][1].v
		whole(ib / 1000)
		whole(ob / 1000)
		whole(g.pkts[j][0].v)
		whole(g.pkts[j][1].v)
		whole(255 * ib / 1000 / bandwidth)
		whole(255 * ob / 1000 / bandwidth)
		num(bandwidth)
		num(int64(g.r.load))
		if g.r.state {
			if active(g.r.name, iface, kindLinkDown, t) {
				b = append(b, ",im-state-down"...)
			} else {
				b = append(b, ",im-state-up"...)
			}
		}
		if g.counters {
			num(int64(g.ctr[j][0]))
			num(int64(g.ctr[j][1]))
		}
	}
	// CPU: the base wanders within 3-6 %; the hourly job at :00 adds ~14 %
	// for 3 minutes.
	g.cpuBase = min(6, max(3, g.cpuBase+0.05*rnd.NormFloat64()))
	stuck := active(g.r.name, "", kindCPUStuck, t)
	for range step / tick {
		x := g.cpuBase + 0.6*rnd.NormFloat64()
		if (t-t0)%3600 < 180 {
			x += 14 + 2*rnd.NormFloat64()
		}
		if stuck {
			x = 100
		}
		x = min(100, max(0, x))
		g.cpu1.add(x)
		g.cpu5.add(x)
	}
	whole(g.cpu1.v)
	whole(g.cpu5.v)
	// Memory: ~1.5 MB/h growth, page noise, the restart's step; whole pages.
	g.mem += 1.5e6/360 + 2e5*rnd.NormFloat64()
	if g.r.name == restart.device && t == restart.at {
		g.mem -= restart.freed
	}
	num(int64(math.Floor(g.mem/4096) * 4096))
	// Temperature: the room's ±1.5 °C daily swing and wander, noise, the rise.
	h := float64((t-t0)%86400) / 3600
	g.tempRoom = 0.995*g.tempRoom + 0.03*rnd.NormFloat64()
	temp := g.r.temp + 1.5*math.Cos(2*math.Pi*(h-15)/24) + g.tempRoom + 0.25*rnd.NormFloat64()
	for _, e := range Events {
		if e.Device == g.r.name && e.Kind == kindTempRise && e.Start <= t && t < e.End {
			rise := min(1, float64(t-e.Start)/3600)
			if t > e.Start+5400 {
				rise = max(0, 1-float64(t-e.Start-5400)/1200)
			}
			temp += 15 * rise
		}
	}
	whole(temp)
	routes := g.routes
	if g.r.name == routeStep.device && t >= routeStep.at {
		routes += routeStep.routes
	}
	num(routes)
	num(4) // neighbours
	num(4) // established
	g.buf = b
	return b
}

// poisson draws a Poisson count of mean lambda (Knuth's method; lambda is
// small here).
func poisson(rnd *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rnd.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// writeRouter writes routers[i]'s CSV (header and every row) to w.
func writeRouter(w io.Writer, i int, seed uint64, counters bool) error {
	g := newGen(i, seed, counters)
	bw := bufio.NewWriterSize(w, 1<<16)
	for k, c := range g.header() {
		if k > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(c)
	}
	bw.WriteByte('\n')
	for n := range rows {
		bw.Write(g.row(n))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// writeLabels writes Events as labels.csv (device,interface,start,end,kind;
// epoch seconds).
func writeLabels(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(labelHead + "\n")
	for _, e := range Events {
		fmt.Fprintf(bw, "%s,%s,%d,%d,%s\n", e.Device, e.Interface, e.Start, e.End, e.Kind)
	}
	return bw.Flush()
}

// Write writes dir/data/rtrN.csv for every router and dir/labels.csv.
func Write(dir string, seed uint64, counters bool) error {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("cannot write the export: %w", err)
	}
	for i, r := range routers {
		if err := writeFile(filepath.Join(data, r.name+".csv"), func(w io.Writer) error {
			return writeRouter(w, i, seed, counters)
		}); err != nil {
			return err
		}
	}
	return writeFile(filepath.Join(dir, "labels.csv"), writeLabels)
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write the export: %w", err)
	}
	if err := errors.Join(write(f), f.Close()); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
