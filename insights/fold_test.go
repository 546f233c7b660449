package insights

import (
	"testing"
	"time"
)

func TestSpanDays(t *testing.T) {
	t.Parallel()
	var s Span
	for _, d := range []Day{20, 3, 40, -5, 19} {
		s.set(d)
		if s.First == 0 && s.Last == 0 || d < s.First {
			s.First = d
		}
		s.Last = max(s.Last, d)
	}
	s.First = -5
	for _, tc := range []struct {
		d          Day
		prev, next Day
		hp, hn     bool
	}{
		{-6, 0, -5, false, true}, {3, -5, 19, true, true}, {25, 20, 40, true, true}, {41, 40, 0, true, false},
	} {
		p, hp := s.prev(tc.d)
		n, hn := s.next(tc.d)
		if p != tc.prev || hp != tc.hp || n != tc.next || hn != tc.hn {
			t.Errorf("around %d: prev %d,%v next %d,%v; want %d,%v %d,%v", tc.d, p, hp, n, hn, tc.prev, tc.hp, tc.next, tc.hn)
		}
	}
	if s.Origin%8 != 0 || s.Origin > -5 {
		t.Errorf("origin %d: not a multiple of 8 at or before the first day", s.Origin)
	}
	for _, d := range []Day{-5, 3, 19, 20, 40} {
		if !s.has(d) {
			t.Errorf("day %d lost", d)
		}
	}
	if s.has(4) || s.has(41) || s.has(-100) {
		t.Error("a day never set is there")
	}
	if got := len(s.weeks()); got != 4 { // -5 | 3 | 19, 20 | 40
		t.Errorf("weeks %v, want 4", s.weeks())
	}
}

func TestDaysAndWeeks(t *testing.T) {
	t.Parallel()
	monday := time.Date(2026, 3, 9, 23, 59, 0, 0, time.UTC)
	d := DayOf(monday)
	if d.String() != "2026-03-09" || d.Week().Start() != d || (d+6).Week() != d.Week() || (d+7).Week() != d.Week()+1 {
		t.Errorf("day %v week %v start %v", d, d.Week(), d.Week().Start())
	}
	if DayOf(time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC)) != -1 {
		t.Error("days before 1970 round down")
	}
	if BandOf(1990, monday).AgeBand() != "35-44" || BandOf(0, monday) != 0 || BandOf(1950, monday).AgeBand() != "65+" {
		t.Error("bands")
	}
}

func TestEventValidate(t *testing.T) {
	t.Parallel()
	ok := Event{At: time.Now(), Customer: 1, Channel: Web, Kind: Action, Intent: "balance"}
	for _, tc := range []struct {
		name string
		edit func(*Event)
		bad  bool
	}{
		{"Valid", func(*Event) {}, false},
		{"NoTime", func(e *Event) { e.At = time.Time{} }, true},
		{"NoCustomer", func(e *Event) { e.Customer = 0 }, true},
		{"UnknownChannel", func(e *Event) { e.Channel = "fax" }, true},
		{"UnknownKind", func(e *Event) { e.Kind = "click" }, true},
		{"IntentWithSpaces", func(e *Event) { e.Intent = "pay sam" }, true},
		{"IntentUpperCase", func(e *Event) { e.Intent = "Balance" }, true},
		{"AmountOnAnAction", func(e *Event) { e.Amount = 5 }, true},
		{"PaymentWithAmount", func(e *Event) { e.Kind, e.Amount = Payment, 5 }, false},
		{"NegativePayment", func(e *Event) { e.Kind, e.Amount = Payment, -5 }, true},
	} {
		e := ok
		tc.edit(&e)
		if err := e.Validate(); (err != nil) != tc.bad {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
