// Package alertmanager is a pipeline.Sink that forwards detections from the
// detection topic to a Prometheus Alertmanager through its v2 API
// (POST /api/v2/alerts).
//
// Each detection becomes one Alertmanager alert whose labels are the
// detection's identity labels (alertname, device, metric, keys), so
// Alertmanager groups and deduplicates per device and metric and its
// fingerprint equals the detection's (the tk.detections key); the severity
// is an annotation, or also a label with Config.SeverityLabel (for routes
// that match on it; the fingerprints then differ).
// A firing detection is posted with endsAt a little in the future
// (Config.ResendInterval × 4 from now, and a startsAt no later than now,
// whatever the device's clock says) and re-posted every Config.ResendInterval
// while it fires, as Prometheus does, so an alert whose producer has gone
// away resolves by itself instead of firing forever; a resolved detection
// is posted with its endsAt, or now when that device time is still ahead
// (Alertmanager would take it as firing). Everything added between two flushes goes out
// in one request per Flush.
//
// At start the Sink is seeded (Restore) with the alerts firing as its
// consumer group has consumed the detections up to its committed offsets
// (alertstate.LoadAsOf: the compacted alerts topic, which the alertstate
// stage's group writes, with the detections between that group's and the
// bridge's committed offsets of each partition applied), then consumes on
// from its committed offsets. It so neither posts firing again an alert it
// had resolved, nor lets one it had posted firing expire, when the
// alertstate stage lags it; it does not depend on what Alertmanager holds,
// which keeps no alerts across its own restarts.
//
// With Config.Source incidents the Sink reads the incidents topic instead
// and posts one alert per incident (IncidentLabels; the cause, confidence,
// suggested action and member detections as annotations), keyed by the
// incident id: an incident keeps the labels of its first post for its
// life, so Alertmanager pages once however the incident grows, and a
// resolved incident resolves the alert. RestoreIncidents seeds the open
// ones at start, with the labels Alertmanager holds for them (read by the
// first Flush, before it posts, when Alertmanager cannot be read at the
// restore); the updates
// read again after a restart of an incident that was not open at the
// restore (it changed and resolved while the bridge was down) are posted
// with the labels Alertmanager holds too, so its first alert is the one
// resolved.
//
// A record that is not a valid detection is returned as an error wrapping
// schemas.ErrMalformed or schemas.ErrUnknownVersion, so the pipeline.Runner
// dead-letters it.
// Connection errors, timeouts and HTTP 5xx, 408 and 429
// fail Flush and keep the batch, so the runner's retry posts it again
// (re-posting is harmless: Alertmanager merges alerts by label set).
// A request refused as too large (HTTP 413, a proxy's body size limit) is
// split in halves until the parts fit; an alert too large alone is posted
// with its annotations cut, or dropped (WARN, counted too_large) when its
// labels do not fit. A redirect that keeps the method (307, 308) is
// followed; one that would turn the POST into a GET (301, 302, 303) wraps
// pipeline.ErrStop, naming where it leads.
// A password from a file is read again before each request, so a rotated
// one needs no restart, and rejected credentials (HTTP 401, 403) then fail
// Flush and keep the batch: Alertmanager took the new password before the
// file was rewritten, and the retry reads it again. The same holds for a
// bearer token (Config.BearerToken, sent as "Authorization: Bearer ..."
// for an Alertmanager behind an authenticating proxy; mutually exclusive
// with username and password) read from a file. Otherwise rejected
// credentials or a wrong URL (HTTP 401, 403, 404, 405) wrap
// pipeline.ErrStop: no retry can fix configuration. The TLS files
// (Config.TLS) are loaded again when they change: the client certificate
// and key at each new connection, the CA bundle before each request (a
// changed bundle moves requests to new connections that verify with it).
// A request Alertmanager rejects as invalid (HTTP 400, 422) is split down
// to the alerts it rejects alone; such an alert is posted again with its
// annotation names made valid ("runbook-url" as "runbook_url", which
// Alertmanager before 0.28 requires), or, if that does not help (a label
// name it rejects), logged with its labels and counted as dropped; the
// others are posted.
//
// The Sink drops the detections (incidents) it holds unposted of an input
// partition its runner lost (pipeline.PartitionDropper: the group gave the
// partition to another member while a flush was being retried), so no
// late flush posts an alert's older state after the partition's new owner
// posted a newer one, such as a resolved alert firing again until its
// endsAt. Not covered: the firing alerts it had already posted it keeps
// re-posting every ResendInterval, as a new owner that did not restore
// them at start would not post them; if the new owner resolves one, the
// old member's next re-post shows it firing again until the new owner's
// resolution is posted again or the endsAt passes. Run one bridge replica
// (the sizing table assumes one) to avoid that.
package alertmanager
