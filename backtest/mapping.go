package backtest

import (
	"fmt"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/yamlfile"
	"github.com/telekernel/telekernel/schemas"
)

// DefaultNativePrefix is the default of Mapping.NativePrefix.
const DefaultNativePrefix = "/native"

// Leaf maps one leaf of a wide CSV export to a metric.
type Leaf struct {
	// Metric is the OpenConfig-style path; empty: NativePrefix/LEAF.
	Metric string `yaml:"metric"`
	// Kind is counter (cumulative), gauge or state (text such as UP,
	// DOWN, im-state-up: a schemas.KindState sample).
	Kind string `yaml:"kind"`
}

// Suffix gives the kind of the leaves not listed that end in Suffix.
type Suffix struct {
	Suffix string `yaml:"suffix"`
	Kind   string `yaml:"kind"`
}

// Mapping turns the columns of a wide CSV export into series. A column
// named by a gNMI path is that leaf's series (pathColumn), one named as a
// Prometheus series is that series (promColumn); any other is named
// PREFIX+LEAF: PREFIX an interface or location ("HundredGigE0/0/0/0",
// "0/RP0/CPU0"; it becomes the keys name=PREFIX) or a table path with "__"
// separators ("global__"), LEAF a lowercase hyphenated name
// ("bytes-received"). A leaf listed in Leaves with a metric takes that
// metric; every other leaf keeps its name under NativePrefix (table parts
// become path elements: global__established-neighbors-count-total is
// NativePrefix/global/established-neighbors-count-total). A listed leaf
// whose metric is an interface's (under /interfaces/interface/) is taken
// only after an interface prefix, one that starts with a letter: "state"
// after "Gi0/0/0/1" is the interface's oper-status, but after
// "0/RP0/CPU0" or "global__" it keeps its native name.
//
// The kind of a column is decided per column, in this order:
//   - a listed leaf has the kind of its Leaves entry; a cell of a listed
//     counter or gauge that is not a number is an error;
//   - a leaf not listed is guessed: the kind of the first Suffixes entry it
//     ends with, else DefaultKind; the first value of the column (in the
//     file being read) settles the guess: text (not a number) makes it a
//     state column, whatever the guess; after that, text in a counter or
//     gauge column is an error.
//
// The default leaves map the interface states: oper-status, oper-state,
// line-state and state to schemas.MetricOperStatus, admin-status and
// admin-state to schemas.MetricAdminStatus, as state columns (the detect
// stage reads UP, DOWN, im-state-down, 1, 2…).
// The zero Mapping is not usable: start from DefaultMapping.
type Mapping struct {
	NativePrefix string          `yaml:"native_prefix"`
	Leaves       map[string]Leaf `yaml:"leaves"`
	Suffixes     []Suffix        `yaml:"suffixes"`
	DefaultKind  string          `yaml:"default_kind"`
	// DevicePattern finds the device in a file name without its
	// extensions: the first submatch (whole name when it does not match).
	DevicePattern string `yaml:"device_pattern"`
	// Device, when set, is the device of every file (one file per run).
	Device string `yaml:"device"`

	device *regexp.Regexp
}

const (
	ifCounters = "/interfaces/interface/state/counters/"
	ifPrefix   = "/interfaces/interface/"
)

// DefaultMapping returns the mapping of Cisco IOS-XR interface leaves (as
// in the bigdama18 exports) to OpenConfig interface counters and states,
// with cumulative leaves as counters and rates, loads and counts as
// gauges.
func DefaultMapping() *Mapping {
	m := &Mapping{
		NativePrefix: DefaultNativePrefix,
		Leaves: map[string]Leaf{
			"bytes-received":      {ifCounters + "in-octets", "counter"},
			"bytes-sent":          {ifCounters + "out-octets", "counter"},
			"packets-received":    {ifCounters + "in-pkts", "counter"},
			"packets-sent":        {ifCounters + "out-pkts", "counter"},
			"input-drops":         {ifCounters + "in-discards", "counter"},
			"output-drops":        {ifCounters + "out-discards", "counter"},
			"input-errors":        {ifCounters + "in-errors", "counter"},
			"output-errors":       {ifCounters + "out-errors", "counter"},
			"crc-errors":          {ifCounters + "in-fcs-errors", "counter"},
			"carrier-transitions": {ifCounters + "carrier-transitions", "counter"},
			// Interface states: OpenConfig's and IETF's leaves, IOS-XR's
			// native state and line-state (im-state-up, …).
			"oper-status":  {schemas.MetricOperStatus, "state"},
			"oper-state":   {schemas.MetricOperStatus, "state"},
			"line-state":   {schemas.MetricOperStatus, "state"},
			"state":        {schemas.MetricOperStatus, "state"},
			"admin-status": {schemas.MetricAdminStatus, "state"},
			"admin-state":  {schemas.MetricAdminStatus, "state"},
		},
		Suffixes: []Suffix{
			{"-rate", "gauge"}, {"-load", "gauge"}, {"-interval", "gauge"}, {"bandwidth", "gauge"},
			{"-count", "gauge"}, {"-counts", "gauge"}, {"-count-total", "gauge"}, {"-memory", "gauge"},
			{"-packets", "counter"}, {"-drops", "counter"}, {"-drop", "counter"}, {"-errors", "counter"},
			{"-failures", "counter"}, {"-messages", "counter"},
			{"-received", "counter"}, {"-sent", "counter"}, {"-transitions", "counter"},
			{"-processed", "counter"}, {"-interface", "counter"},
		},
		DefaultKind:   "gauge",
		DevicePattern: `^([A-Za-z][A-Za-z-]*?\d+)`,
	}
	_ = m.compile()
	return m
}

