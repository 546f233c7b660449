package assistant

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
	"github.com/bankbridge/bankbridge/limits"
)

// Consents is what the assistant needs from the consent capability: is a
// link's consent still in force, and ending it when the customer unlinks.
// *consent.Service implements it.
type Consents interface {
	Check(ctx context.Context, id consent.GrantID) (consent.Grant, consent.Partner, error)
	Revoke(ctx context.Context, id consent.GrantID, by, reason string) (consent.Grant, error)
}

// Deps is what an Assistant needs. Store, Ledger, Consents and BankURL are
// required.
type Deps struct {
	Store    Store
	Ledger   *ledger.Service
	Consents Consents
	// BankURL is the bank's own web app ("https://bank.example"): minimal
	// replies and step-ups link there.
	BankURL string
	// Limits is the bank's payment limits, the same guard as the web's and
	// the partner API's: past a limit the chat refuses, and when the
	// customer's 24-hour total would pass the step-up amount the customer
	// pays on the bank's own page, with a TOTP step-up (a chat cannot step
	// up). Without it the chat makes no payments.
	Limits *limits.Guard
	// StepUpLimit is shown as the step-up amount. Default: the step-up
	// amount of Limits, or 1,000.00.
	StepUpLimit ledger.Amount
	// Pause is how long a silence must be before the assistant says again
	// that it is automated. Default 12 hours.
	Pause time.Duration
	// ConfirmTTL is how long a confirmation waits. Default 5 minutes.
	ConfirmTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Answer, when set, is offered every payload tapped in a linked chat
	// before the assistant reads it (an alert's "was this you?" quick
	// replies), with the link's customer, even while a person has the
	// conversation. handled false passes the payload on; otherwise text is
	// the one reply. An error fails the message (the hub apologises).
	Answer func(ctx context.Context, c bankbridge.CustomerID, payload string) (text string, handled bool, err error)
	// Fraud, when set, opens the fraud case staff follow in the console
	// when a customer reports a card payment as not theirs. Without it the
	// card is frozen all the same and the conversation goes to a person.
	Fraud FraudDesk
	// Rails, when set, pays payees at other banks ("pay Sam 20" when Sam
	// banks elsewhere) and answers "status of my payment".
	Rails Rails
}

// FraudDesk opens fraud cases: the console's fraud cases, which staff
// follow up. *alerts.Service implements it through the wiring.
type FraudDesk interface {
	// Report opens the case of a card payment the customer says they did
	// not make, or returns the one already open for it (a report that
	// arrives twice opens one case), and returns its reference.
	Report(ctx context.Context, r FraudReport) (caseRef string, err error)
}

// FraudReport is a card payment a customer reported from a chat.
type FraudReport struct {
	Customer bankbridge.CustomerID
	Transfer ledger.TransferID
	Account  ledger.AccountID
	Card     ledger.CardID // the card frozen; 0 when the account has none
	Amount   ledger.Amount // positive
	Currency ledger.Currency
	Channel  string // "chat:messenger"
}

// Assistant answers people on messaging platforms. It is safe for
// concurrent use; messages of one conversation are handled one at a time.
type Assistant struct {
	d     Deps
	locks [64]sync.Mutex // by conversation hash: one message of a conversation at a time
}

// DefaultStepUpLimit is the largest payment from chat without going to the
// bank's page: 1,000.00.
const DefaultStepUpLimit ledger.Amount = 100000

// New returns an Assistant.
func New(d Deps) *Assistant {
	if d.StepUpLimit <= 0 && d.Limits != nil {
		d.StepUpLimit = d.Limits.Policy().StepUp
	}
	if d.StepUpLimit <= 0 {
		d.StepUpLimit = DefaultStepUpLimit
	}
	if d.Pause <= 0 {
		d.Pause = 12 * time.Hour
	}
	if d.ConfirmTTL <= 0 {
		d.ConfirmTTL = 5 * time.Minute
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.BankURL = strings.TrimSuffix(d.BankURL, "/")
	return &Assistant{d: d}
}

// Store returns the assistant's store.
func (a *Assistant) Store() Store { return a.d.Store }

func (a *Assistant) now() time.Time { return a.d.Now().UTC().Truncate(time.Microsecond) }

// Lock serialises work on one conversation (inbound messages, staff
// replies, hand-back) within this process; call the returned func to
// unlock.
func (a *Assistant) Lock(k Key) func() {
	h := uint32(2166136261)
	for _, s := range []string{k.Platform, "\x00", k.User} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint32(s[i])) * 16777619
		}
	}
	m := &a.locks[h%uint32(len(a.locks))]
	m.Lock()
	return m.Unlock
}

// Inbound is a message from a person: free text, or the payload of a quick
// reply or postback (then Text is its title).
type Inbound struct {
	Key
	Text    string
	Payload string
	At      time.Time
}

// Result is what handling one message produced.
type Result struct {
	Replies  []Reply
	Customer bankbridge.CustomerID // 0 when the chat is not linked
	Grant    consent.GrantID
	Intent   IntentKind
	// HandedOver says the conversation just went to a person.
	HandedOver bool
	// Unlinked says the customer unlinked from the chat: the channel tells
	// the platform.
	Unlinked bool
}

// turn is one message being handled: the conversation, the link (if any)
// and its consent.
type turn struct {
	a        *Assistant
	ctx      context.Context
	conv     Conversation
	linked   bool
	link     Link
	grant    consent.Grant
	settings Settings
	now      time.Time
	res      Result
	lang     Language // the replies' language
}

