package rails

import (
	"time"
	_ "time/tzdata" // the cut-offs are Eastern time wherever the bank runs

	"github.com/moov-io/base"
)

// The FedACH operator's day runs on Eastern time.
var eastern = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// SameDayCutoffs are the FedACH deadlines for same-day forward files, Eastern
// time: 10:30, 14:45 and 16:45, settling at 13:00, 17:00 and 18:00
// (FedACH processing schedule,
// https://www.frbservices.org/resources/financial-services/ach/processing-schedule,
// "Same Day ACH" windows).
var SameDayCutoffs = []struct{ Hour, Minute int }{{10, 30}, {14, 45}, {16, 45}}

// Schedule says when a payment accepted at a moment settles.
type Schedule struct {
	// Cutoffs are the same-day windows' deadlines; nil means
	// SameDayCutoffs. A bank sets earlier ones to leave itself time.
	Cutoffs []struct{ Hour, Minute int }
}

// Effective returns the settlement date of a payment accepted at at, and
// whether it goes same day: a same-day payment accepted on a banking day
// before the last same-day cut-off settles that day; any other (same day
// asked too late, on a weekend or a Federal Reserve holiday, or not asked)
// settles on the next banking day, as the NACHA rules let an ODFI send a
// forward entry dated one banking day ahead. The date is midnight UTC of the
// Eastern calendar day.
func (s Schedule) Effective(at time.Time, sameDay bool) (time.Time, bool) {
	cut := s.Cutoffs
	if cut == nil {
		cut = SameDayCutoffs
	}
	et := at.In(eastern)
	day := base.NewTime(et)
	if sameDay && day.IsBankingDay() && len(cut) > 0 {
		last := cut[len(cut)-1]
		deadline := time.Date(et.Year(), et.Month(), et.Day(), last.Hour, last.Minute, 0, 0, eastern)
		if et.Before(deadline) {
			return dateOf(et), true
		}
	}
	next := day.AddBankingDay(1)
	return dateOf(next.Time), false
}

// Window returns the same-day window a payment accepted at at goes in: the
// deadline of the next same-day cut-off that day, or zero when none is left.
func (s Schedule) Window(at time.Time) time.Time {
	cut := s.Cutoffs
	if cut == nil {
		cut = SameDayCutoffs
	}
	et := at.In(eastern)
	if !base.NewTime(et).IsBankingDay() {
		return time.Time{}
	}
	for _, c := range cut {
		d := time.Date(et.Year(), et.Month(), et.Day(), c.Hour, c.Minute, 0, 0, eastern)
		if et.Before(d) {
			return d.UTC()
		}
	}
	return time.Time{}
}

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
