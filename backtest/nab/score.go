package nab

import (
	"fmt"
	"math"
	"sort"
)

// NoDetection is the threshold sentinel that means "no detections at all";
// the threshold optimisation starts there.
const NoDetection = 1.1

// maxTP is S(−1), the value of the scaled sigmoid at the first row of a
// window.
var maxTP = scaledSigmoid(-1)

// scaledSigmoid is NAB's S(y) = 2·sig(−5y) − 1, fixed to −1 beyond y > 3.
func scaledSigmoid(y float64) float64 {
	if y > 3 {
		return -1
	}
	return 2*(1/(1+math.Exp(5*y))) - 1
}

// Probation returns the length of NAB's probationary period for a file of
// n rows: min(floor(0.15·n), 750).
func Probation(n int) int {
	return min(int(math.Floor(0.15*float64(n))), 750)
}

// FileInput is one file's detector output and windows, the scorer's input.
type FileInput struct {
	Name    string    // "CATEGORY/FILE.csv"
	Scores  []float64 // one anomaly score per row, in row order
	Windows [][2]int  // row ranges [L, R], inclusive, in order, not overlapping
}

// FileScore is one file's score and row counts at a threshold.
type FileScore struct {
	Name                     string
	Score                    float64
	TP, TN, FP, FN, Scorable int
}

// ProfileScore is a detector's score under one profile.
type ProfileScore struct {
	Profile   Profile
	Threshold float64 // optimised threshold
	Raw       float64 // sum of the file scores at Threshold
	// Normalized is 100·(Raw − null)/(perfect − null): 0 for the null
	// detector, 100 for the perfect one.
	Normalized float64
	Files      []FileScore
	Total      FileScore // summed counts and score; Name "Totals"
}

// weights returns the per-row weights of a file of n rows under p, and for
// each row the index of its window or −1.
func weights(n int, windows [][2]int, p Profile) ([]float64, []int32) {
	w := make([]float64, n)
	win := make([]int32, n)
	k := 0
	prev := -1 // most recent window that ended before the row
	for i := 0; i < n; i++ {
		for k < len(windows) && windows[k][1] < i {
			prev = k
			k++
		}
		if k < len(windows) && windows[k][0] <= i && i <= windows[k][1] {
			l, r := windows[k][0], windows[k][1]
			width := float64(r - l + 1)
			y := -float64(r-i+1) / width
			w[i] = p.TP * scaledSigmoid(y) / maxTP
			win[i] = int32(k)
			continue
		}
		win[i] = -1
		if prev < 0 {
			w[i] = -p.FP
			continue
		}
		l, r := windows[prev][0], windows[prev][1]
		y := math.Abs(float64(i-r)) / float64(r-l)
		w[i] = p.FP * scaledSigmoid(y)
	}
	return w, win
}

// scorableWindows returns the number of f's windows that end after the
// probationary period, the only ones a detection can find.
func scorableWindows(f *FileInput) int {
	p := Probation(len(f.Scores))
	n := 0
	for _, w := range f.Windows {
		if w[1] >= p {
			n++
		}
	}
	return n
}

func checkInput(f *FileInput) error {
	last := -1
	for k, w := range f.Windows {
		if w[0] <= last || w[1] < w[0] || w[1] >= len(f.Scores) {
			return fmt.Errorf("%s: window %d rows [%d, %d] out of order or out of range (%d rows)", f.Name, k, w[0], w[1], len(f.Scores))
		}
		last = w[1]
	}
	return nil
}

// Score optimises the threshold for profile p over all files (one
// threshold for the corpus, chosen among the distinct scores of scorable
// rows and the NoDetection sentinel, ties going to the highest) and scores
// every file at it. The files must include every labelled file: the score
// is normalised by the number of windows they hold.
func Score(files []FileInput, p Profile) (ProfileScore, error) {
	type row struct {
		s   float64
		w   float64
		win int32 // global window index, −1 outside
	}
	var rows []row
	nwin, scorable := 0, 0
	for fi := range files {
		f := &files[fi]
		if err := checkInput(f); err != nil {
			return ProfileScore{}, err
		}
		w, win := weights(len(f.Scores), f.Windows, p)
		scorable += scorableWindows(f)
		for i := Probation(len(f.Scores)); i < len(f.Scores); i++ {
			g := int32(-1)
			if win[i] >= 0 {
				g = int32(nwin) + win[i]
			}
			rows = append(rows, row{f.Scores[i], w[i], g})
		}
		nwin += len(f.Windows)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].s > rows[j].s })
	winScore := make([]float64, nwin)
	for k := range winScore {
		winScore[k] = -p.FN
	}
	total := -p.FN * float64(scorable) // a window with no scorable row counts for nothing
	bestT, best := NoDetection, total
	for i := 0; i < len(rows); {
		t := rows[i].s
		for ; i < len(rows) && rows[i].s == t; i++ {
			r := rows[i]
			if r.win < 0 {
				total += r.w
			} else if r.w > winScore[r.win] {
				total += r.w - winScore[r.win]
				winScore[r.win] = r.w
			}
		}
		if t < NoDetection && total > best {
			bestT, best = t, total
		}
	}
	return ScoreAt(files, p, bestT, nwin)
}

// ScoreAt scores every file at threshold t under profile p: a scorable row
// is a detection iff its score is at least t; a window with no scorable row
// (it ends in the probationary period) contributes nothing. nwin is the
// number of windows of the perfect detector's score A_TP·nwin; the null
// detector's is −A_FN per window with a scorable row, as NAB scores it.
func ScoreAt(files []FileInput, p Profile, t float64, nwin int) (ProfileScore, error) {
	ps := ProfileScore{Profile: p, Threshold: t, Total: FileScore{Name: "Totals"}}
	scorable := 0
	for fi := range files {
		f := &files[fi]
		if err := checkInput(f); err != nil {
			return ProfileScore{}, err
		}
		w, win := weights(len(f.Scores), f.Windows, p)
		fs := FileScore{Name: f.Name}
		best := make([]float64, len(f.Windows))
		hit := make([]bool, len(f.Windows))
		for i := Probation(len(f.Scores)); i < len(f.Scores); i++ {
			fs.Scorable++
			det := f.Scores[i] >= t && t <= NoDetection
			switch {
			case win[i] >= 0 && det:
				fs.TP++
				if k := win[i]; !hit[k] || w[i] > best[k] {
					hit[k], best[k] = true, w[i]
				}
			case win[i] >= 0:
				fs.FN++
			case det:
				fs.FP++
				fs.Score += w[i]
			default:
				fs.TN++
			}
		}
		for k, win := range f.Windows {
			switch {
			case hit[k]:
				fs.Score += best[k]
			case win[1] >= Probation(len(f.Scores)):
				fs.Score -= p.FN
			}
		}
		scorable += scorableWindows(f)
		ps.Files = append(ps.Files, fs)
		ps.Raw += fs.Score
		ps.Total.TP += fs.TP
		ps.Total.TN += fs.TN
		ps.Total.FP += fs.FP
		ps.Total.FN += fs.FN
		ps.Total.Scorable += fs.Scorable
	}
	ps.Total.Score = ps.Raw
	null, perfect := -p.FN*float64(scorable), p.TP*float64(nwin)
	ps.Normalized = 100 * (ps.Raw - null) / (perfect - null)
	return ps, nil
}
