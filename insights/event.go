package insights

import (
	"fmt"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// Channel is where a customer met the bank: the bank's own web app, a
// messaging platform, a partner's app through the data API.
type Channel string

// The channels. Own reports which of them the bank owns; the others are
// platforms and partners.
const (
	Web        Channel = "web"         // the bank's own app (web package)
	Messenger  Channel = "messenger"   // the assistant inside Facebook Messenger
	Telegram   Channel = "telegram"    // the assistant inside Telegram
	WhatsApp   Channel = "whatsapp"    // the assistant inside WhatsApp
	PartnerAPI Channel = "partner_api" // a third party's app, with the customer's consent
)

// Channels lists every channel events may name, the bank's own first. A new
// channel is added here (see doc.go for what that means for the rollups).
var Channels = []Channel{Web, Messenger, Telegram, WhatsApp, PartnerAPI}

// Own reports whether the bank owns the channel (as opposed to reaching its
// customers through someone else's platform).
func (c Channel) Own() bool { return c == Web }

// Known reports whether c is one of Channels.
func (c Channel) Known() bool {
	for _, k := range Channels {
		if k == c {
			return true
		}
	}
	return false
}

// Label is the channel's name for people.
func (c Channel) Label() string {
	switch c {
	case Web:
		return "Web app (own)"
	case Messenger:
		return "Messenger"
	case Telegram:
		return "Telegram"
	case WhatsApp:
		return "WhatsApp"
	case PartnerAPI:
		return "Partner apps"
	}
	return string(c)
}

// Kind is what happened.
type Kind string

// The kinds of event.
const (
	Session       Kind = "session"        // the customer signed in or opened a conversation
	Action        Kind = "action"         // the customer did something in an app (Intent names it)
	Intent        Kind = "intent"         // the assistant understood a request (Intent names it)
	Payment       Kind = "payment"        // money sent, Amount in minor units of the bank's currency
	AlertSent     Kind = "alert_sent"     // an alert was delivered (not engagement by itself)
	AlertOpened   Kind = "alert_opened"   // the customer opened it
	AlertAnswered Kind = "alert_answered" // the customer answered it ("was this you?")
)

// Kinds lists the kinds of event.
var Kinds = []Kind{Session, Action, Intent, Payment, AlertSent, AlertOpened, AlertAnswered}

// Engaged reports whether an event of this kind shows the customer engaging
// (an alert merely sent does not).
func (k Kind) Engaged() bool { return k != AlertSent }

// Product is a kind of product a customer holds, as a bit so that a
// customer's holding is a Products set.
type Product uint8

// The products.
const (
	Checking   Product = 1 << iota // a checking account
	Savings                        // a savings account
	CreditCard                     // a credit card
)

// ProductList lists the products in order, for filters and reports.
var ProductList = []Product{Checking, Savings, CreditCard}

// Products is a set of products.
type Products uint8

// Has reports whether the set holds p.
func (s Products) Has(p Product) bool { return uint8(s)&uint8(p) != 0 }

// String names a product for URLs and CSV.
func (p Product) String() string {
	switch p {
	case Checking:
		return "checking"
	case Savings:
		return "savings"
	case CreditCard:
		return "credit_card"
	}
	return ""
}

// Label names a product for people.
func (p Product) Label() string {
	switch p {
	case Checking:
		return "Checking"
	case Savings:
		return "Savings"
	case CreditCard:
		return "Credit card"
	}
	return "Any product"
}

// ParseProduct reads a product name; "" is no product (no filter).
func ParseProduct(s string) (Product, error) {
	if s == "" {
		return 0, nil
	}
	for _, p := range ProductList {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, ErrFilter.WithMessage(fmt.Sprintf("unknown product %q", s))
}

// ProductsOf is the set of products a customer's accounts add up to.
func ProductsOf(accts []ledger.Account) Products {
	var s Products
	for _, a := range accts {
		if a.Status == ledger.Closed {
			continue
		}
		switch a.Kind {
		case ledger.Checking:
			s |= Products(Checking)
		case ledger.Savings:
			s |= Products(Savings)
		case ledger.CreditCard:
			s |= Products(CreditCard)
		}
	}
	return s
}

// Band is an age band in storage: 0 unknown, then identity's bands in order.
type Band uint8

// bandNames maps Band to identity's bands; index 0 is unknown.
var bandNames = []identity.AgeBand{"", identity.AgeUnder18, identity.Age18to24, identity.Age25to34,
	identity.Age35to44, identity.Age45to54, identity.Age55to64, identity.Age65Plus}

// nBands is the number of Band values, unknown included.
const nBands = 8

// BandOf returns the band of someone born in birthYear at the time at; 0
// (unknown) when the birth year is not known.
func BandOf(birthYear int, at time.Time) Band {
	if birthYear <= 0 {
		return 0
	}
	ab := identity.Customer{BirthYear: birthYear}.AgeBand(at)
	for i, n := range bandNames {
		if n == ab {
			return Band(i)
		}
	}
	return 0
}

// AgeBand returns identity's name of the band, "" for unknown.
func (b Band) AgeBand() identity.AgeBand {
	if int(b) < len(bandNames) {
		return bandNames[b]
	}
	return ""
}

// ParseBand reads an age band such as "55-64"; "" is no band (no filter).
func ParseBand(s string) (Band, error) {
	if s == "" {
		return 0, nil
	}
	for i, n := range bandNames {
		if i > 1 && string(n) == s { // under-18 is not offered as a filter
			return Band(i), nil
		}
	}
	return 0, ErrFilter.WithMessage(fmt.Sprintf("unknown age band %q", s))
}

// FilterBands lists the bands the page offers, in order.
func FilterBands() []Band { return []Band{2, 3, 4, 5, 6, 7} }

// Day is a UTC calendar day, counted from 1970-01-01.
type Day int32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	s := t.UTC().Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	return Day(d)
}

// Time returns the start (00:00 UTC) of the day.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as 2006-01-02.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// Week returns the ISO-style week (Monday to Sunday) that holds the day,
// counted so that consecutive weeks differ by one.
func (d Day) Week() Week {
	// 1970-01-01 was a Thursday: shift so that weeks start on Mondays.
	x := int32(d) + 3
	if x < 0 {
		return Week((x - 6) / 7)
	}
	return Week(x / 7)
}

// Week is a Monday-to-Sunday week, counted from the week of 1970-01-01.
type Week int32

// Start is the Monday of the week.
func (w Week) Start() Day { return Day(int32(w)*7 - 3) }

// Event is one thing a customer did (or an alert sent to them) on one
// channel. Events are recorded through a Recorder and folded into rollups;
// they are never stored one by one.
type Event struct {
	At       time.Time
	Customer bankbridge.CustomerID
	Channel  Channel
	Kind     Kind
	// Intent names what the customer wanted, for actions, assistant intents
	// and payments: "balance", "history", "payment", "card", "help"... One
	// vocabulary across channels, so that the mix can be compared.
	Intent string
	// Amount is a payment's value in minor units of the bank's currency.
	Amount ledger.Amount
	// BirthYear and Products are the customer's segment when the event
	// happened. Callers may leave them zero: the Recorder fills them in from
	// its Segments source. A bulk loader sets them (Segmented true).
	BirthYear int
	Products  Products
	// Segmented says BirthYear and Products are set (even if zero).
	Segmented bool
}

// maxIntent bounds an intent name; intents are a small vocabulary.
const maxIntent = 32

// Validate reports what is wrong with e, as ErrEvent.
func (e Event) Validate() error {
	switch {
	case e.At.IsZero():
		return ErrEvent.WithMessage("an event needs a time")
	case e.Customer <= 0:
		return ErrEvent.WithMessage("an event needs a customer")
	case !e.Channel.Known():
		return ErrEvent.WithMessage(fmt.Sprintf("unknown channel %q", e.Channel))
	case !knownKind(e.Kind):
		return ErrEvent.WithMessage(fmt.Sprintf("unknown kind %q", e.Kind))
	case len(e.Intent) > maxIntent || strings.ContainsAny(e.Intent, " \t\r\n,;\"") || strings.ToLower(e.Intent) != e.Intent:
		return ErrEvent.WithMessage("an intent is a short lower-case word")
	case e.Amount < 0 || (e.Amount > 0 && e.Kind != Payment):
		return ErrEvent.WithMessage("only a payment has an amount, and it is not negative")
	}
	return nil
}

func knownKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Errors of the package.
var (
	// ErrEvent answers an event that cannot be recorded.
	ErrEvent = bankbridge.E(bankbridge.Invalid, "insights_event_invalid", "the engagement event is not valid")
	// ErrFilter answers a report filter out of range.
	ErrFilter = bankbridge.E(bankbridge.Invalid, "insights_filter_invalid", "the report filter is not valid")
)
