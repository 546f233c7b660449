package demo

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testOptions = Options{Customers: 10000, Days: 90, Seed: 1, Now: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}

func TestAgeMix(t *testing.T) {
	t.Parallel()
	const n = 10000
	band := map[string]int{}
	for i := range n {
		p := newProfile(testOptions, i, i/chunkSize*chunkSize, min(i/chunkSize*chunkSize+chunkSize, n))
		switch age := p.age; {
		case age < 18:
			t.Fatalf("customer %d is %d", i, age)
		case age <= 54:
			band["18-54"]++
		case age <= 75:
			band["55-75"]++
		default:
			band["76+"]++
		}
	}
	if s := float64(band["55-75"]) / n; s < 0.32 || s > 0.38 {
		t.Errorf("share aged 55-75 = %.3f; want about 0.35 (%v)", s, band)
	}
	if s := float64(band["76+"]) / n; s < 0.02 || s > 0.06 {
		t.Errorf("share over 75 = %.3f; want a few percent (%v)", s, band)
	}
}

func TestProfilesAreReproducibleAndUnique(t *testing.T) {
	t.Parallel()
	emails := map[string]int{}
	for i := range 3000 {
		lo := i / chunkSize * chunkSize
		a, b := newProfile(testOptions, i, lo, lo+chunkSize), newProfile(testOptions, i, lo, lo+chunkSize)
		if diff := cmp.Diff(a, b, cmp.AllowUnexported(profile{}, recurring{}, payeeSeed{})); diff != "" {
			t.Fatalf("customer %d differs between two draws:\n%s", i, diff)
		}
		if j, dup := emails[a.cust.Email]; dup {
			t.Errorf("customers %d and %d share %s", j, i, a.cust.Email)
		}
		emails[a.cust.Email] = i
		nick := map[string]bool{}
		for _, p := range a.payees {
			if nick[p.nickname] || p.to == i || p.to < lo || p.to >= lo+chunkSize {
				t.Errorf("customer %d: bad payee %+v", i, p)
			}
			nick[p.nickname] = true
		}
		if !strings.HasPrefix(a.cust.Phone, "+1 ") || !strings.Contains(a.cust.Phone, " 555 01") {
			t.Errorf("customer %d: phone %q is not a fictional 555-01xx number", i, a.cust.Phone)
		}
	}
	other := testOptions
	other.Seed = 2
	if newProfile(testOptions, 10, 0, 1000).cust.Name == newProfile(other, 10, 0, 1000).cust.Name &&
		newProfile(testOptions, 11, 0, 1000).cust.Name == newProfile(other, 11, 0, 1000).cust.Name {
		t.Error("another seed gives the same customers")
	}
	if p := newProfile(testOptions, 0, 0, 1000); p.cust.Email != CustomerEmail || len(p.payees) != 3 || !p.has[slotCredit] {
		t.Errorf("demo customer = %+v", p)
	}
}

func TestAccountNumbers(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, idx := range []int{0, 1, 9, 10, 999_999, MaxCustomers - 1} {
		for s := range nSlots {
			n := string(accountNumber(s, idx))
			if len(n) != 12 || !luhnValid(n) || seen[n] {
				t.Errorf("accountNumber(%d, %d) = %s: want 12 unique digits passing Luhn", s, idx, n)
			}
			seen[n] = true
		}
	}
	if got := fmt.Sprint(luhn("7992739871")); got != "3" { // the classic example
		t.Errorf("luhn(7992739871) = %s; want 3", got)
	}
}

func luhnValid(s string) bool {
	return luhn(s[:len(s)-1]) == int(s[len(s)-1]-'0')
}

func TestMerchantCodes(t *testing.T) {
	t.Parallel()
	// ISO 18245 codes the demo's categories must use.
	want := map[string][]string{
		"groceries": {"5411"}, "restaurants": {"5812"}, "fast_food": {"5814"}, "coffee": {"5814", "5812"},
		"fuel": {"5541", "5542"}, "pharmacy": {"5912"}, "utilities": {"4900"}, "telecom": {"4814", "4899"},
		"streaming": {"5815"}, "travel_air": {"4511"}, "lodging": {"7011"}, "department_store": {"5311", "5310"},
		"online_retail": {"5999"}, "books": {"5942"}, "rideshare": {"4121"}, "transit": {"4111"},
		"medical": {"8011", "8021"}, "insurance": {"6300"}, "food_delivery": {"5814"},
	}
	names := map[string]bool{}
	for _, m := range merchantSeeds {
		if names[m.Name] {
			t.Errorf("merchant %q twice", m.Name)
		}
		names[m.Name] = true
		if codes, ok := want[m.Category]; ok && !contains(codes, m.MCC) {
			t.Errorf("%s: MCC %s for %s; want one of %v", m.Name, m.MCC, m.Category, codes)
		}
	}
	for _, c := range cardCategories {
		if _, ok := categories[c]; !ok || len(merchantsByCategory[c]) == 0 {
			t.Errorf("card category %q has no definition or no merchant", c)
		}
	}
	if len(merchantSeeds) < 55 {
		t.Errorf("%d merchants; want about 60", len(merchantSeeds))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
