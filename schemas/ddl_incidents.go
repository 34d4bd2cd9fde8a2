package schemas

import (
	"fmt"
	"strings"
	"time"
)

// ClickHouse tables of the incident outputs and the inventory dimension.
const (
	// TableIncidents holds the latest view of each incident (tk.incidents):
	// a ReplacingMergeTree on id whose version column is update_version,
	// so FINAL (or argMax by update_version) reads one row per incident.
	TableIncidents = "incidents"
	// TableIncidentMembers holds one row per (incident, member detection),
	// in time order: the evidence of TableIncidents, flattened.
	TableIncidentMembers = "incident_members"
	// TableInventory holds the inventory's devices (site, role, vendor,
	// model, tags), one row per device and load; the latest load wins.
	TableInventory = "inventory"
	// TableInventoryLinks holds the inventory's links, one row per end
	// (device, interface → peer device, peer interface).
	TableInventoryLinks = "inventory_links"
)

// The incidents table: schemas.Incident flattened. update_version orders
// the updates of one incident (IncidentUpdateVersion); entities and
// evidence stay JSON for completeness, their commonest parts are columns.
// merged_into (Incident.MergedInto) and then entities_omitted
// (Incident.EntitiesOmitted) came after the others: a column added later
// goes last, so Apply adds it to an existing table with ALTER TABLE … ADD
// COLUMN, and the rows written before read it empty (0).
var incidentsColumns = []column{
	{"id", "String", "", "incident id, stable for the incident's life"},
	{"version", "UInt8", "", "incident contract version"},
	{"update_version", "UInt64", "", "orders the updates of an incident: the latest (highest) one is the row FINAL keeps"},
	{"state", "LowCardinality(String)", "String", "open or resolved"},
	{"opened_at", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "event time of the first symptom"},
	{"opened_at_frac", "-", "UInt32", "nanoseconds within the second of opened_at"},
	{"updated_at", "DateTime64(9, 'UTC')", "DateTime('UTC')", "event time of the latest evidence"},
	{"updated_at_frac", "-", "UInt32", "nanoseconds within the second of updated_at"},
	{"resolved_at", "Nullable(DateTime64(9, 'UTC'))", "Nullable(DateTime('UTC'))", "when it resolved; NULL while open"},
	{"resolved_at_frac", "-", "Nullable(UInt32)", "nanoseconds within the second of resolved_at"},
	{"severity", "LowCardinality(String)", "String", "info, warning or critical"},
	{"rule", "LowCardinality(String)", "String", "the rule that named the cause: link, device, session, hardware, surge, traffic or unexplained"},
	{"cause", "String", "", "the probable cause, for a person"},
	{"confidence", "Float64", "", "of the cause, in [0,1]"},
	{"action", "String", "", "suggested next step for a person; never applied"},
	{"devices", "Array(LowCardinality(String))", "Array(String)", "devices of every entity the incident names, sorted (past 100 KB of names, of the entities listed)"},
	{"sites", "Array(LowCardinality(String))", "Array(String)", "sites of every entity the incident names, sorted (past 100 KB of names, of the entities listed); empty when the inventory does not know them"},
	{"members", "UInt32", "", "member and effect detections"},
	{"entities", "String CODEC(ZSTD(1))", "String", "affected entities as a JSON array: past correlate.engine.max_entities, the first named"},
	{"merged_into", "String", "", "the incident this one was merged into; '' otherwise: filter merged_into = '' to count each cause once"},
	{"entities_omitted", "UInt32", "", "affected entities left out of entities; 0 when the update lists them all"},
}

// The incident_members table: one row per evidence item of an incident.
var incidentMembersColumns = []column{
	{"incident_id", "String", "", "the incident"},
	{"event_time", "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))", "DateTime('UTC')", "the detection's event time"},
	{"event_time_frac", "-", "UInt32", "nanoseconds within the second of event_time"},
	{"detection_id", "String", "", "detections.id of the member"},
	{"fingerprint", "String", "", "detections.fingerprint of the member"},
	{"role", "LowCardinality(String)", "String", "member (a symptom) or effect (a consequence)"},
	{"state", "LowCardinality(String)", "String", "the detection's firing or resolved"},
	{"device", "LowCardinality(String)", "String", ""},
	{"metric", "LowCardinality(String)", "String", ""},
	{"keys", "LowCardinality(String)", "String", ""},
	{"detector", "LowCardinality(String)", "String", ""},
	{"severity", "LowCardinality(String)", "String", ""},
}

// The inventory tables: the same types in both layouts but strings, and
// no time column with a fraction (loaded_at is the version).
var inventoryColumns = []column{
	{"device", "String", "", "the device's configured name (samples.device, detections.device)"},
	{"site", "LowCardinality(String)", "String", ""},
	{"role", "LowCardinality(String)", "String", "e.g. spine, leaf, border"},
	{"vendor", "LowCardinality(String)", "String", ""},
	{"model", "LowCardinality(String)", "String", ""},
	{"tags", "Array(String)", "", ""},
	{"loaded_at", "DateTime('UTC')", "", "when this version of the inventory was loaded: the latest wins"},
}

var inventoryLinksColumns = []column{
	{"device", "String", "", "one end"},
	{"interface", "String", "", ""},
	{"peer_device", "String", "", "the other end"},
	{"peer_interface", "String", "", ""},
	{"loaded_at", "DateTime('UTC')", "", "when this version of the inventory was loaded: the latest wins"},
}

