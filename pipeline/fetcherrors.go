package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchErrorEvery is how often one fetch error of one partition is
// logged again while it lasts, with how many polls returned it since.
const fetchErrorEvery = 30 * time.Second

// fetchErrorBackoff is how long a runner waits after a poll that returned
// errors and no record before it polls again: a poll fails at once while
// the error lasts (a topic deleted under the stage: UNKNOWN_TOPIC_ID), and
// the loop would spin.
const fetchErrorBackoff = 200 * time.Millisecond

// maxFetchErrorsKept bounds the errors remembered; past it they are
// forgotten, and each is logged again once.
const maxFetchErrorsKept = 1024

// fetchErrors logs a runner's fetch errors: each topic, partition and
// error once at WARN, then again at most every fetchErrorEvery while it
// lasts, with the polls that returned it since. Before, every poll logged
// each of its errors: an error that every poll returns at once (one
// review saw about 3 000 WARN lines a second after a topic was recreated
// under a Parquet stage; not reproduced on the at-least-once runner) is
// now one line (TestFetchErrorsLoggedOnce). A poll's own timeout and a
// stop's cancel are no errors.
type fetchErrors struct {
	log  *slog.Logger
	now  func() time.Time
	seen map[fetchErrorKey]*fetchErrorSeen
	past map[fetchErrorKey]bool // partitions pastEnd logged (err "")
}

type fetchErrorKey struct {
	topic     string
	partition int32
	err       string
}

type fetchErrorSeen struct {
	logged time.Time // when it was last logged
	last   time.Time // when a poll last returned it
	since  int       // polls that returned it since it was logged
}

func newFetchErrors(log *slog.Logger) *fetchErrors {
	return &fetchErrors{log: log, now: time.Now, seen: map[fetchErrorKey]*fetchErrorSeen{}}
}

// report logs the errors of fetches as fetchErrors says and returns how
// many it had.
func (f *fetchErrors) report(fetches kgo.Fetches) int {
	n := 0
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		n++
		k := fetchErrorKey{topic, p, err.Error()}
		now := f.now()
		s := f.seen[k]
		switch {
		case s == nil || now.Sub(s.last) >= fetchErrorEvery:
			// New, or back after a while without it.
			if s == nil && len(f.seen) >= maxFetchErrorsKept {
				clear(f.seen)
			}
			f.seen[k] = &fetchErrorSeen{logged: now, last: now}
			f.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
		case now.Sub(s.logged) >= fetchErrorEvery:
			f.log.Warn("fetch error, still", "topic", topic, "partition", p, "err", err,
				"polls_since_logged", s.since+1, "since", now.Sub(s.logged).Round(time.Second).String())
			s.logged, s.last, s.since = now, now, 0
		default:
			s.last = now
			s.since++
		}
	})
	return n
}

// backoff waits fetchErrorBackoff, or until ctx ends, after a poll that
// returned errors and no record.
func (f *fetchErrors) backoff(ctx context.Context, fetches kgo.Fetches, errs int) {
	if errs == 0 || fetches.NumRecords() > 0 {
		return
	}
	timer := time.NewTimer(fetchErrorBackoff)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// pastEnd logs at ERROR, once per partition while it lasts, each owned
// input partition whose end offset (from EndOffsets) is below the
// position the stage reached on it (done): the topic was deleted and
// recreated under the running stage, or its log was truncated. The client
// then asks for offsets past the new end and gets nothing, with no error:
// before, the stage read nothing more of the partition and said nothing
// (TestIntegrationTopicRecreatedUnderRunner).
func (f *fetchErrors) pastEnd(o *owned, end, done map[string]map[int32]int64) {
	if f.past == nil {
		f.past = map[fetchErrorKey]bool{}
	}
	for t, ps := range end {
		for p, off := range ps {
			k := fetchErrorKey{topic: t, partition: p}
			at := done[t][p]
			if !o.parts[t][p] || off >= at {
				delete(f.past, k)
				continue
			}
			if f.past[k] {
				continue
			}
			f.past[k] = true
			f.log.Error("an input partition ends before the offset this stage reached on it: the topic was deleted and recreated (this stage then reads nothing more of it), or its log truncated; if the stage's lag (telekernel_stage_lag_records) does not fall, restart the stage to read the partition again (from the group's committed offset, or from the start when the group has none for a new topic)",
				"topic", t, "partition", p, "end_offset", off, "position", at)
		}
	}
}