// Handle answers one inbound message. It records the message in the
// transcript, and, unless a person has the conversation, answers it. It
// never moves money without an explicit confirmation, and discloses data
// only while the chat's link and its consent are in force.
func (a *Assistant) Handle(ctx context.Context, in Inbound) (Result, error) {
	defer a.Lock(in.Key)()
	now := a.now()
	conv, err := a.d.Store.Conversation(ctx, in.Key)
	if errors.Is(err, ErrNoConversation) {
		conv, err = Conversation{Key: in.Key, Mode: ModeBot}, nil
	}
	if err != nil {
		return Result{}, err
	}
	intro := conv.LastIn.IsZero() || now.Sub(conv.LastIn) >= a.d.Pause
	t := &turn{a: a, ctx: ctx, conv: conv, now: now}
	if err := t.loadLink(); err != nil {
		return Result{}, err
	}
	// Chat text is answered, not refused: what a reader would not see is
	// removed before it is kept, parsed or echoed (a payee name, a note).
	in.Text = legible.Clean(in.Text)
	text := in.Text
	if utf8.RuneCountInString(text) > MaxText || len(text) > 4*MaxText {
		text = string([]rune(truncate(text, 200)))
	}
	if err := a.d.Store.AppendMessage(ctx, Message{Key: in.Key, At: now, Dir: In, Text: text}); err != nil {
		return Result{}, err
	}
	t.conv.LastIn = now

	if in.Payload != "" && t.linked && a.d.Answer != nil {
		text, ok, err := a.d.Answer(ctx, t.link.Customer, in.Payload)
		if err != nil {
			return Result{}, err
		}
		if ok {
			t.say(text)
			return t.res, a.finish(ctx, &t.conv, t.res.Replies, "assistant")
		}
	}

	if t.conv.Mode == ModeHuman {
		// A person has the conversation: staff read it in the inbox.
		t.conv.Updated = now
		return t.res, a.d.Store.SaveConversation(ctx, t.conv)
	}

	var intent Intent
	switch {
	case len(in.Text) > 4*MaxText || utf8.RuneCountInString(in.Text) > MaxText:
		t.say("That message is too long for me. Please ask in a few words, like \"balance\" or \"pay Sam 20\".")
		intent.Kind = Unknown
	case in.Payload != "":
		intent = ParsePayload(in.Payload, now)
	default:
		intent = Parse(in.Text, now)
	}
	t.res.Intent = intent.Kind
	// The replies' language: the customer's choice, else the message's.
	// A Spanish message from a customer who never chose is answered in
	// Spanish, with an offer to keep it.
	t.lang = t.settings.Language
	offer := false
	if t.lang == "" {
		t.lang = English
		if intent.Lang == Spanish {
			t.lang, offer = Spanish, t.linked
		}
	}
	if len(t.res.Replies) == 0 {
		if err := t.dispatch(intent); err != nil {
			return Result{}, err
		}
	}
	if offer && intent.Kind != SetLanguage && t.settings.Language == "" && len(t.res.Replies) > 0 && t.conv.waiting() == nil {
		// Quick replies show under the last message only: the offer joins
		// it, when nothing else is being asked.
		last := &t.res.Replies[len(t.res.Replies)-1]
		if len(last.Choices)+2 <= 11 {
			last.Text += "\n\n" + t.tr("Shall I always answer you in Spanish?")
			last.Choices = append(last.Choices, Choice{"Español siempre", payloadLang + string(Spanish)}, Choice{"English", payloadLang + string(English)})
		}
	}
	if auto := t.tr(Automated); intro && len(t.res.Replies) > 0 && !strings.HasPrefix(t.res.Replies[0].Text, auto) {
		t.res.Replies[0].Text = auto + " " + t.res.Replies[0].Text
	}
	return t.res, a.finish(ctx, &t.conv, t.res.Replies, "assistant")
}

// finish saves the conversation and appends the replies to the transcript.
func (a *Assistant) finish(ctx context.Context, conv *Conversation, replies []Reply, author string) error {
	now := a.now()
	if len(replies) > 0 {
		conv.LastOut = now
	}
	conv.Updated = now
	if err := a.d.Store.SaveConversation(ctx, *conv); err != nil {
		return err
	}
	for _, r := range replies {
		if err := a.d.Store.AppendMessage(ctx, Message{Key: conv.Key, At: now, Dir: Out, Author: author, Text: r.Text}); err != nil {
			return err
		}
	}
	return nil
}

// loadLink finds the chat's link and checks its consent; a link whose
// consent ended is removed, so it discloses nothing again.
func (t *turn) loadLink() error {
	l, err := t.a.d.Store.Link(t.ctx, t.conv.Key)
	if errors.Is(err, ErrNotLinked) {
		return nil
	}
	if err != nil {
		return err
	}
	g, _, err := t.a.d.Consents.Check(t.ctx, l.Grant)
	switch {
	case err == nil:
	case bankbridge.ErrorKind(err) == bankbridge.Forbidden || bankbridge.ErrorKind(err) == bankbridge.NotFound:
		if _, err := t.a.d.Store.DeleteLink(t.ctx, l.Key); err != nil {
			return err
		}
		return nil
	default:
		return err
	}
	s, err := t.a.d.Store.Settings(t.ctx, l.Customer)
	if err != nil {
		return err
	}
	t.linked, t.link, t.grant, t.settings = true, l, g, s
	t.res.Customer, t.res.Grant = l.Customer, l.Grant
	return nil
}

// say adds a reply in the turn's language: text, and the titles of its
// choices and buttons, are translated when the catalog has them (a text
// made with t.f is translated already).
func (t *turn) say(text string, extra ...func(*Reply)) *Reply {
	r := Reply{Text: t.tr(text)}
	for _, f := range extra {
		f(&r)
	}
	r.Choices = slices.Clone(r.Choices)
	for i := range r.Choices {
		r.Choices[i].Title = t.tr(r.Choices[i].Title)
	}
	r.Buttons = slices.Clone(r.Buttons)
	for i := range r.Buttons {
		r.Buttons[i].Title = t.tr(r.Buttons[i].Title)
	}
	t.res.Replies = append(t.res.Replies, r)
	return &t.res.Replies[len(t.res.Replies)-1]
}

// tr translates s into the turn's language, when the catalog has it.
func (t *turn) tr(s string) string { return Translate(t.lang, s) }

// f formats a reply: the format translated first, so each language keeps
// its own word order.
func (t *turn) f(format string, args ...any) string { return fmt.Sprintf(t.tr(format), args...) }

