package insights

// Metrics a facet counts. A facet is one (metric, channel, detail): the set
// of customers who did that thing on that channel (or channel group) on a
// day, with the events and amounts behind it.
const (
	MetricActive        = "active"         // engaged at all
	MetricIntent        = "intent"         // detail: the intent
	MetricPayment       = "payment"        // paid
	MetricAlertSent     = "alert_sent"     // was sent an alert
	MetricAlertOpened   = "alert_opened"   // opened one
	MetricAlertAnswered = "alert_answered" // answered one
)

// Channel groups a facet may name besides the channels themselves. The
// "all but c" groups (GroupExcept) let the strategy summary count the
// customers only channel c reaches.
const (
	GroupAll      = "all"      // any channel
	GroupOwn      = "own"      // any channel the bank owns
	GroupPlatform = "platform" // any channel the bank does not own
)

// GroupExcept names the group of every channel but c.
func GroupExcept(c Channel) string { return "-" + string(c) }

// Facet names one rollup series.
type Facet struct {
	Metric  string
	Channel string // a Channel or a group
	Detail  string // the intent for MetricIntent, else ""
}

// FacetID is a facet's number in storage.
type FacetID int32

// maxFacets bounds facet ids: a span key packs a customer and a facet into
// 64 bits (see SpanKey).
const maxFacets = 1 << 16

// FacetsOf appends to out the facets one event counts in.
func FacetsOf(e Event, out []Facet) []Facet {
	ch := string(e.Channel)
	if e.Kind.Engaged() {
		out = append(out, Facet{MetricActive, ch, ""}, Facet{MetricActive, GroupAll, ""})
		if e.Channel.Own() {
			out = append(out, Facet{MetricActive, GroupOwn, ""})
		} else {
			out = append(out, Facet{MetricActive, GroupPlatform, ""})
		}
		for _, c := range Channels {
			if c != e.Channel {
				out = append(out, Facet{MetricActive, GroupExcept(c), ""})
			}
		}
	}
	if e.Intent != "" && (e.Kind == Action || e.Kind == Intent || e.Kind == Payment) {
		out = append(out, Facet{MetricIntent, ch, e.Intent}, Facet{MetricIntent, GroupAll, e.Intent})
	}
	var m string
	switch e.Kind {
	case Payment:
		m = MetricPayment
	case AlertSent:
		m = MetricAlertSent
	case AlertOpened:
		m = MetricAlertOpened
	case AlertAnswered:
		m = MetricAlertAnswered
	}
	if m != "" {
		out = append(out, Facet{m, ch, ""}, Facet{m, GroupAll, ""})
	}
	return out
}
