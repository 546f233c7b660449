package channels

import (
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
)

// Engagement is told of what people do in the chats, for the engagement
// reports (package insights, wired in internal/app). Calls must be quick
// and must not block: the Recorder buffers.
type Engagement interface {
	// Chat is one message a person wrote on platform, handled at at (the
	// platform's date of the message): c is the linked customer (0 when the
	// chat is not linked, which the reports cannot count), intent what the
	// assistant understood, paid whether the message made a payment.
	Chat(platform string, c bankbridge.CustomerID, intent assistant.IntentKind, paid bool, at time.Time)
}

// EngagementFunc adapts a function to Engagement.
type EngagementFunc func(platform string, c bankbridge.CustomerID, intent assistant.IntentKind, paid bool, at time.Time)

// Chat implements Engagement.
func (f EngagementFunc) Chat(platform string, c bankbridge.CustomerID, intent assistant.IntentKind, paid bool, at time.Time) {
	f(platform, c, intent, paid, at)
}

// PaymentReceipt is the What of the disclosure the assistant attaches to
// the receipt of a payment it made: its presence among a turn's replies
// says the message paid.
const PaymentReceipt = "payment receipt"

// engaged reports one handled message to the Engagement, if any.
func (h *Hub) engaged(platform string, in assistant.Inbound, res assistant.Result) {
	h.mu.RLock()
	e := h.d.Engagement
	h.mu.RUnlock()
	if e == nil || res.Customer == 0 {
		return
	}
	paid := false
	for _, r := range res.Replies {
		if r.Disclosure != nil && r.Disclosure.What == PaymentReceipt {
			paid = true
		}
	}
	at := in.At
	if at.IsZero() {
		at = h.d.Now()
	}
	e.Chat(platform, res.Customer, res.Intent, paid, at.UTC())
}

// SetEngagement sets the Engagement after the Hub was built (serve builds
// the hub before the engagement recorder is wired to it); call it before
// the hub handles messages.
func (h *Hub) SetEngagement(e Engagement) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.d.Engagement = e
}