// IncidentUpdateVersion returns the update_version of an incident update,
// higher for every later update of the incident: from the highest bits, 1
// (bit 62), the members and effects it counts (len(Evidence) +
// EvidenceOmitted; 18 bits, counted up to 262,143), the Unix milliseconds
// of its latest time (UpdatedAt, or ResolvedAt when later; 42 bits, up to
// 2109), 1 once resolved, and 1 on the update that merges it into another
// (MergedInto). It stays below 2^63, so a reader of signed 64-bit
// integers reads it right too.
//
// The count of members never goes down, and every update that adds none
// keeps the incident's time or moves it on: a resolution (at its latest
// evidence, or later when the correlate engine closes it as stale or
// gone), a merge. So the count comes first and the time orders the
// updates of one count. A reopening adds a member but its time (its
// latest evidence, no ResolvedAt) may be before the resolution it follows
// (late evidence older than a stale close): with the time first (as
// before 2026-12-04) the reopening ranked below that resolution and FINAL
// read the incident resolved while it was open. Late evidence older than
// the latest leaves UpdatedAt as it was and adds a member. Updates with
// equal versions are the same incident state written twice;
// ReplacingMergeTree keeps either. Past 262,143 members the count stays
// there and the time alone orders updates.
//
// The versions of earlier builds (ns × 2, + 1 once resolved; then the
// milliseconds first) are below 2^62 for every time before 2039, so after
// an upgrade a row this build writes outranks every row an earlier build
// wrote.
func IncidentUpdateVersion(in *Incident) uint64 {
	t := in.UpdatedAt
	if in.ResolvedAt != nil && in.ResolvedAt.After(t) {
		t = *in.ResolvedAt
	}
	ms := uint64(max(0, min(t.UnixMilli(), 1<<versionTimeBits-1)))
	n := uint64(max(0, min(len(in.Evidence)+in.EvidenceOmitted, 1<<versionMemberBits-1)))
	v := 1<<62 | n<<(versionTimeBits+2) | ms<<2
	if in.State == IncidentResolved {
		v |= 2
	}
	if in.MergedInto != "" {
		v |= 1
	}
	return v
}

// The bits of an incident's update_version: the count of members and the
// milliseconds (times after 2109 all get the last of them); 2 for the
// state and merged flags, bit 62 set above every earlier build's version,
// and the sign bit unused.
const (
	versionTimeBits   = 42
	versionMemberBits = 62 - versionTimeBits - 2
)

// incidentDDL returns the CREATE TABLE statements of the incidents,
// incident_members, inventory and inventory_links tables.
//
// incidents is a ReplacingMergeTree(update_version) ordered by id and
// partitioned by the month the incident opened, so its updates collapse
// into the latest. An earlier symptom moves opened_at back, possibly into
// the month before: merges never join that month's row with the later
// ones, but FINAL (which merges across partitions) and argMax(…,
// update_version) still read one row per incident. incident_members is ordered by
// (incident_id, event_time, detection_id): the evidence repeated by every
// update collapses, and an incident's members read in time order. The
// inventory tables are ReplacingMergeTree(loaded_at) on the device (and
// interface); in the cluster form they have a copy on every node, so
// joins with them stay local to each shard.
func incidentDDL(header string, t ddlTarget, l Layout) []string {
	var out []string
	add := func(name string, cols []column, engine, tail string) {
		var b strings.Builder
		b.WriteString(header)
		writeCreate(&b, t, name, cols, l)
		b.WriteString("ENGINE = " + engine + "\n" + tail + "\nSETTINGS index_granularity = 8192")
		out = append(out, b.String())
	}
	frac := func(col string) string {
		if l == LayoutLegacy {
			return col + ", " + col + "_frac"
		}
		return col
	}
	add(t.local(TableIncidents), incidentsColumns, t.engineArgs("ReplacingMergeTree", TableIncidents, "update_version"),
		"PARTITION BY toYYYYMM(opened_at)\nORDER BY id")
	add(t.local(TableIncidentMembers), incidentMembersColumns, t.engine("ReplacingMergeTree", TableIncidentMembers),
		"PARTITION BY toYYYYMM(event_time)\nORDER BY (incident_id, "+frac("event_time")+", detection_id)")
	add(QuoteIdent(TableInventory), inventoryColumns, t.everyNodeEngineArgs("ReplacingMergeTree", TableInventory, "loaded_at"),
		"ORDER BY device")
	add(QuoteIdent(TableInventoryLinks), inventoryLinksColumns, t.everyNodeEngineArgs("ReplacingMergeTree", TableInventoryLinks, "loaded_at"),
		"ORDER BY (device, interface)")
	return out
}

// InventoryLoadTime returns t as the loaded_at of an inventory load:
// whole seconds, UTC (the column is a DateTime).
func InventoryLoadTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// engineArgs is engine with a version column (ReplacingMergeTree(ver)).
func (t ddlTarget) engineArgs(kind, table, ver string) string {
	if t.cluster == "" {
		return fmt.Sprintf("%s(%s)", kind, ver)
	}
	return strings.TrimSuffix(t.engine(kind, table), ")") + ", " + ver + ")"
}

// everyNodeEngineArgs is everyNodeEngine with a version column.
func (t ddlTarget) everyNodeEngineArgs(kind, table, ver string) string {
	if t.cluster == "" {
		return fmt.Sprintf("%s(%s)", kind, ver)
	}
	return strings.TrimSuffix(t.everyNodeEngine(kind, table), ")") + ", " + ver + ")"
}