// LoadMapping reads a YAML override of DefaultMapping from path: leaves
// are added or replaced, suffixes are tried before the default ones, and
// native_prefix, default_kind and device_pattern replace the defaults when
// set. A listed leaf without a kind takes it from the merged suffixes and
// default kind; one keyed by a gNMI metric ("/interfaces/interface/state/
// counters/in-octets") first from the kind the gNMI collector gives it by
// name. Errors name the file, the line and the field.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read mapping: %w", err)
	}
	return ParseMapping(path, data)
}

// ParseMapping is LoadMapping on data named name.
func ParseMapping(name string, data []byte) (*Mapping, error) {
	var o Mapping
	m := DefaultMapping()
	err := yamlfile.Decode(name, data, &o, func() error {
		m.Suffixes = append(o.Suffixes, m.Suffixes...)
		if o.NativePrefix != "" {
			m.NativePrefix = strings.TrimRight(o.NativePrefix, "/")
		}
		if o.DefaultKind != "" {
			m.DefaultKind = o.DefaultKind
		}
		if o.DevicePattern != "" {
			m.DevicePattern = o.DevicePattern
		}
		m.Device = o.Device
		for leaf, l := range o.Leaves {
			if l.Kind == "" && strings.HasPrefix(leaf, "/") {
				// A gNMI metric: the kind the collector gives it by name.
				if _, _, k, err := gnmi.Series(leaf); err == nil && k != 0 {
					l.Kind = k.String()
				}
			}
			if l.Kind == "" {
				l.Kind = m.kindOf(leaf) // by the merged suffixes and default
			}
			m.Leaves[leaf] = l
		}
		return m.compile()
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// compile validates the mapping and compiles its device pattern.
func (m *Mapping) compile() error {
	for leaf, l := range m.Leaves {
		if _, err := parseKind(l.Kind); err != nil {
			return fmt.Errorf("leaves.%s.kind: %w", leaf, err)
		}
	}
	for i, s := range m.Suffixes {
		if _, err := parseKind(s.Kind); err != nil {
			return fmt.Errorf("suffixes[%d].kind: %w", i, err)
		}
		if s.Suffix == "" {
			return fmt.Errorf("suffixes[%d].suffix: empty", i)
		}
	}
	if _, err := parseKind(m.DefaultKind); err != nil {
		return fmt.Errorf("default_kind: %w", err)
	}
	if !strings.HasPrefix(m.NativePrefix, "/") {
		return fmt.Errorf("native_prefix: %q does not start with /", m.NativePrefix)
	}
	re, err := regexp.Compile(m.DevicePattern)
	if err != nil {
		return fmt.Errorf("device_pattern: %v", err)
	}
	m.device = re
	return nil
}

// parseKind accepts counter, gauge and state.
func parseKind(s string) (schemas.Kind, error) {
	switch s {
	case "counter":
		return schemas.KindCounter, nil
	case "gauge":
		return schemas.KindGauge, nil
	case "state":
		return schemas.KindState, nil
	}
	return 0, fmt.Errorf("%q is not counter, gauge or state", s)
}

// kindOf returns the kind name of a leaf not listed in Leaves.
func (m *Mapping) kindOf(leaf string) string {
	for _, s := range m.Suffixes {
		if strings.HasSuffix(leaf, s.Suffix) {
			return s.Kind
		}
	}
	return m.DefaultKind
}

// Column is a wide CSV column mapped to a series.
type Column struct {
	Metric string
	Keys   string
	Kind   schemas.Kind
}

// prefixRE matches an interface or location prefix: letters (optional),
// digits, then /LETTERSdigits parts, an optional .subinterface
// ("HundredGigE0/0/0/10", "0/RP0/CPU0", "Bundle-Ether1.100").
var prefixRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z-]*)?\d+(?:/[A-Za-z]*\d+)*(?:\.\d+)?`)

// Column maps a column name to its series. The kind of a leaf not listed
// is a guess that the column's first value may overrule (see Mapping).
func (m *Mapping) Column(name string) Column {
	c, _ := m.column(name)
	return c
}

// column maps a column name to its series, and reports whether its kind
// is a guess (the leaf is not listed).
func (m *Mapping) column(name string) (c Column, guessed bool) {
	if c, guessed, ok := m.pathColumn(name); ok {
		return c, guessed
	}
	if c, guessed, ok := m.promColumn(name); ok {
		return c, guessed
	}
	var keys, leaf, table string
	iface := false
	if p := prefixRE.FindString(name); p != "" && len(p) < len(name) && isLeafStart(name[len(p)]) {
		keys, leaf, iface = "name="+p, name[len(p):], !isDigit(p[0])
	} else if i := strings.LastIndex(name, "__"); i >= 0 {
		table, leaf = strings.ReplaceAll(name[:i], "__", "/")+"/", name[i+2:]
	} else {
		leaf = name
	}
	l, ok := m.Leaves[leaf]
	if ok && !iface && strings.HasPrefix(l.Metric, ifPrefix) {
		ok = false // an interface's leaf, not after an interface
	}
	if !ok {
		l = Leaf{Kind: m.kindOf(leaf)}
	}
	metric := l.Metric
	if metric == "" {
		metric = m.NativePrefix + "/" + table + leaf
	}
	kind, _ := parseKind(l.Kind) // validated by compile
	return Column{Metric: metric, Keys: keys, Kind: kind}, !ok
}

// originRE matches the origin in front of a path column
// ("openconfig:/interfaces/…").
var originRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*:/`)