func withChoices(cs ...Choice) func(*Reply) {
	return func(r *Reply) { r.Choices = append(r.Choices, cs...) }
}
func withButtons(bs ...Button) func(*Reply) {
	return func(r *Reply) { r.Buttons = append(r.Buttons, bs...) }
}

var (
	choiceBalance = Choice{"Balance", payloadIntent + "balance"}
	choiceRecent  = Choice{"Recent activity", payloadIntent + "recent_transactions"}
	choiceSpend   = Choice{"Spending", payloadIntent + "spending_this_month"}
	choiceHuman   = Choice{"Talk to a person", payloadIntent + "talk_to_a_person"}
	choiceHelp    = Choice{"Help", payloadIntent + "help"}
	linkButton    = Button{Kind: ButtonLinkAccount, Title: "Link your account"}
)

func (t *turn) bankButton(title, path string) Button {
	return Button{Kind: ButtonURL, Title: title, URL: t.a.d.BankURL + path}
}

// dispatch answers an intent.
func (t *turn) dispatch(in Intent) error {
	switch in.Kind {
	case Greeting:
		if t.linked {
			t.say("Hi! What can I do for you?", withChoices(choiceBalance, choiceRecent, choiceSpend, choiceHelp))
		} else {
			t.say("Hi! Link your bank account to check balances, see recent activity and pay people here.", withButtons(linkButton), withChoices(choiceHelp))
		}
	case Help:
		t.help("")
	case Thanks:
		t.say("You're welcome.")
	case Unknown:
		t.help("Sorry, I didn't understand that, and I only act on requests I'm sure of.")
	case LinkAccount:
		if t.linked {
			t.say("This chat is already linked to your bank account. Say \"unlink\" to disconnect it.")
		} else {
			t.say("Tap the button to log in to the bank and choose what this chat may see.", withButtons(linkButton))
		}
	case SetLanguage:
		return t.setLanguage(in)
	case Human:
		t.conv.Mode, t.conv.HandedAt, t.conv.Pending = ModeHuman, t.now, nil
		t.res.HandedOver = true
		t.say("I'm passing this conversation to a person at the bank. They will answer here, usually within a few hours. Anything you write now goes to them.")
	default:
		if !t.linked {
			t.say("To do that I need your bank account linked to this chat. It takes a minute, and you choose what it may see.", withButtons(linkButton))
			return nil
		}
		return t.linkedIntent(in)
	}
	return nil
}

func (t *turn) help(prefix string) {
	msg := t.tr("I can show your balance, your recent activity and your spending (\"how much did I spend on food this week\"), " +
		"pay someone you saved as a payee (\"pay Sam 20\"), move money between your accounts (\"move 50 from checking to savings\"), " +
		"freeze your card or report a payment you didn't make, change alerts, privacy and language (\"español\"), " +
		"or pass you to a person (\"talk to a person\").")
	if prefix != "" {
		msg = t.tr(prefix) + " " + msg
	}
	if !t.linked {
		t.say(msg+" "+t.tr("First, link your bank account."), withButtons(linkButton), withChoices(choiceHuman))
		return
	}
	t.say(msg, withChoices(choiceBalance, choiceRecent, choiceSpend, choiceHuman))
}

func (t *turn) linkedIntent(in Intent) error {
	switch in.Kind {
	case Balance:
		return t.balance(in)
	case Transactions:
		return t.transactions(in)
	case Spending:
		return t.spending(in)
	case Pay:
		return t.pay(in)
	case Transfer:
		return t.transfer(in)
	case PaymentStatus:
		return t.paymentStatus()
	case Collect:
		return t.collect(in)
	case Fraud:
		return t.fraud(in)
	case Confirm:
		return t.confirm(in)
	case Cancel:
		p := t.conv.waiting()
		if p == nil || (in.Ref != "" && in.Ref != p.ID) {
			t.say("There is nothing waiting to cancel.")
			return nil
		}
		t.conv.Pending = nil
		if p.Action == Fraud {
			t.say("Thanks for checking. Nothing was changed, and your card works as before.")
			return nil
		}
		t.say("Cancelled. Nothing was changed.")
	case FreezeCard:
		return t.freeze(in)
	case UnfreezeCard:
		return t.unfreeze(in)
	case Alerts:
		return t.alerts(in)
	case Privacy:
		return t.privacy(in)
	case UnlinkAccount:
		return t.unlink()
	}
	return nil
}

// accounts returns the customer's open or frozen accounts the consent
// covers for cluster, matching the hint.
func (t *turn) accounts(cluster consent.Cluster, hint AccountHint) ([]ledger.Account, error) {
	all, err := t.a.d.Ledger.Store().CustomerAccounts(t.ctx, t.link.Customer)
	if err != nil {
		return nil, err
	}
	var out []ledger.Account
	for _, acct := range all {
		if acct.Status == ledger.Closed || !t.grant.Covers(acct.ID, cluster) {
			continue
		}
		switch hint {
		case CheckingHint:
			if acct.Kind != ledger.Checking {
				continue
			}
		case SavingsHint:
			if acct.Kind != ledger.Savings {
				continue
			}
		case CardHint:
			if acct.Kind != ledger.CreditCard {
				continue
			}
		}
		out = append(out, acct)
	}
	return out, nil
}

// private answers a data question under the customer's privacy setting
// when it is not "full": true when it answered.
func (t *turn) private(ready, path string) bool {
	switch t.settings.Privacy {
	case PrivacyFull:
		return false
	case PrivacyOff:
		t.say("Your privacy setting keeps account details out of this chat. You can see them in the bank's app.",
			withButtons(t.bankButton("Open the bank", path)))
	default:
		t.say(t.tr(ready)+" "+t.tr("For your privacy it is on the bank's own page. (Say \"privacy full\" to see amounts here.)"),
			withButtons(t.bankButton("View it", path)))
	}
	return true
}

func (t *turn) noAccounts(cluster consent.Cluster) {
	t.say(t.f("This chat has no account it may show %s for. You can change what it sees by linking again.",
		strings.ToLower(cluster.Info().Title)))
}

