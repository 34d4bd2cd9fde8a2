package inventory

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// LoadFile reads an operator's inventory file: CSV when path ends in
// .csv, else YAML. It returns what loaded and the problems met, each
// "FILE:LINE: problem"; an error only when the file cannot be read or is
// not an inventory at all.
func LoadFile(path string) (*schemas.Inventory, []schemas.InventoryProblem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read inventory: %w", err)
	}
	parse := schemas.ParseInventoryYAML
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		parse = schemas.ParseInventoryCSV
	}
	inv, problems := parse(path, data)
	if inv == nil {
		return nil, problems, fmt.Errorf("cannot load inventory: %s", problems[0].Error())
	}
	return inv, problems, nil
}

// View holds the inventory a stage looks devices up in: a base (an
// operator's file, re-read when its modification time or size changes, or
// a fixed inventory) and, once SetLive was called with a non-empty
// inventory, the live one read from the inventory topic, which then wins.
// It is safe for concurrent use.
type View struct {
	path  string
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	cur     Snapshot
	mod     time.Time
	size    int64
	checked time.Time
	warned  string // the last problem logged, so a file that stays bad logs once
	// problems are the problems of the file loaded: a changed file with
	// more is taken for one being edited, and is not loaded.
	problems []schemas.InventoryProblem
	live     *schemas.Inventory // from the topic; nil: none, the base applies
	base     Snapshot           // the file's or fixed inventory
}

// NewFile loads the inventory file at path, logging each problem as
// one line (the rest loads), and re-reads it at most every `every` when
// Current is called. An unreadable file, or one that is no inventory at
// all, is an error.
func NewFile(path string, every time.Duration, log *slog.Logger) (*View, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read inventory: %w", err)
	}
	inv, problems, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	logProblems(log, problems)
	log.Info("inventory loaded", "file", path, "devices", len(inv.Devices), "links", len(inv.Links), "sessions", len(inv.Sessions))
	s := snapshot(inv, 1)
	return &View{path: path, every: every, log: log, cur: s, base: s, mod: st.ModTime(), size: st.Size(), checked: time.Now(),
		problems: problems}, nil
}

// Fixed returns a View of a base inventory that never changes (nil: none).
func Fixed(inv *schemas.Inventory) *View {
	s := snapshot(inv, 1)
	return &View{cur: s, base: s, log: slog.New(slog.DiscardHandler)}
}

// Snapshot is one version of the inventory.
type Snapshot struct {
	Inv   *schemas.Inventory // nil: none
	Index *schemas.InventoryIndex
	Gen   int // changes when the inventory does
}

func snapshot(inv *schemas.Inventory, gen int) Snapshot {
	return Snapshot{Inv: inv, Index: inv.Index(), Gen: gen}
}

// Current returns the current inventory: the live one (SetLive) when
// there is one, else the base. It re-reads the file first when `every` has
// passed since the last look and the file's modification time or size
// changed. A file that changed into one with more problems than the file
// loaded (one being edited, most likely), or that cannot be read, keeps
// the previous inventory and logs one line naming the file, line and
// problem; one with as many or fewer loads, its problems logged as at the
// start, so a problem the operator left (a link to a device the file does
// not list) does not keep every later edit out.
func (v *View) Current(now time.Time) Snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.path == "" || now.Sub(v.checked) < v.every {
		return v.cur
	}
	v.reload(now)
	return v.cur
}

// SetLive makes inv, read from the inventory topic, the current inventory;
// an empty or nil inv goes back to the base. The generation changes only
// when the current inventory's content does, so an engine is not handed
// the same inventory again.
func (v *View) SetLive(inv *schemas.Inventory) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if inv != nil && len(inv.Devices) == 0 {
		inv = nil
	}
	v.live = inv
	v.pick()
}

// pick makes cur the live inventory, or the base without one, with a new
// generation if its content changed. The caller holds v.mu.
func (v *View) pick() {
	next := v.base.Inv
	if v.live != nil {
		next = v.live
	}
	if Equal(next, v.cur.Inv) {
		return
	}
	v.cur = snapshot(next, v.cur.Gen+1)
}

// reload re-reads the file if it changed. The caller holds v.mu.
func (v *View) reload(now time.Time) {
	v.checked = now
	st, err := os.Stat(v.path)
	if err != nil {
		v.warn(err.Error())
		return
	}
	if st.ModTime().Equal(v.mod) && st.Size() == v.size {
		return
	}
	v.mod, v.size = st.ModTime(), st.Size()
	inv, problems, err := LoadFile(v.path)
	switch {
	case err != nil:
		v.warn(err.Error())
	case len(problems) > len(v.problems):
		v.warn(fmt.Sprintf("%s (%d problems, the inventory loaded had %d)", newProblem(problems, v.problems).Error(), len(problems), len(v.problems)))
	default:
		logProblems(v.log, problems)
		v.warned, v.problems = "", problems
		v.base = snapshot(inv, v.base.Gen+1)
		v.pick()
		v.log.Info("inventory reloaded", "file", v.path, "devices", len(inv.Devices), "links", len(inv.Links), "sessions", len(inv.Sessions))
	}
}

// logProblems logs each problem of a file that loads as one line.
func logProblems(log *slog.Logger, problems []schemas.InventoryProblem) {
	for _, p := range problems {
		log.Warn("inventory problem; the rest of the file loads", "problem", p.Error())
	}
}

// newProblem returns the first of problems that the loaded file's (old)
// did not have, wherever its line: the one to name, not a problem the
// operator left in the file. Entries are told apart by their text with
// list indices taken out (devices[3] is devices[4] after an insertion).
func newProblem(problems, old []schemas.InventoryProblem) schemas.InventoryProblem {
	seen := map[string]int{}
	for _, p := range old {
		seen[withoutIndices(p.Problem)]++
	}
	for _, p := range problems {
		k := withoutIndices(p.Problem)
		if seen[k] == 0 {
			return p
		}
		seen[k]--
	}
	return problems[0]
}

// withoutIndices returns s with the digits between brackets taken out.
func withoutIndices(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '[':
			in = true
		case r == ']':
			in = false
		case in && r >= '0' && r <= '9':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// warn logs why the file did not reload, once per distinct problem.
func (v *View) warn(problem string) {
	if problem == v.warned {
		return
	}
	v.warned = problem
	v.log.Warn("cannot reload inventory; keeping the previous one", "problem", problem)
}