// pathColumn maps a column named by a gNMI path, as an export of streamed
// telemetry names it ("/interfaces/interface[name=Ethernet1]/state/oper-status",
// optionally with an origin or YANG module prefixes): the metric and keys
// the gNMI collector gives that leaf. Its kind is, in order, a Leaves
// entry for the metric (whose metric, if any, replaces it), the kind the
// collector fixes by the leaf's name (the vocabulary's leaves, OpenConfig's
// counters containers, counter suffixes), else the suffix guess on the last
// element; a state is listed, the rest is a guess the first value settles.
// A name that is not a valid path ("/a/b[k]") is the metric as it is,
// without keys. ok is false for a name that is not a path.
func (m *Mapping) pathColumn(name string) (c Column, guessed, ok bool) {
	if !strings.HasPrefix(name, "/") && !originRE.MatchString(name) {
		return Column{}, false, false
	}
	metric, keys, kind, err := gnmi.Series(name)
	if err != nil {
		metric, keys, kind = name, "", 0
	}
	if l, listed := m.Leaves[metric]; listed {
		return listedColumn(l, metric, keys), false, true
	}
	if kind == 0 {
		kind, _ = parseKind(m.kindOf(metric[strings.LastIndexByte(metric, '/')+1:]))
	}
	return Column{Metric: metric, Keys: keys, Kind: kind}, kind != schemas.KindState, true
}

// promRE matches a column named as a Prometheus series, as Grafana's CSV
// export and the exporters' tools name them: metric{label="value", …}.
var promRE = regexp.MustCompile(`^([A-Za-z_:][A-Za-z0-9_:]*)\{(.*)\}$`)

// promLabelRE matches one label of a Prometheus series, its value quoted.
var promLabelRE = regexp.MustCompile(`\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?`)