func (t *turn) disclose(what string, accts []ledger.AccountID, clusters ...consent.Cluster) *Disclosure {
	var cs []consent.Cluster
	for _, c := range clusters {
		if !slices.Contains(cs, c) && slices.ContainsFunc(accts, func(a ledger.AccountID) bool { return t.grant.Covers(a, c) }) {
			cs = append(cs, c)
		}
	}
	return &Disclosure{Customer: t.link.Customer, Grant: t.grant.ID, Accounts: accts, Clusters: cs,
		Purpose: t.grant.Purposes[clusters[0]], What: what}
}

func (t *turn) balance(in Intent) error {
	accts, err := t.accounts(consent.Balances, in.Account)
	if err != nil {
		return err
	}
	if len(accts) == 0 {
		if in.Account != AnyAccount {
			t.say(t.f("I don't see a %s this chat may show. Say \"balance\" for all of them.", t.tr(kindLabel(hintKind(in.Account)))))
			return nil
		}
		t.noAccounts(consent.Balances)
		return nil
	}
	ready := t.tr("Your balance is ready.")
	if len(accts) > 1 {
		ready = t.tr("Your balances are ready.")
	}
	if t.private(ready, "/accounts") {
		return nil
	}
	var b strings.Builder
	ids := make([]ledger.AccountID, 0, len(accts))
	for i, acct := range accts {
		if i > 0 {
			b.WriteByte('\n')
		}
		ids = append(ids, acct.ID)
		name := t.tr(kindLabel(acct.Kind))
		if t.grant.Covers(acct.ID, consent.AccountBasic) {
			name = accountLabel(acct)
		}
		if acct.Kind == ledger.CreditCard {
			b.WriteString(t.f("%s: balance %s, available credit %s", name, acct.Balance.Display(acct.Currency), acct.Spendable().Display(acct.Currency)))
		} else {
			b.WriteString(t.f("%s: %s (available %s)", name, acct.Balance.Display(acct.Currency), acct.Available().Display(acct.Currency)))
		}
	}
	r := t.say(b.String(), withChoices(choiceRecent, choiceSpend))
	r.Disclosure = t.disclose("balance", ids, consent.Balances, consent.AccountBasic)
	return nil
}

func hintKind(h AccountHint) ledger.AccountKind {
	switch h {
	case CheckingHint:
		return ledger.Checking
	case SavingsHint:
		return ledger.Savings
	case CardHint:
		return ledger.CreditCard
	}
	return ""
}

// transactions shows the five most recent entries across the covered
// accounts.
func (t *turn) transactions(in Intent) error {
	accts, err := t.accounts(consent.Transactions, in.Account)
	if err != nil {
		return err
	}
	if len(accts) == 0 {
		t.noAccounts(consent.Transactions)
		return nil
	}
	if t.private("Your recent activity is ready.", "/accounts") {
		return nil
	}
	type line struct {
		e    ledger.Entry
		acct ledger.Account
	}
	var lines []line
	ids := make([]ledger.AccountID, 0, len(accts))
	from := t.now.AddDate(0, 0, -t.grant.LookbackDays)
	for _, acct := range accts {
		page, err := t.a.d.Ledger.Store().History(t.ctx, ledger.HistoryQuery{Account: acct.ID, Limit: 5, From: from})
		if err != nil {
			return err
		}
		ids = append(ids, acct.ID)
		for _, e := range page.Entries {
			lines = append(lines, line{e, acct})
		}
	}
	slices.SortFunc(lines, func(x, y line) int {
		return cmp.Or(y.e.Transfer.Created.Compare(x.e.Transfer.Created), cmp.Compare(y.e.Transfer.ID, x.e.Transfer.ID))
	})
	if len(lines) > 5 {
		lines = lines[:5]
	}
	if len(lines) == 0 {
		t.say("There is no recent activity on the accounts this chat may see.")
		return nil
	}
	var b strings.Builder
	b.WriteString(t.tr("Recent activity:"))
	for _, l := range lines {
		fmt.Fprintf(&b, "\n%s  %s  %s", t.date(l.e.Transfer.Created), l.e.Amount.Display(l.acct.Currency), truncate(t.desc(l.e.Transfer.Description), 40))
	}
	r := t.say(b.String(), withChoices(choiceBalance, choiceSpend))
	r.Disclosure = t.disclose("transactions", ids, consent.Transactions)
	return nil
}

// maxSpendingEntries bounds the history a spending question reads.
const maxSpendingEntries = 5000

