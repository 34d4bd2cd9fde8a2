package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// What the bridge posts (Config.Source).
const (
	// SourceIncidents posts one alert per incident (tk.incidents), so a
	// root cause pages once.
	SourceIncidents = "incidents"
	// SourceDetections posts one alert per detection (tk.detections).
	SourceDetections = "detections"
)

// IncidentAlertName is the alertname label of incident alerts.
const IncidentAlertName = "TelekernelIncident"

// maxAlertsBody bounds the alerts read from Alertmanager at a restore.
const maxAlertsBody = 64 << 20

// maxMembers is how many member detections the members annotation lists;
// the rest are counted.
const maxMembers = 20

// IncidentLabels returns the labels of in's alert: alertname, incident_id,
// cause_kind (the rule), and site and device (the affected sites and
// devices, sorted, comma-separated; absent when none is known).
// Alertmanager's fingerprint of the alert is schemas.Fingerprint of them.
// The Sink posts an incident with the labels of its first update for the
// incident's whole life (see incidentEvent).
func IncidentLabels(in *schemas.Incident) map[string]string {
	l := map[string]string{"alertname": IncidentAlertName, "incident_id": in.ID, "cause_kind": in.Rule}
	var sites, devices []string
	for _, e := range in.Entities {
		if e.Site != "" && !slices.Contains(sites, e.Site) {
			sites = append(sites, e.Site)
		}
		if e.Device != "" && !slices.Contains(devices, e.Device) {
			devices = append(devices, e.Device)
		}
	}
	for k, v := range map[string][]string{"site": sites, "device": devices} {
		if len(v) > 0 {
			slices.Sort(v)
			l[k] = strings.Join(v, ",")
		}
	}
	return l
}

// addIncident decodes one incidents record and queues its alert.
// Tombstones (nil values) of the compacted topic are skipped.
func (s *Sink) addIncident(r *kgo.Record) error {
	if r.Value == nil {
		return nil
	}
	in, err := schemas.UnmarshalIncident(r.Value)
	if err != nil {
		return fmt.Errorf("alertmanager: %w: %w", schemas.ErrMalformed, err)
	}
	ev := s.incidentEvent(in)
	ev.from = inputPartition{r.Topic, r.Partition}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, ev)
	return nil
}

// incidentEvent builds the alert of an incident. It is keyed by the
// incident id and sticky: when the labels change (a device joins, the
// cause turns from a session reset into a link failure), Flush keeps
// posting the labels of the first post, so Alertmanager sees one alert and
// pages once; the annotations carry the current cause kind, devices and
// sites.
func (s *Sink) incidentEvent(in *schemas.Incident) event {
	ann := map[string]string{
		"summary":          in.Cause,
		"cause":            in.Cause,
		"confidence":       strconv.FormatFloat(in.Confidence, 'f', 2, 64),
		"suggested_action": in.Action,
		"severity":         in.Severity,
		"members":          membersAnnotation(in.Evidence, in.EvidenceOmitted),
		"member_count":     strconv.Itoa(len(in.Evidence) + in.EvidenceOmitted),
	}
	labels := IncidentLabels(in)
	ann["cause_kind"], ann["devices"], ann["sites"] = labels["cause_kind"], labels["device"], labels["site"]
	ev := event{fp: in.ID, firing: in.State == schemas.IncidentOpen, sticky: true, alert: alert{
		Labels: labels, Annotations: ann, StartsAt: in.OpenedAt, GeneratorURL: s.cfg.GeneratorURL,
	}}
	if !ev.firing {
		ev.alert.EndsAt = *in.ResolvedAt
	}
	return ev
}