// labelUnescaper unescapes a Prometheus label value.
var labelUnescaper = strings.NewReplacer(`\"`, `"`, `\\`, `\`)

// ifMIB maps IF-MIB's objects, as the SNMP exporter names them, to the
// metrics the SNMP collector gives them (collectors/snmp).
var ifMIB = map[string]Leaf{
	"ifHCInOctets":     {schemas.MetricInOctets, "counter"},
	"ifInOctets":       {schemas.MetricInOctets, "counter"},
	"ifHCOutOctets":    {schemas.MetricOutOctets, "counter"},
	"ifOutOctets":      {schemas.MetricOutOctets, "counter"},
	"ifHCInUcastPkts":  {schemas.MetricInUnicastPkts, "counter"},
	"ifInUcastPkts":    {schemas.MetricInUnicastPkts, "counter"},
	"ifHCOutUcastPkts": {schemas.MetricOutUnicastPkts, "counter"},
	"ifOutUcastPkts":   {schemas.MetricOutUnicastPkts, "counter"},
	"ifInErrors":       {schemas.MetricInErrors, "counter"},
	"ifOutErrors":      {schemas.MetricOutErrors, "counter"},
	"ifInDiscards":     {schemas.MetricInDiscards, "counter"},
	"ifOutDiscards":    {schemas.MetricOutDiscards, "counter"},
	"ifOperStatus":     {schemas.MetricOperStatus, "state"},
	"ifAdminStatus":    {schemas.MetricAdminStatus, "state"},
}

// promColumn maps a column named as a Prometheus series,
// metric{label="value", …}: an IF-MIB object (ifHCInOctets, ifOperStatus…)
// is the SNMP collector's metric for it, keyed by the interface's ifName,
// else ifDescr label (name=…; an empty label is missing), else name=ifIndexN
// from the ifIndex label, as the collector keys it; any other metric is
// NativePrefix/METRIC keyed by its labels in name order, its kind a Leaves
// entry for the metric, else a counter when the name ends in _total (the
// Prometheus convention), else the suffix guess. The labels that name the
// scrape, instance and job, are not keys: the file is the device, or, in
// a file of several instances, each instance's host is (OpenWide). ok is
// false for a name of another form.
func (m *Mapping) promColumn(name string) (c Column, guessed, ok bool) {
	metric, labels, ok := promSeries(name)
	if !ok {
		return Column{}, false, false
	}
	delete(labels, "instance")
	delete(labels, "job")
	if l, isIF := ifMIB[metric]; isIF {
		// Keyed as the SNMP collector keys the interface (the exporter
		// writes an empty label for a missing name).
		var keys string
		if labels["ifName"] != "" || labels["ifDescr"] != "" || labels["ifIndex"] != "" {
			keys = schemas.SNMPInterfaceKeys(labels["ifName"], labels["ifDescr"], labels["ifIndex"])
		}
		c := listedColumn(l, l.Metric, keys)
		return c, c.Kind != schemas.KindState, true
	}
	names := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + schemas.EscapeKeyValue(labels[k])
	}
	native, keys := m.NativePrefix+"/"+metric, strings.Join(parts, ",")
	if l, listed := m.Leaves[metric]; listed {
		return listedColumn(l, native, keys), false, true
	}
	kind := m.kindOf(metric)
	if strings.HasSuffix(metric, "_total") {
		kind = "counter"
	}
	k, _ := parseKind(kind) // validated by compile
	return Column{Metric: native, Keys: keys, Kind: k}, k != schemas.KindState, true
}

// promSeries splits a column named as a Prometheus series,
// metric{label="value", …}, into its metric name and labels; ok is false
// for a name of another form.
func promSeries(name string) (metric string, labels map[string]string, ok bool) {
	g := promRE.FindStringSubmatch(name)
	if g == nil {
		return "", nil, false
	}
	labels = map[string]string{}
	for rest := g[2]; rest != ""; {
		l := promLabelRE.FindStringSubmatchIndex(rest)
		if l == nil || l[0] != 0 {
			return "", nil, false
		}
		labels[rest[l[2]:l[3]]] = labelUnescaper.Replace(rest[l[4]:l[5]])
		rest = rest[l[1]:]
	}
	return g[1], labels, true
}

// promInstance returns the instance label of a column named as a
// Prometheus series, "" for any other column.
func promInstance(name string) string {
	_, labels, _ := promSeries(name)
	return labels["instance"]
}

// instanceDevice is the device of a Prometheus instance label: the host
// without its port ("r1:161" is r1, "[2001:db8::1]:9116" 2001:db8::1),
// the label as it is when it has no port.
func instanceDevice(instance string) string {
	if host, port, err := net.SplitHostPort(instance); err == nil && port != "" && host != "" {
		return host
	}
	return instance
}

// listedColumn is the series of a column whose leaf l is listed: its
// metric when l names one, else metric; its keys; l's kind.
func listedColumn(l Leaf, metric, keys string) Column {
	if l.Metric != "" {
		metric = l.Metric
	}
	kind, _ := parseKind(l.Kind) // validated by compile
	return Column{Metric: metric, Keys: keys, Kind: kind}
}

func isLeafStart(c byte) bool { return c >= 'a' && c <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// DeviceOf returns the device of a file name (without folders and
// extensions): Device when set, else by DevicePattern.
func (m *Mapping) DeviceOf(base string) string {
	if m.Device != "" {
		return m.Device
	}
	return m.patternDevice(base)
}

// patternDevice returns the device of a file name by DevicePattern: the
// first submatch, or the whole name when it does not match.
func (m *Mapping) patternDevice(base string) string {
	if s := m.device.FindStringSubmatch(base); len(s) > 1 && s[1] != "" {
		return s[1]
	}
	return base
}
