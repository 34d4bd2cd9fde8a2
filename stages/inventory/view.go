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
	warned  string             // the last problem logged, so a file that stays bad logs once
	live    *schemas.Inventory // from the topic; nil: none, the base applies
	base    Snapshot           // the file's or fixed inventory
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
	for _, p := range problems {
		log.Warn("inventory problem; the rest of the file loads", "problem", p.Error())
	}
	log.Info("inventory loaded", "file", path, "devices", len(inv.Devices), "links", len(inv.Links), "sessions", len(inv.Sessions))
	s := snapshot(inv, 1)
	return &View{path: path, every: every, log: log, cur: s, base: s, mod: st.ModTime(), size: st.Size(), checked: time.Now()}, nil
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
// changed. A file that changed into one with problems, or that cannot be
// read, keeps the previous inventory and logs one line naming the file,
// line and problem.
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
	case len(problems) > 0:
		v.warn(fmt.Sprintf("%s (and %d more problems)", problems[0].Error(), len(problems)-1))
	default:
		v.warned = ""
		v.base = snapshot(inv, v.base.Gen+1)
		v.pick()
		v.log.Info("inventory reloaded", "file", v.path, "devices", len(inv.Devices), "links", len(inv.Links), "sessions", len(inv.Sessions))
	}
}

// warn logs why the file did not reload, once per distinct problem.
func (v *View) warn(problem string) {
	if problem == v.warned {
		return
	}
	v.warned = problem
	v.log.Warn("cannot reload inventory; keeping the previous one", "problem", problem)
}
