package messenger

// The Messenger Platform's JSON, as far as the bank uses it. Field names
// are the platform's.

// Notification is a webhook body: object "page" and its entries.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one page's batch of events: Messaging when the bank's app owns
// the thread (or it is idle), Standby when another app does (handover
// protocol).
type Entry struct {
	ID        string  `json:"id"`
	Time      int64   `json:"time"`
	Messaging []Event `json:"messaging,omitempty"`
	Standby   []Event `json:"standby,omitempty"`
}

// Event is one messaging event; one of Message, Postback, AccountLinking
// and the handover protocol's three is set.
type Event struct {
	Sender               Party           `json:"sender"`
	Recipient            Party           `json:"recipient"`
	Timestamp            int64           `json:"timestamp"` // Unix milliseconds
	Message              *InMessage      `json:"message,omitempty"`
	Postback             *Postback       `json:"postback,omitempty"`
	AccountLinking       *AccountLinking `json:"account_linking,omitempty"`
	PassThreadControl    *Handover       `json:"pass_thread_control,omitempty"`
	TakeThreadControl    *Handover       `json:"take_thread_control,omitempty"`
	RequestThreadControl *Handover       `json:"request_thread_control,omitempty"`
}

// Handover is a messaging_handovers event's body
// (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_handovers):
// who owned the thread, who owns it now (or asks to), and the metadata
// the other app passed.
type Handover struct {
	NewOwnerAppID       string `json:"new_owner_app_id,omitempty"`
	PreviousOwnerAppID  string `json:"previous_owner_app_id,omitempty"`
	RequestedOwnerAppID string `json:"requested_owner_app_id,omitempty"`
	Metadata            string `json:"metadata,omitempty"`
}

// Party is a sender or recipient: a page-scoped id (PSID) or the page id.
type Party struct {
	ID string `json:"id"`
}

// InMessage is a message a person sent.
type InMessage struct {
	MID        string      `json:"mid"`
	Text       string      `json:"text,omitempty"`
	QuickReply *QuickReply `json:"quick_reply,omitempty"`
	IsEcho     bool        `json:"is_echo,omitempty"`
}

// Postback is a tap on a postback button.
type Postback struct {
	MID     string `json:"mid,omitempty"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// AccountLinking is the account_linking event: status "linked" with the
// authorization code the bank passed back, or "unlinked".
type AccountLinking struct {
	Status            string `json:"status"`
	AuthorizationCode string `json:"authorization_code,omitempty"`
}

// SendRequest is a Send API request body.
type SendRequest struct {
	Recipient     Recipient `json:"recipient"`
	MessagingType string    `json:"messaging_type"` // RESPONSE, UPDATE or MESSAGE_TAG
	Tag           string    `json:"tag,omitempty"`  // with MESSAGE_TAG: ACCOUNT_UPDATE, HUMAN_AGENT...
	Message       *Message  `json:"message"`
}

// Recipient names who a message goes to.
type Recipient struct {
	ID string `json:"id"`
}

// Message is an outgoing message: text or a template, with quick replies.
type Message struct {
	Text         string       `json:"text,omitempty"`
	Attachment   *Attachment  `json:"attachment,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
}

// QuickReply is a quick reply, outgoing (content_type, title, payload) or
// incoming (payload).
type QuickReply struct {
	ContentType string `json:"content_type,omitempty"`
	Title       string `json:"title,omitempty"`
	Payload     string `json:"payload"`
}

// Attachment carries a template.
type Attachment struct {
	Type    string           `json:"type"` // "template"
	Payload *TemplatePayload `json:"payload"`
}

// TemplatePayload is a button template.
type TemplatePayload struct {
	TemplateType string   `json:"template_type"` // "button"
	Text         string   `json:"text"`
	Buttons      []Button `json:"buttons"`
}

// Button is a template button: web_url, postback or account_link.
type Button struct {
	Type    string `json:"type"`
	Title   string `json:"title,omitempty"`
	URL     string `json:"url,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// GraphError is the Graph API's error body.
type GraphError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode,omitempty"`
	TraceID string `json:"fbtrace_id,omitempty"`
}
