package correlate

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// LoadInventory reads an operator's inventory file: CSV when path ends in
// .csv, else YAML. It returns what loaded and the problems met, each
// "FILE:LINE: problem"; an error only when the file cannot be read or is
// not an inventory at all.
func LoadInventory(path string) (*schemas.Inventory, []schemas.InventoryProblem, error) {
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

// Inventory holds the inventory of the stage and re-reads its file when
// the file's modification time or size changes. It is safe for concurrent
// use.
type Inventory struct {
	path  string
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	cur     Snapshot
	mod     time.Time
	size    int64
	checked time.Time
	warned  string // the last problem logged, so a file that stays bad logs once
}

// NewInventory loads the inventory file at path, logging each problem as
// one line (the rest loads), and re-reads it at most every `every` when
// Current is called. An unreadable file, or one that is no inventory at
// all, is an error.
func NewInventory(path string, every time.Duration, log *slog.Logger) (*Inventory, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read inventory: %w", err)
	}
	inv, problems, err := LoadInventory(path)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		log.Warn("inventory problem; the rest of the file loads", "problem", p.Error())
	}
	log.Info("inventory loaded", "file", path, "devices", len(inv.Devices), "links", len(inv.Links), "sessions", len(inv.Sessions))
	return &Inventory{path: path, every: every, log: log, cur: snapshot(inv, 1), mod: st.ModTime(), size: st.Size(), checked: time.Now()}, nil
}

// FixedInventory returns an Inventory that never changes (nil: none).
func FixedInventory(inv *schemas.Inventory) *Inventory { return &Inventory{cur: snapshot(inv, 1)} }

// Snapshot is one version of the inventory.
type Snapshot struct {
	Inv   *schemas.Inventory // nil: none
	Index *schemas.InventoryIndex
	Gen   int // changes when the inventory does
}

func snapshot(inv *schemas.Inventory, gen int) Snapshot {
	return Snapshot{Inv: inv, Index: inv.Index(), Gen: gen}
}

// Current returns the inventory, re-reading the file first when `every`
// has passed since the last look and the file's modification time or size
// changed. A file that changed into one with problems, or that cannot be
// read, keeps the previous inventory and logs one line naming the file,
// line and problem.
func (v *Inventory) Current(now time.Time) Snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.path == "" || now.Sub(v.checked) < v.every {
		return v.cur
	}
	v.checked = now
	st, err := os.Stat(v.path)
	if err != nil {
		v.warn(err.Error())
		return v.cur
	}
	if st.ModTime().Equal(v.mod) && st.Size() == v.size {
		return v.cur
	}
	v.mod, v.size = st.ModTime(), st.Size()
	inv, problems, err := LoadInventory(v.path)
	switch {
	case err != nil:
		v.warn(err.Error())
	case len(problems) > 0:
		v.warn(fmt.Sprintf("%s (and %d more problems)", problems[0].Error(), len(problems)-1))
	default:
		v.warned = ""
		v.cur = snapshot(inv, v.cur.Gen+1)
		v.log.Info("inventory reloaded", "file", v.path, "devices", len(inv.Devices), "links", len(inv.Links), "sessions", len(inv.Sessions))
	}
	return v.cur
}

// warn logs why the file did not reload, once per distinct problem.
func (v *Inventory) warn(problem string) {
	if problem == v.warned {
		return
	}
	v.warned = problem
	v.log.Warn("cannot reload inventory; keeping the previous one", "problem", problem)
}
