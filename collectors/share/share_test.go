package share

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBucketStable pins the hash: processes of different builds must agree
// on every target's bucket.
func TestBucketStable(t *testing.T) {
	f := func(name string, n, want int32) {
		t.Helper()
		if got := Bucket(name, n); got != want {
			t.Errorf("Bucket(%q, %d) = %d, want %d", name, n, got, want)
		}
	}
	// FNV-1a 32: "" = 0x811c9dc5, "a" = 0xe40c292c.
	f("", 64, int32(0x811c9dc5%64))
	f("a", 64, int32(0xe40c292c%64))
	f("a", 1, 0)
	f("sim-0001", 7, Bucket("sim-0001", 7))
}

// TestBucketSpread: 1000 names over 64 buckets, none empty or more than
// twice the mean, and three owners of a third of the buckets each get
// between 25 % and 42 % of the names.
func TestBucketSpread(t *testing.T) {
	const n = 64
	count := make([]int, n)
	for i := range 1000 {
		count[Bucket(fmt.Sprintf("sim-%04d", i), n)]++
	}
	for b, c := range count {
		if c == 0 || c > 2*1000/n {
			t.Errorf("bucket %d holds %d of 1000 names", b, c)
		}
	}
	for k := range int32(3) {
		var mine []int32
		for b := k; b < n; b += 3 {
			mine = append(mine, b)
		}
		o := NewOwned(n, mine...)
		got := 0
		for i := range 1000 {
			if o.Owns(fmt.Sprintf("sim-%04d", i)) {
				got++
			}
		}
		if got < 250 || got > 420 {
			t.Errorf("owner %d of 3 owns %d of 1000 names", k, got)
		}
	}
}

// TestOwnedPartition: owners of disjoint bucket sets that cover all
// buckets own every name exactly once.
func TestOwnedPartition(t *testing.T) {
	const n = 16
	owners := []Owned{NewOwned(n, 0, 1, 2, 3, 4), NewOwned(n, 5, 6, 7, 8, 9, 10), NewOwned(n, 11, 12, 13, 14, 15)}
	names := make([]string, 300)
	for i := range names {
		names[i] = fmt.Sprintf("dev-%d", i)
	}
	seen := map[string]int{}
	for _, o := range owners {
		for _, x := range Filter(o, names, func(s string) string { return s }) {
			seen[x]++
		}
	}
	for _, x := range names {
		if seen[x] != 1 {
			t.Errorf("%s owned %d times", x, seen[x])
		}
	}
	if (Owned{}).Owns("dev-1") || len(Filter(Owned{}, names, func(s string) string { return s })) != 0 {
		t.Error("the zero Owned owns something")
	}
}

// TestGroupApply: the callback sees the gains and losses of each step and
// is not called for a step that changes nothing.
func TestGroupApply(t *testing.T) {
	var got []string
	g := &Group{owned: NewOwned(8), onChange: func(c Change) {
		got = append(got, fmt.Sprintf("%s +%v -%v =%v", c.Reason, c.Gained, c.Lost, c.Owned.Buckets()))
	}}
	g.apply("assigned", []int32{1, 2, 3}, nil)
	g.apply("assigned", []int32{3, 4}, nil)
	g.apply("revoked", nil, []int32{1, 7})
	g.apply("revoked", nil, nil)
	g.apply("lost", nil, []int32{2, 3, 4})
	want := []string{"assigned +[1 2 3] -[] =[1 2 3]", "assigned +[4] -[] =[1 2 3 4]", "revoked +[] -[1] =[2 3 4]", "lost +[] -[2 3 4] =[]"}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(g.Owned().Buckets(), []int32{}) {
		t.Errorf("owned at the end: %v", g.Owned().Buckets())
	}
}

func TestConfig(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.WithDefaults().Validate()
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: got %v, want %q", c, err, want)
		}
	}
	f(Config{}, "")
	f(Config{Enabled: true}, "")
	f(Config{Enabled: true, Buckets: 2000}, "buckets: 2000 is not between 1 and 1024")
	f(Config{Enabled: true, Buckets: -1}, "buckets: -1")
	f(Config{Enabled: true, SessionTimeout: time.Second}, "session_timeout: 1s is outside")
	f(Config{Enabled: true, Topic: "a b"}, "topic: ")
	d := Config{}.WithDefaults()
	if d.Name != DefaultName || d.Topic != DefaultTopic || d.Buckets != DefaultBuckets || d.SessionTimeout != DefaultSessionTimeout {
		t.Errorf("defaults: %+v", d)
	}
}