// membersAnnotation lists the evidence, one line each, in time order, at
// most maxMembers lines and a count of the rest (with the incident's
// members its evidence omits).
func membersAnnotation(ev []schemas.Evidence, omitted int) string {
	var b strings.Builder
	for _, e := range ev[:min(len(ev), maxMembers)] {
		fmt.Fprintf(&b, "%s %s %s %s %s (%s, %s)\n", e.Time.UTC().Format(time.RFC3339), e.Role, e.Device, e.Metric, e.Keys, e.Detector, e.State)
	}
	if more := len(ev) - min(len(ev), maxMembers) + omitted; more > 0 {
		fmt.Fprintf(&b, "… and %d more\n", more)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// RestoreIncidents seeds the set of firing alerts with the open incidents
// of ins (e.g. read from the compacted incidents topic when a process
// starts), like Restore does for detections; resolved ones remove their
// alert. The next Flush posts the restored alerts.
//
// Every incident's alert keeps the labels Alertmanager holds for it
// (GET /api/v2/alerts, alertname IncidentAlertName, read whenever ins is
// not empty): those of its first post, while ins holds the incident's
// latest update, whose devices, sites or cause may have changed before the
// restart; its current labels would be a second alert, and a second page.
// An open incident is seeded with them. One that is resolved in ins (or
// not open) while Alertmanager holds it firing keeps them apart from the
// firing set: its updates that the runner reads again from the committed
// offset (it changed and resolved while the bridge was down) are posted
// with them, so the alert Alertmanager holds is the one resolved. An incident
// Alertmanager does not hold takes its current labels.
//
// If Alertmanager cannot be read (it is restarting too, or the proxy in
// front of it has no backend yet), the incidents are restored all the
// same, one WARN line says so, and the next Flush reads the labels
// before it posts anything, failing (to be retried) until Alertmanager
// answers: posting needs it anyway, and posting the current labels would
// page again (a request it cannot build fails the same way, at the first
// Flush).
func (s *Sink) RestoreIncidents(ctx context.Context, ins ...*schemas.Incident) {
	var posted map[string]map[string]string
	var err error
	if len(ins) > 0 {
		posted, err = s.incidentLabels(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range ins {
		open := in.State == schemas.IncidentOpen
		l, held := posted[in.ID]
		s.seed(in.ID, open, func() alert {
			a := s.incidentEvent(in).alert
			if held {
				a.Labels = l
			}
			return a
		})
		if held && !open {
			s.held[in.ID] = l
		} else {
			delete(s.held, in.ID)
		}
		if err != nil {
			s.relabel[in.ID] = open
		} else {
			delete(s.relabel, in.ID)
		}
	}
	if err != nil {
		s.log.Warn("cannot read the incident alerts Alertmanager holds; the first flush reads them before posting, retrying until it answers, so a restored incident keeps the labels of its first post",
			"incidents", len(ins), "err", err)
	}
}

// relabelRestored gives the incidents RestoreIncidents restored while
// Alertmanager could not be read the labels it holds for them, as
// RestoreIncidents does when it can: an open one's alert in the firing
// set takes them, one not open keeps them for its updates read again.
// Until Alertmanager answers it returns the error (Flush fails and is
// retried); when reading is refused for good (HTTP 401, 403, 404, 405 on
// the GET alone), they keep their current labels. The caller holds s.mu.
func (s *Sink) relabelRestored(ctx context.Context) error {
	if len(s.relabel) == 0 {
		return nil
	}
	posted, err := s.incidentLabels(ctx)
	if errors.Is(err, pipeline.ErrStop) {
		// Reading is refused for good while posting may not be (a proxy
		// that lets only the POST through): the restored incidents take
		// their current labels, as before this read existed; waiting
		// would post nothing for good.
		s.log.Warn("Alertmanager refuses to list the alerts it holds; the incidents restored at start take their current labels, so one whose devices, sites or cause changed since its first post may page again",
			"incidents", len(s.relabel), "err", err)
		clear(s.relabel)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w (the incidents restored at start are posted once it answers, with the labels it holds; will retry)", err)
	}
	for id, open := range s.relabel {
		l, held := posted[id]
		switch {
		case !held:
		case open:
			if a, ok := s.active[id]; ok {
				a.alert.Labels = l
				s.active[id] = a
			}
		default:
			s.held[id] = l
		}
	}
	clear(s.relabel)
	return nil
}

// incidentLabels returns the labels of the incident alerts Alertmanager
// holds, by incident id; of two alerts of one incident, the one that ends
// last (the one still posted).
func (s *Sink) incidentLabels(ctx context.Context) (map[string]map[string]string, error) {
	q := url.Values{"filter": {fmt.Sprintf("alertname=%q", IncidentAlertName)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("alertmanager %s: %w", s.cfg.URL, err)
	}
	req.Header.Set("Accept", "application/json")
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alertmanager %s: cannot read the incident alerts it holds: %v", s.cfg.URL, requestError(err))
	}
	defer resp.Body.Close()
	if c := resp.StatusCode; c != http.StatusOK {
		err := fmt.Errorf("alertmanager %s: cannot read the incident alerts it holds: HTTP %d: %s", s.cfg.URL, c, bodySnippet(resp.Body))
		if s.refusedForGood(c) {
			err = fmt.Errorf("%w: %w", pipeline.ErrStop, err)
		}
		return nil, err
	}
	var held []alert
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAlertsBody)).Decode(&held); err != nil {
		return nil, fmt.Errorf("alertmanager %s: cannot read the incident alerts it holds: %v", s.cfg.URL, err)
	}
	labels, ends := map[string]map[string]string{}, map[string]time.Time{}
	for _, a := range held {
		id := a.Labels["incident_id"]
		if a.Labels["alertname"] != IncidentAlertName || id == "" {
			continue
		}
		if e, ok := ends[id]; !ok || a.EndsAt.After(e) {
			labels[id], ends[id] = a.Labels, a.EndsAt
		}
	}
	return labels, nil
}

// refusedForGood reports whether HTTP status c of a request to
// Alertmanager is one no retry fixes (see post): a wrong url, or
// credentials refused that are not read again from a file.
func (s *Sink) refusedForGood(c int) bool {
	switch c {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return true
	case http.StatusUnauthorized, http.StatusForbidden:
		reread := (s.cfg.Username != "" && s.password.FromFile()) || (s.token != nil && s.token.FromFile())
		return !reread
	}
	return false
}
