package insights

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCountNeverCarriesASuppressedNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []Count{Suppressed, {}} {
		if v, ok := c.Value(); ok || v != 0 || c.String() != "suppressed" {
			t.Errorf("suppressed count gives %d, %v, %q", v, ok, c)
		}
	}
	if r := ratio(published(5), Suppressed); !r.Suppressed() || r.String() != "suppressed" {
		t.Errorf("ratio over a suppressed count = %v", r)
	}
	if r := ratio(published(1), published(3)); r.String() != "33.3%" {
		t.Errorf("ratio 1/3 = %v", r)
	}
}

// bands builds a family with one customer count per offered band (18-24 to
// 65+) for all products and for the product.
func bands(all, prod [6]int64) *family {
	f := newFamily()
	for i := range 6 {
		f.add(Band(i+2), Sums{Customers: all[i], Events: 10 * all[i]}, Sums{Customers: prod[i], Events: 10 * prod[i]})
	}
	return f
}

func TestPick(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		all, prod [6]int64
		product   Product
		want      string // per band 18-24..65+, then all ages
	}{
		{"EveryBandLargeAllPublished", [6]int64{50, 60, 70, 80, 90, 100}, [6]int64{}, 0, "50 60 70 80 90 100 | 450"},
		{"SmallBandWithheldWithTheNextSmallest", [6]int64{50, 60, 70, 80, 90, 3}, [6]int64{}, 0,
			"suppressed 60 70 80 90 suppressed | 353"},
		{"ZeroIsWithheldToo", [6]int64{0, 60, 70, 80, 90, 100}, [6]int64{}, 0, "suppressed 60 70 80 90 100 | 400"},
		{"TwoSmallBandsAddingUpToASmallGroup", [6]int64{4, 3, 70, 80, 90, 100}, [6]int64{}, 0,
			"suppressed suppressed suppressed 80 90 100 | 347"},
		{"TwoSmallBandsAddingUpToTenAreEnough", [6]int64{5, 5, 70, 80, 90, 100}, [6]int64{}, 0,
			"suppressed suppressed 70 80 90 100 | 350"},
		{"TotalWithheldWhenNothingElseHides", [6]int64{5, 0, 0, 0, 0, 0}, [6]int64{}, 0,
			"suppressed suppressed suppressed suppressed suppressed suppressed | suppressed"},
		{"ProductComplementSmall", [6]int64{50, 60, 70, 80, 90, 100}, [6]int64{48, 30, 30, 30, 30, 30}, Savings,
			// 18-24: 2 without savings: withheld, and a second band with it.
			"suppressed suppressed 30 30 30 30 | 198"},
		{"ProductTotalComplementSmall", [6]int64{50, 60, 70, 80, 90, 100}, [6]int64{50, 60, 70, 80, 90, 97}, Savings,
			"50 60 70 80 90 suppressed | suppressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := bands(tc.all, tc.prod)
			var got string
			for b := Band(2); b < nBands; b++ {
				got += f.pick(b, tc.product).Customers.String() + " "
			}
			got += "| " + f.pick(0, tc.product).Customers.String()
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			// Events ride on customers: withheld exactly where they are.
			for b := Band(0); b < nBands; b++ {
				fig := f.pick(b, tc.product)
				if fig.Customers.Suppressed() != fig.Events.Suppressed() {
					t.Errorf("band %d: customers %v but events %v", b, fig.Customers, fig.Events)
				}
			}
		})
	}
}

// TestNoBandCanBeRecoveredFromTheTotal plays the differencing attack
// against many vectors: whatever is withheld, the total minus what is shown
// never gives back a group of 1 to 9.
func TestNoBandCanBeRecoveredFromTheTotal(t *testing.T) {
	t.Parallel()
	vals := []int64{0, 1, 4, 9, 10, 25}
	n := 0
	var rec func(i int, v [6]int64)
	rec = func(i int, v [6]int64) {
		if i == 6 {
			n++
			f := bands(v, [6]int64{})
			total, ok := f.pick(0, 0).Customers.Value()
			if !ok {
				return
			}
			shown := int64(0)
			hidden := 0
			for b := Band(2); b < nBands; b++ {
				if x, ok := f.pick(b, 0).Customers.Value(); ok {
					shown += x
				} else {
					hidden++
				}
			}
			if rest := total - shown; rest > 0 && rest < MinCustomers {
				t.Fatalf("bands %v: total %d minus shown %d reveals %d", v, total, shown, rest)
			}
			return
		}
		for _, x := range vals {
			v[i] = x
			rec(i+1, v)
		}
	}
	rec(0, [6]int64{})
	if n != 46656 {
		t.Fatalf("checked %d vectors", n)
	}
}

func TestDerivable(t *testing.T) {
	t.Parallel()
	// Three channels; regions are numbered by their channel set (1 web, 2
	// messenger, 4 partner), bit r-1 in a derivable set.
	sets := func(known ...uint) map[string]bool {
		m := map[string]bool{}
		for _, s := range derivable(known, 3) {
			var rs []int
			for r := 1; r <= 7; r++ {
				if s&(1<<(r-1)) != 0 {
					rs = append(rs, r)
				}
			}
			m[fmt.Sprint(rs)] = true
		}
		return m
	}
	singles := sets(1, 2, 4)
	if !singles["[1 3 5 7]"] || singles["[1]"] || len(singles) != 3 {
		t.Errorf("from the channels' reach alone: %v", singles)
	}
	// Adding the total gives "customers not on c" for each c, e.g. regions
	// 2, 4, 6 (not on the web): what partnering added.
	withAll := sets(1, 2, 4, 7)
	if !withAll["[2 4 6]"] || withAll["[1]"] {
		t.Errorf("with the total: %v", withAll)
	}
	// Every union known: every region is.
	if all := sets(1, 2, 3, 4, 5, 6, 7); len(all) != 127 {
		t.Errorf("all unions give %d sets, want 127", len(all))
	}
}

func TestRegionsAll(t *testing.T) {
	t.Parallel()
	// Web 10 only, messenger 20 only, both 5, partner 7 only.
	u := func(n int64) vec { return vec{0, 0, n} }
	union := map[uint]vec{1: u(15), 2: u(25), 4: u(7), 3: u(35), 5: u(22), 6: u(32), 7: u(42), 0: {}}
	got := map[int]int64{}
	for r, v := range regionsAll(union, 3) {
		if v[2] != 0 {
			got[r] = v[2]
		}
	}
	if d := cmp.Diff(map[int]int64{1: 10, 2: 20, 3: 5, 4: 7}, got); d != "" {
		t.Errorf("regions (-want +got):\n%s", d)
	}
}