func (t *turn) spending(in Intent) error {
	accts, err := t.accounts(consent.Transactions, in.Account)
	if err != nil {
		return err
	}
	if len(accts) == 0 {
		t.noAccounts(consent.Transactions)
		return nil
	}
	subject := t.tr(CategoryName(in.Category))
	if in.Search != "" && in.Category == "" {
		subject = "\"" + in.Search + "\""
	}
	when := t.periodName(in.Period)
	if t.private(t.f("Your spending on %s %s is ready.", subject, when), "/accounts") {
		return nil
	}
	// The look-back of the consent bounds how far back the chat may read.
	from := in.Period.From
	if lb := t.now.AddDate(0, 0, -t.grant.LookbackDays); from.Before(lb) {
		from = lb
	}
	sums := map[ledger.Currency]ledger.Amount{}
	var order []ledger.Currency
	count, read := 0, 0
	ids := make([]ledger.AccountID, 0, len(accts))
	for _, acct := range accts {
		ids = append(ids, acct.ID)
		q := ledger.HistoryQuery{Account: acct.ID, Limit: 500, From: from, To: in.Period.To, Status: ledger.Posted}
		for read < maxSpendingEntries {
			page, err := t.a.d.Ledger.Store().History(t.ctx, q)
			if err != nil {
				return err
			}
			for _, e := range page.Entries {
				read++
				if e.Amount >= 0 || e.Transfer.Category == "" && in.Search == "" {
					continue
				}
				if !spentOn(in, e.Transfer) {
					continue
				}
				if _, ok := sums[acct.Currency]; !ok {
					order = append(order, acct.Currency)
				}
				s, ok := sums[acct.Currency].Add(-e.Amount)
				if !ok {
					return ledger.ErrOverflow
				}
				sums[acct.Currency] = s
				count++
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
	}
	var msg string
	if count == 0 {
		msg = t.f("You spent nothing on %s %s.", subject, when)
	} else {
		parts := make([]string, len(order))
		for i, c := range order {
			parts[i] = sums[c].Display(c)
		}
		total := strings.Join(parts, t.tr(" and "))
		if count == 1 {
			msg = t.f("You spent %s on %s %s (1 payment).", total, subject, when)
		} else {
			msg = t.f("You spent %s on %s %s (%d payments).", total, subject, when, count)
		}
	}
	if read >= maxSpendingEntries {
		msg += " " + t.tr("(That is from the most recent 5,000 entries; the bank's app has the full history.)")
	}
	r := t.say(msg, withChoices(choiceRecent, choiceBalance))
	r.Disclosure = t.disclose("spending", ids, consent.Transactions)
	return nil
}

// spentOn reports whether a card payment counts for the spending question:
// one of its merchant categories, or its search word in the description;
// with neither, every categorised payment.
func spentOn(in Intent, tr ledger.Transfer) bool {
	cats := in.Categories
	if len(cats) == 0 && in.Category != "" {
		cats = []string{in.Category}
	}
	if len(cats) == 0 && in.Search == "" {
		return true
	}
	return (tr.Category != "" && slices.Contains(cats, tr.Category)) ||
		(in.Search != "" && strings.Contains(fold(tr.Description), in.Search))
}

// newID returns 12 random bytes, base64url: confirmation ids and
// idempotency keys.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (t *turn) pay(in Intent) error {
	example := " For example: \"pay Sam 20\"."
	switch {
	case in.AmountErr != nil:
		t.say(t.tr(bankbridge.ErrorMessage(in.AmountErr)) + t.tr(example) + " " + t.tr("Nothing was paid."))
		return nil
	case in.Payee == "" && in.Amount == "":
		t.say(t.tr("Who should I pay, and how much?") + t.tr(example))
		return nil
	case in.Payee == "":
		t.say(t.tr("Who should I pay? Use the name of a payee you saved at the bank.") + t.tr(example))
		return nil
	case in.Amount == "":
		t.say(t.f("How much should I pay %s? Write it like \"pay %s 20\".", titleCase(in.Payee), titleCase(in.Payee)))
		return nil
	}
	payees, err := t.a.d.Ledger.Store().Payees(t.ctx, t.link.Customer)
	if err != nil {
		return err
	}
	var match []ledger.Payee
	for _, p := range payees {
		first, _, _ := strings.Cut(strings.ToLower(p.Name), " ")
		if strings.EqualFold(p.Nickname, in.Payee) || strings.EqualFold(p.Name, in.Payee) || (first == in.Payee && !strings.Contains(in.Payee, " ")) {
			match = append(match, p)
		}
	}
	// An exact nickname wins over first names.
	if len(match) > 1 {
		if i := slices.IndexFunc(match, func(p ledger.Payee) bool { return strings.EqualFold(p.Nickname, in.Payee) }); i >= 0 {
			match = match[i : i+1]
		}
	}
	// Not a payee but one of the customer's own accounts by name ("move
	// 40 to vacation fund"): a transfer between own accounts.
	if len(match) == 0 {
		own, err := t.ownAccounts()
		if err != nil {
			return err
		}
		if m := matchAccount(own, AccountRef{Name: in.Payee}); len(m) == 1 {
			return t.transfer(Intent{Kind: Transfer, To: AccountRef{Name: in.Payee}, Amount: in.Amount, Cents: in.Cents, Memo: in.Memo})
		}
	}
	switch {
	case len(match) == 0:
		t.say(t.f("I don't know a payee called \"%s\". I only pay people you saved as payees at the bank, by their name or nickname. Nothing was paid.", truncate(in.Payee, 30)),
			withButtons(t.bankButton("Payees at the bank", "/transfer")))
		return nil
	case len(match) > 1:
		t.say(t.f("More than one payee matches \"%s\". Use the nickname you saved, or pay on the bank's page. Nothing was paid.", truncate(in.Payee, 30)),
			withButtons(t.bankButton("Pay on the bank's page", "/transfer")))
		return nil
	}
	p := match[0]
	if p.Account == 0 {
		return t.payExternal(p, in, example)
	}
	accts, err := t.accounts(consent.Transfers, AnyAccount)
	if err != nil {
		return err
	}
	accts = slices.DeleteFunc(accts, func(a ledger.Account) bool { return a.Kind == ledger.CreditCard || a.ID == p.Account })
	slices.SortStableFunc(accts, func(x, y ledger.Account) int {
		return cmp.Compare(kindRank(x.Kind), kindRank(y.Kind))
	})
	if len(accts) == 0 {
		t.say("This chat may not make payments from any of your accounts. Link again and allow payments, or pay on the bank's page.",
			withButtons(t.bankButton("Pay on the bank's page", "/transfer")))
		return nil
	}
	from := accts[0]
	amt, err := ledger.ParseAmount(in.Amount, from.Currency)
	if err != nil {
		t.say(t.tr(bankbridge.ErrorMessage(err)+".") + t.tr(example) + " " + t.tr("Nothing was paid."))
		return nil
	}
	pend := &Pending{ID: newID(), Action: Pay, From: from.ID, To: p.Account, Amount: amt, Currency: from.Currency,
		Payee: p.Nickname, Saved: p.Created, Memo: in.Memo, Key: "chat-" + newID(), Expires: t.now.Add(t.a.d.ConfirmTTL)}
	// An early answer; confirm asks the limits again and records the payment.
	if err := t.limits(pend, (*limits.Guard).Check); err != nil {
		return t.limitRefused(err, from.Currency)
	}
	if pend.Payee == "" {
		pend.Payee = p.Name
	}
	t.conv.Pending = pend
	src := t.tr("your " + kindLabel(from.Kind))
	if t.settings.Privacy == PrivacyFull && t.grant.Covers(from.ID, consent.AccountBasic) {
		src = accountLabel(from)
	}
	memo := ""
	if in.Memo != "" {
		memo = t.tr(" for ") + in.Memo
	}
	r := t.say(t.f("Pay %s %s from %s%s? Nothing moves until you confirm. This request waits %d minutes.",
		pend.Payee, amt.Display(from.Currency), src, memo, int(t.a.d.ConfirmTTL.Minutes())),
		withChoices(Choice{"Confirm payment", payloadConfirm + pend.ID}, Choice{"Cancel", payloadCancel + pend.ID}))
	r.Disclosure = t.disclose("payment confirmation", []ledger.AccountID{from.ID}, consent.Transfers, consent.AccountBasic)
	return nil
}

func kindRank(k ledger.AccountKind) int {
	switch k {
	case ledger.Checking:
		return 0
	case ledger.Savings:
		return 1
	}
	return 2
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// confirm carries out the pending action, once: the ledger's idempotency
// key makes a confirmation that arrives twice book one transfer, and a
// confirmation of an action already done says so.
func (t *turn) confirm(in Intent) error {
	p := t.conv.Pending
	switch {
	case p == nil:
		t.say("There is nothing waiting for your confirmation. Nothing was paid.")
		return nil
	case p.Done && (in.Ref == "" || in.Ref == p.ID):
		t.already(p)
		return nil
	case in.Ref != "" && in.Ref != p.ID:
		t.say("That button belongs to an earlier request that is no longer waiting. Nothing was paid.")
		return nil
	case !t.now.Before(p.Expires):
		t.conv.Pending = nil
		t.say("That request expired, so nothing was done. Ask again if you still want it.")
		return nil
	}
	switch p.Action {
	case Pay, Transfer:
		return t.book(p)
	case Collect:
		return t.bookCollect(p)
	case FreezeCard:
		return t.freezeConfirmed(p)
	case Fraud:
		return t.fraudConfirmed(p)
	case UnfreezeCard:
		t.conv.Pending = nil
		for _, id := range p.Cards {
			if err := t.a.d.Ledger.Store().SetCardStatus(t.ctx, id, ledger.CardActive); err != nil {
				return err
			}
		}
		if len(p.Cards) == 1 {
			t.say("Done: your card is unfrozen and can be used again.")
		} else {
			t.say(t.f("Done: %d cards are unfrozen and can be used again.", len(p.Cards)))
		}
	default:
		t.conv.Pending = nil
		t.say("There is nothing waiting for your confirmation.")
	}
	return nil
}

// already answers a confirmation of an action carried out before.
func (t *turn) already(p *Pending) {
	switch p.Action {
	case Pay, Transfer:
		t.say(t.f("That was already done (reference %s). Nothing was paid twice.", p.Result))
	case Collect:
		t.say(t.f("That was already done (reference %s). Nothing was collected twice.", p.Result))
	case Fraud:
		t.say(t.f("That was already reported: your card is frozen and case %s is open. Nothing else is needed from you now.", p.Result))
	default:
		t.say("That was already done. Nothing was changed again.")
	}
}

// book makes a confirmed payment or transfer between own accounts.
func (t *turn) book(p *Pending) error {
	if !t.grant.Covers(p.From, consent.Transfers) {
		t.conv.Pending = nil
		t.say("This chat may no longer pay from that account. Nothing was paid.")
		return nil
	}
	desc := "Chat payment to " + p.Payee
	if p.Action == Transfer {
		desc = "Chat transfer to " + p.Payee
	}
	if p.Memo != "" {
		desc += ": " + p.Memo
	}
	if p.External != 0 {
		return t.bookExternal(p)
	}
	own := p.Action == Transfer
	if !own {
		// Recorded in the database before the transfer, so that the
		// customer's payments on every channel and instance count at once.
		if err := t.limits(p, (*limits.Guard).Reserve); err != nil {
			if bankbridge.ErrorKind(err) == bankbridge.Unprocessable || errors.Is(err, limits.ErrStepUp) {
				t.conv.Pending = nil
			}
			return t.limitRefused(err, p.Currency)
		}
	}
	tr, _, err := t.a.d.Ledger.Transfer(t.ctx, ledger.Move("chat:"+t.conv.Platform, p.Key, p.From, p.To, p.Amount, p.Currency, truncate(desc, 200)))
	if err != nil {
		if k := bankbridge.ErrorKind(err); !own && (k == bankbridge.Invalid || k == bankbridge.Unprocessable || k == bankbridge.Conflict || k == bankbridge.NotFound) {
			// Refused: nothing moved, so the payment stops counting.
			if rerr := t.limits(p, (*limits.Guard).Release); rerr != nil {
				return fmt.Errorf("assistant: pay: release limits: %w", rerr)
			}
		}
		switch k := bankbridge.ErrorKind(err); {
		case k == bankbridge.Unavailable || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			// Keep the request: confirming again reuses its key, so it
			// can never be booked twice.
			t.say("The bank is busy and I could not confirm the payment. Say \"yes\" again in a moment; it will never be paid twice.")
			return nil
		case k == bankbridge.Internal:
			// Not "busy": a fault of ours, which the channel logs with
			// the request and answers with an apology. Nothing is saved,
			// so the request stays pending under its key.
			return fmt.Errorf("assistant: pay: %w", err)
		default:
			t.conv.Pending = nil
			t.say(t.tr(bankbridge.ErrorMessage(err)+".") + " " + t.tr("Nothing was paid."))
			return nil
		}
	}
	done := *p
	done.Done, done.Result = true, strconv.FormatInt(int64(tr.ID), 10)
	t.conv.Pending = &done
	what := "payment receipt"
	if own {
		what = "transfer receipt"
	}
	if t.settings.Privacy != PrivacyFull {
		text := t.f("Done: your payment to %s is booked.", p.Payee)
		if own {
			text = t.tr("Done: the money moved between your accounts.")
		}
		r := t.say(text, withButtons(t.bankButton("See the receipt", fmt.Sprintf("/transfer/receipt/%d", tr.ID))))
		r.Disclosure = t.disclose(what, []ledger.AccountID{p.From}, consent.Transfers)
		return nil
	}
	text := t.f("Paid %s to %s. Reference %d.", p.Amount.Display(p.Currency), p.Payee, tr.ID)
	if own {
		text = t.f("Moved %s to %s. Reference %d.", p.Amount.Display(p.Currency), p.Payee, tr.ID)
	}
	r := t.say(text)
	r.Disclosure = t.disclose(what, []ledger.AccountID{p.From}, consent.Transfers)
	return nil
}

// cards returns the customer's cards on accounts the consent names, with
// status s, matching last4 when given.
func (t *turn) cards(s ledger.CardStatus, last4 string) ([]ledger.Card, error) {
	all, err := t.a.d.Ledger.Store().CustomerCards(t.ctx, t.link.Customer)
	if err != nil {
		return nil, err
	}
	var out []ledger.Card
	for _, c := range all {
		if c.Status != s || !slices.Contains(t.grant.Accounts(), c.Account) || (last4 != "" && c.Last4 != last4) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// freeze asks which card when the chat may see several, then asks for a
// confirmation: "freeze my card" never freezes every card by itself.
// Freezing only protects the customer, so the confirmation is one tap.
func (t *turn) freeze(in Intent) error {
	cs, err := t.cards(ledger.CardActive, in.Last4)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		switch {
		case in.Last4 != "":
			t.say(t.f("I found no active card ending %s that this chat may see.", in.Last4), withChoices(choiceHuman))
		case in.Reason != "":
			t.say("I found no active card to freeze that this chat may see. A person at the bank can block your card now.", withChoices(choiceHuman))
		default:
			t.say("I found no active card to freeze that this chat may see. If your card is lost or stolen, talk to a person now.", withChoices(choiceHuman))
		}
		return nil
	}
	if len(cs) > 1 && in.Setting != "all" {
		t.whichCard(cs, in)
		return nil
	}
	ids := make([]ledger.CardID, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	pend := &Pending{ID: newID(), Action: FreezeCard, Cards: ids, Reason: in.Reason, Expires: t.now.Add(t.a.d.ConfirmTTL)}
	t.conv.Pending = pend
	var q string
	switch {
	case len(cs) > 1:
		q = t.f("Freeze all %d of your cards? No new card payments will go through until you unfreeze them.", len(cs))
	case t.showCards():
		q = t.f("Freeze your card %s? No new card payments will go through until you unfreeze it.", cardLabel(cs[0]))
	default:
		q = t.tr("Freeze your card? No new card payments will go through until you unfreeze it.")
	}
	t.say(q, withChoices(Choice{"Freeze", payloadConfirm + pend.ID}, Choice{"Cancel", payloadCancel + pend.ID}))
	return nil
}

// showCards says whether replies may name cards by their last four
// digits: with privacy full, as alerts do.
func (t *turn) showCards() bool { return t.settings.Privacy == PrivacyFull }

// cardLabel names a card: "Visa ••4242".
func cardLabel(c ledger.Card) string {
	return titleCase(c.Network) + " ••" + c.Last4
}

// whichCard asks which of several cards: by name with privacy full, else
// by its last four digits written by the customer, or all of them.
func (t *turn) whichCard(cs []ledger.Card, in Intent) {
	verb := "freeze"
	if in.Kind == UnfreezeCard {
		verb = "unfreeze"
	}
	reason := ""
	if in.Reason != "" {
		reason = "_" + in.Reason // the payload keeps why: "freeze_lost_card_1234"
	}
	all := Choice{t.f("All %d cards", len(cs)), payloadIntent + verb + reason + "_all_cards"}
	if !t.showCards() {
		q := t.f("You have %d cards this chat may see. Which one? Write its last four digits, like \"freeze card 1234\", or choose all of them.", len(cs))
		if verb == "unfreeze" {
			q = t.f("You have %d frozen cards this chat may see. Which one? Write its last four digits, like \"unfreeze card 1234\", or choose all of them.", len(cs))
		}
		t.say(q,
			withChoices(all), withButtons(t.bankButton("Cards at the bank", "/accounts")))
		return
	}
	var chs []Choice
	for _, c := range cs {
		if len(chs) == 9 {
			break
		}
		chs = append(chs, Choice{cardLabel(c), payloadIntent + verb + reason + "_card_" + c.Last4})
	}
	t.say("Which card?", withChoices(append(chs, all)...))
}

// freezeConfirmed freezes the confirmed cards and says what happens next.
func (t *turn) freezeConfirmed(p *Pending) error {
	for _, id := range p.Cards {
		if err := t.a.d.Ledger.Store().SetCardStatus(t.ctx, id, ledger.CardFrozen); err != nil {
			return err
		}
	}
	done := *p
	done.Done = true
	t.conv.Pending = &done
	if p.Reason == "" {
		if len(p.Cards) == 1 {
			t.say("Done: your card is now frozen. No new card payments will go through. Say \"unfreeze card\" to undo.")
		} else {
			t.say(t.f("Done: %d cards are now frozen. No new card payments will go through. Say \"unfreeze card\" to undo.", len(p.Cards)))
		}
		return nil
	}
	t.say("Done: your card is frozen, so nobody can pay with it. Next, a person at the bank can cancel it for good and send you a new one, "+
		"usually within 5 business days; your automatic payments move to the new card. If you find the card, say \"unfreeze card\". "+
		"If you see a payment you didn't make, say \"I didn't make this\".", withChoices(choiceHuman))
	return nil
}

func (t *turn) unfreeze(in Intent) error {
	cs, err := t.cards(ledger.CardFrozen, in.Last4)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		t.say("I found no frozen card to unfreeze.")
		return nil
	}
	ids := make([]ledger.CardID, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	pend := &Pending{ID: newID(), Action: UnfreezeCard, Cards: ids, Expires: t.now.Add(t.a.d.ConfirmTTL)}
	t.conv.Pending = pend
	q := t.tr("Unfreeze your frozen card? Card payments will work again.")
	if len(cs) > 1 {
		q = t.f("Unfreeze your %d frozen cards? Card payments will work again.", len(cs))
	}
	t.say(q,
		withChoices(Choice{"Unfreeze", payloadConfirm + pend.ID}, Choice{"Cancel", payloadCancel + pend.ID}))
	return nil
}

func (t *turn) alerts(in Intent) error {
	s := t.settings
	switch in.Setting {
	case "on", "off":
		s.Alerts, s.Updated = in.Setting == "on", t.now
		if err := t.a.d.Store.SaveSettings(t.ctx, s); err != nil {
			return err
		}
		t.settings = s
		if s.Alerts {
			t.say("Alerts are on: I'll message you here about large payments, a low balance and anything suspicious, following your privacy setting.")
		} else {
			t.say("Alerts are off. I won't message you about your accounts unless you ask.")
		}
	default:
		if s.Alerts {
			t.say("Alerts are on. They cover large payments, a low balance and suspicious payments.", withChoices(Choice{"Turn alerts off", payloadIntent + "alerts_off"}))
		} else {
			t.say("Alerts are off. They cover large payments, a low balance and suspicious payments.", withChoices(Choice{"Turn alerts on", payloadIntent + "alerts_on"}))
		}
	}
	return nil
}

func (t *turn) privacy(in Intent) error {
	s := t.settings
	if in.Setting == "" {
		t.say(t.f("Privacy is %s. Full shows amounts and merchants here; minimal says an answer is ready and links to the bank's page; off keeps accounts out of this chat.", t.tr(string(s.Privacy))),
			withChoices(Choice{"Full", payloadIntent + "privacy_full"}, Choice{"Minimal", payloadIntent + "privacy_minimal"}, Choice{"Off", payloadIntent + "privacy_off"}))
		return nil
	}
	s.Privacy, s.Updated = PrivacyMode(in.Setting), t.now
	if err := t.a.d.Store.SaveSettings(t.ctx, s); err != nil {
		return err
	}
	t.settings = s
	switch s.Privacy {
	case PrivacyFull:
		t.say("Privacy is now full: I'll show amounts and merchants in this chat. The messaging platform can see what I send here.")
	case PrivacyMinimal:
		t.say("Privacy is now minimal: I'll tell you when an answer is ready and link to the bank's page.")
	default:
		t.say("Privacy is now off: I won't discuss your accounts in this chat.")
	}
	return nil
}

func (t *turn) unlink() error {
	if _, err := t.a.d.Consents.Revoke(t.ctx, t.link.Grant, "customer", "unlinked from the chat"); err != nil && !errors.Is(err, consent.ErrGrantNotFound) {
		return err
	}
	if _, err := t.a.d.Store.DeleteLink(t.ctx, t.link.Key); err != nil {
		return err
	}
	t.conv.Pending = nil
	t.linked = false
	t.res.Unlinked = true
	t.say("Unlinked. This chat can no longer see or do anything with your accounts. You can link again at any time.")
	return nil
}

// HandBack returns a conversation from a person to the assistant and
// returns the reply that says so.
func (a *Assistant) HandBack(ctx context.Context, k Key, by string) (Reply, error) {
	defer a.Lock(k)()
	conv, err := a.d.Store.Conversation(ctx, k)
	if err != nil {
		return Reply{}, err
	}
	conv.Mode, conv.HandedAt = ModeBot, time.Time{}
	r := Reply{Text: "You're back with the bank's automated assistant. Say \"help\" to see what I can do, or \"talk to a person\" to reach someone again.",
		Choices: []Choice{choiceBalance, choiceHelp}}
	return r, a.finish(ctx, &conv, []Reply{r}, by)
}

// StaffSaid records a staff reply in the transcript and the conversation.
func (a *Assistant) StaffSaid(ctx context.Context, k Key, by, text string) error {
	defer a.Lock(k)()
	conv, err := a.d.Store.Conversation(ctx, k)
	if err != nil {
		return err
	}
	return a.finish(ctx, &conv, []Reply{{Text: text}}, by)
}

// errNoLimits is a chat payment in an assistant built without the payment
// limits: refused, never let through unlimited.
var errNoLimits = bankbridge.E(bankbridge.Unavailable, "limits_unavailable", "payments from chat are not available")

// limits applies op (Check, Reserve or Release) of the bank's payment
// limits to the pending payment p.
func (t *turn) limits(p *Pending, op func(*limits.Guard, context.Context, limits.Payment) error) error {
	if t.a.d.Limits == nil {
		return errNoLimits
	}
	return op(t.a.d.Limits, t.ctx, limits.Payment{Customer: t.link.Customer, Payee: p.To, Amount: p.Amount, Currency: p.Currency,
		Saved: p.Saved, Channel: "chat:" + t.conv.Platform, Key: p.Key})
}

// limitRefused answers a payment the limits did not let through from chat:
// a step-up sends the customer to the bank's own page, which can ask for
// their code; a limit says which; anything else is the store's fault.
func (t *turn) limitRefused(err error, cur ledger.Currency) error {
	pol := limits.DefaultPolicy
	if t.a.d.Limits != nil {
		pol = t.a.d.Limits.Policy()
	}
	button := withButtons(t.bankButton("Pay on the bank's page", "/transfer"))
	switch {
	case errors.Is(err, limits.ErrStepUp):
		t.say(t.f("Payments that take you over %s in 24 hours need your security code, so make this one on the bank's own page. Nothing was paid here.", t.a.d.StepUpLimit.Display(cur)), button)
	case errors.Is(err, limits.ErrDaily):
		t.say(t.f("This would take your payments of the last 24 hours past your daily limit of %s. Nothing was paid.", pol.Daily.Display(cur)))
	case errors.Is(err, limits.ErrPayee):
		t.say(t.f("This would take your payments to this payee in the last 24 hours past the limit of %s. Nothing was paid.", pol.PerPayee.Display(cur)))
	case errors.Is(err, limits.ErrNewPayee):
		t.say(t.f("This payee is new: for the first %d hours you can send them at most %s a day. Nothing was paid.", int(pol.Cooling.Hours()), pol.NewPayee.Display(cur)))
	case errors.Is(err, errNoLimits):
		t.say("I can't make payments here right now. Pay on the bank's own page. Nothing was paid.", button)
	default:
		return fmt.Errorf("assistant: pay: limits: %w", err)
	}
	return nil
}
