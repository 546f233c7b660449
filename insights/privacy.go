package insights

import (
	"math"
	"strconv"
)

// MinCustomers is the smallest number of customers a published cell may
// describe. A cell of fewer (zero included) is suppressed.
const MinCustomers = 10

// Count is a published number: of customers, or of events or money that
// ride on a count of customers. A suppressed Count carries no number at
// all, so nothing downstream (a template, a CSV) can leak it.
type Count struct {
	v  int64
	ok bool
}

// Suppressed is the Count that is not published.
var Suppressed = Count{}

// published returns v as a Count.
func published(v int64) Count { return Count{v, true} }

// Value returns the number and true, or 0 and false when suppressed.
func (c Count) Value() (int64, bool) { return c.v, c.ok }

// Suppressed reports whether the count is withheld.
func (c Count) Suppressed() bool { return !c.ok }

// String is the number in decimal, or "suppressed".
func (c Count) String() string {
	if !c.ok {
		return "suppressed"
	}
	return strconv.FormatInt(c.v, 10)
}

// Ratio is a published share or rate in [0, 1], or suppressed.
type Ratio struct {
	v  float64
	ok bool
}

// ratio divides two published counts; suppressed when either is, or when
// the denominator is zero.
func ratio(num, den Count) Ratio {
	if !num.ok || !den.ok || den.v == 0 {
		return Ratio{}
	}
	return Ratio{float64(num.v) / float64(den.v), true}
}

// Value returns the ratio and true, or 0 and false when suppressed.
func (r Ratio) Value() (float64, bool) { return r.v, r.ok }

// Suppressed reports whether the ratio is withheld.
func (r Ratio) Suppressed() bool { return !r.ok }

// String is the ratio as a percentage with one decimal, or "suppressed".
func (r Ratio) String() string {
	if !r.ok {
		return "suppressed"
	}
	return strconv.FormatFloat(math.Round(r.v*1000)/10, 'f', 1, 64) + "%"
}

// vec is one value per band: the cells of one figure across age bands, so
// that the complement rules can see every band at once.
type vec [nBands]int64

func (v vec) sum() int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}

// offered reports whether band b is one the page lets people select. The
// others (unknown, under 18) are never shown alone, so they count as
// hidden when checking what a total minus the shown bands reveals.
func offered(b Band) bool { return b >= 2 }

// small reports whether n is a group of 1 to MinCustomers-1 people: the
// disclosure the complement rules prevent (a difference of exactly zero
// describes no one).
func small(n int64) bool { return n > 0 && n < MinCustomers }

// protect decides which band cells of one figure are published, and
// whether its all-ages total is. vs[0] is the figure itself; further vectors
// (a complement, the regions of a Venn diagram) must not be recoverable
// either. primary marks the bands withheld for their own sake.
//
// The rule (secondary suppression over the age-band margin): the bands
// withheld, together with the bands never shown alone, must not add up, in
// any of vs, to a small group; and a band withheld for a reason other than
// its size (twoNeeded) must not be the only one withheld, or the total
// minus the others would give it back. While either fails, the smallest
// band still shown is withheld too; when none is left, the total is.
// Every page computes the same vectors, so every page makes the same
// choice, whichever band it shows.
func protect(vs []vec, primary [nBands]bool, twoNeeded bool) (hide [nBands]bool, hideTotal bool) {
	hide = primary
	for b := range hide {
		if !offered(Band(b)) {
			hide[b] = true
		}
	}
	for {
		bad := false
		nOffered := 0
		for b := range hide {
			if hide[b] && offered(Band(b)) {
				nOffered++
			}
		}
		for _, v := range vs {
			var s int64
			for b, h := range hide {
				if h {
					s += v[b]
				}
			}
			if small(s) {
				bad = true
			}
		}
		if twoNeeded && nOffered == 1 {
			bad = true
		}
		if !bad {
			return hide, false
		}
		pick, best := -1, int64(math.MaxInt64)
		for b, h := range hide {
			if !h && vs[0][b] < best {
				pick, best = b, vs[0][b]
			}
		}
		if pick < 0 {
			return hide, true
		}
		hide[pick] = true
	}
}

// family is one figure (a number of customers, with the events and money
// behind it) for every band, for all products and for the product filter.
type family struct {
	all, prod vec    // customers
	allS      []Sums // per band, for events and amounts
	prodS     []Sums
}

func newFamily() *family {
	return &family{allS: make([]Sums, nBands), prodS: make([]Sums, nBands)}
}

func (f *family) add(b Band, all, prod Sums) {
	f.all[b] += all.Customers
	f.prod[b] += prod.Customers
	f.allS[b].add(all)
	f.prodS[b].add(prod)
}

// figure is a family's published cell for one filter.
type figure struct {
	Customers, Events, Amount Count
}

// pick returns the published cell of the family for band (0: all ages) and
// product (0: any). Who is withheld depends only on the family's vectors,
// never on the filter asked for, so two pages cannot be played against
// each other along the age-band margin.
func (f *family) pick(band Band, product Product) figure {
	v, s := f.all, f.allS
	var primary [nBands]bool
	for b := range primary {
		primary[b] = v[b] < MinCustomers
	}
	vs := []vec{v}
	two := false
	totalComp := false
	if product != 0 {
		v, s = f.prod, f.prodS
		var comp vec
		for b := range comp {
			comp[b] = f.all[b] - f.prod[b]
			primary[b] = v[b] < MinCustomers
			// The customers of the band without the product are "all
			// products" minus this cell: a small group must not show.
			if small(comp[b]) && offered(Band(b)) {
				primary[b], two = true, true
			}
		}
		vs = []vec{v, comp}
		totalComp = small(comp.sum())
	}
	var hide [nBands]bool
	var hideTotal bool
	if totalComp {
		// The total is withheld anyway: no total to subtract from, so the
		// bands need no secondary suppression.
		hide, hideTotal = primary, true
	} else {
		hide, hideTotal = protect(vs, primary, two)
	}
	var n int64
	var sums Sums
	if band == 0 {
		if hideTotal || totalComp {
			return figure{Suppressed, Suppressed, Suppressed}
		}
		n = v.sum()
		for _, x := range s {
			sums.add(x)
		}
	} else {
		if int(band) >= nBands || hide[band] {
			return figure{Suppressed, Suppressed, Suppressed}
		}
		n, sums = v[band], s[band]
	}
	if n < MinCustomers {
		return figure{Suppressed, Suppressed, Suppressed}
	}
	return figure{published(n), published(sums.Events), published(sums.Amount)}
}
