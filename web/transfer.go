package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
	"github.com/bankbridge/bankbridge/limits"
)

// maxMemo bounds the memo, in characters: at 4 bytes a character at most, it
// stays within the ledger's 200-byte description.
const maxMemo = 50

// transferInput is the transfer form as typed (and carried, hidden, through
// the confirmation page).
type transferInput struct {
	From   string // account id
	To     string // "a:<account id>" (own) or "p:<payee id>"
	Amount string
	Memo   string
}

func readTransferInput(r *http.Request) transferInput {
	f := r.PostForm
	return transferInput{
		From:   strings.TrimSpace(f.Get("from")),
		To:     strings.TrimSpace(f.Get("to")),
		Amount: strings.TrimSpace(f.Get("amount")),
		Memo:   strings.TrimSpace(f.Get("memo")),
	}
}

// destination is one choice in the "to" list.
type destination struct {
	Value string // transferInput.To
	Label string
	Group string // "Your accounts" or "Payees"
}

// transferView is the transfer form.
type transferView struct {
	In      transferInput
	From    []ledger.Account
	To      []destination
	Errors  map[string]string // by field ("from", "to", "amount", "memo"); "" for the form
	Limit   string            // the step-up limit, formatted
	NoTOTP  bool              // the customer has no authenticator: transfers are capped at Limit
	HasFrom bool
}

// transferPlan is a transfer resolved against the customer's accounts and
// payees: exactly what the confirmation page shows and the confirm step does.
type transferPlan struct {
	In          transferInput
	From        ledger.Account
	To          ledger.AccountID
	ToLabel     string
	Amount      ledger.Amount
	Currency    ledger.Currency
	Description string
	Over        bool // needs a step-up: above the step-up limit, or the day's payments past it
	// Payee is the saved payee the money goes to; nil between one's own
	// accounts, which the payment limits do not cover.
	Payee *ledger.Payee
}

// payment is pl as the payment limits see it, under the ledger key the
// confirm step books it with.
func (pl transferPlan) payment(v *visit, ledgerKey string, steppedUp bool) limits.Payment {
	return limits.Payment{Customer: v.sess.Customer, Payee: pl.To, Amount: pl.Amount, Currency: pl.Currency,
		Saved: pl.Payee.Created, SteppedUp: steppedUp, Channel: "web", Key: ledgerKey}
}

// confirmView is the confirmation page.
type confirmView struct {
	Plan     transferPlan
	Key      string
	NeedCode bool
	Error    string
}

// After is what the source account will have available once the transfer is made.
func (cv confirmView) After() ledger.Amount { return cv.Plan.From.Available() - cv.Plan.Amount }

// choices loads what the customer may send from and to.
func (s *server) choices(ctx context.Context, v *visit) ([]ledger.Account, []destination, []ledger.Payee, []ledger.Account, error) {
	st := s.Ledger.Store()
	accts, err := st.CustomerAccounts(ctx, v.sess.Customer)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	payees, err := st.Payees(ctx, v.sess.Customer)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var from []ledger.Account
	var to []destination
	for _, a := range accts {
		if a.Status == ledger.Open && a.Kind != ledger.CreditCard {
			from = append(from, a)
		}
		if a.Status != ledger.Closed {
			to = append(to, destination{Value: "a:" + strconv.FormatInt(int64(a.ID), 10), Label: accountLabel(a), Group: "Your accounts"})
		}
	}
	for _, p := range payees {
		if p.Account != 0 {
			to = append(to, destination{Value: "p:" + strconv.FormatInt(int64(p.ID), 10), Label: payeeLabel(p), Group: "Payees"})
		}
	}
	return from, to, payees, accts, nil
}

func accountLabel(a ledger.Account) string {
	return fmt.Sprintf("%s %s", a.Name, a.Number.Masked())
}

func payeeLabel(p ledger.Payee) string {
	l := p.Name
	if p.Nickname != "" && !strings.EqualFold(p.Nickname, p.Name) {
		l += " (" + p.Nickname + ")"
	}
	if p.Number != "" {
		l += " " + p.Number.Masked()
	}
	return l
}

func (s *server) transferForm(w http.ResponseWriter, r *http.Request, v *visit) {
	in := transferInput{From: r.URL.Query().Get("from")}
	s.renderTransferForm(w, r, v, http.StatusOK, in, nil)
}

func (s *server) renderTransferForm(w http.ResponseWriter, r *http.Request, v *visit, status int, in transferInput, errs map[string]string) {
	from, to, _, _, err := s.choices(r.Context(), v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur := ledger.Currency("USD")
	if len(from) > 0 {
		cur = from[0].Currency
	}
	p := v.page("Move money", "transfer")
	p.Data = transferView{In: in, From: from, To: to, Errors: errs, HasFrom: len(from) > 0,
		Limit: s.StepUpLimit.Display(cur), NoTOTP: !v.sess.TOTPEnrolled}
	s.render(w, r, status, "transfer", p)
}

// resolve checks the input against the customer's own accounts and payees,
// and a payment to a payee against the payment limits. ledgerKey is the
// key the confirm step books under ("" before one is minted), so that a
// confirmation submitted twice is seen as the payment it repeats, not as a
// second one. errs, when not empty, says per field what is wrong, in words.
func (s *server) resolve(ctx context.Context, v *visit, in transferInput, ledgerKey string) (transferPlan, map[string]string, error) {
	errs := map[string]string{}
	from, _, payees, accts, err := s.choices(ctx, v)
	if err != nil {
		return transferPlan{}, nil, err
	}
	pl := transferPlan{In: in}
	found := false
	for _, a := range accts {
		if strconv.FormatInt(int64(a.ID), 10) != in.From {
			continue
		}
		switch {
		case a.Status == ledger.Frozen:
			errs["from"] = a.Name + " is frozen, so money cannot leave it. Please contact the bank."
		case a.Status == ledger.Closed:
			errs["from"] = a.Name + " is closed."
		case !slices.ContainsFunc(from, func(f ledger.Account) bool { return f.ID == a.ID }):
			errs["from"] = "Money cannot be sent from " + a.Name + " here."
		default:
			pl.From, found = a, true
		}
	}
	if !found && errs["from"] == "" {
		// Also covers another customer's account id: "choose" reveals nothing.
		errs["from"] = "Choose one of your accounts to send from."
	}
	kind, id, _ := strings.Cut(in.To, ":")
	n, perr := strconv.ParseInt(id, 10, 64)
	switch {
	case perr != nil:
		errs["to"] = "Choose where the money goes."
	case kind == "a":
		for _, a := range accts {
			if int64(a.ID) == n && a.Status != ledger.Closed {
				pl.To, pl.ToLabel = a.ID, accountLabel(a)
			}
		}
	case kind == "p":
		for _, p := range payees {
			if int64(p.ID) == n && p.Account != 0 {
				pl.To, pl.ToLabel, pl.Payee = p.Account, payeeLabel(p), &p
			}
		}
	}
	if pl.To == 0 && errs["to"] == "" {
		errs["to"] = "Choose where the money goes."
	}
	if found && pl.To == pl.From.ID {
		errs["to"] = "Choose a different account from the one the money leaves."
	}
	if found {
		pl.Currency = pl.From.Currency
		amt, err := ledger.ParseAmount(in.Amount, pl.Currency)
		if err != nil {
			errs["amount"] = amountMessage(err)
		} else {
			pl.Amount = amt
			pl.Over = amt > s.StepUpLimit
			if pl.Payee != nil && pl.To != 0 {
				// What the limits say now; confirm asks them again, and
				// records the payment, in one step.
				switch err := s.limitsCheck(ctx, pl.payment(v, ledgerKey, false)); {
				case errors.Is(err, limits.ErrStepUp):
					pl.Over = true
				case err == nil:
				default:
					msg, ok := s.limitMessage(err, pl)
					if !ok {
						return pl, nil, err
					}
					errs["amount"] = msg
				}
			}
			if pl.Over && !v.sess.TOTPEnrolled && errs["amount"] == "" {
				errs["amount"] = s.noTOTPMessage(pl.Currency)
			}
		}
	}
	if utf8.RuneCountInString(in.Memo) > maxMemo {
		errs["memo"] = fmt.Sprintf("Keep the note to %d characters or fewer.", maxMemo)
	} else if strings.IndexFunc(in.Memo, unicode.IsControl) >= 0 {
		errs["memo"] = "The note has characters that cannot be used."
	} else if err := legible.Check(in.Memo); err != nil {
		errs["memo"] = "The note " + err.Error() + "."
	}
	pl.Description = in.Memo
	if pl.Description == "" {
		name, _, _ := strings.Cut(pl.ToLabel, " ••••")
		pl.Description = "Transfer to " + name
	}
	if len(errs) > 0 {
		return pl, errs, nil
	}
	return pl, nil, nil
}

// amountMessage words a ParseAmount error for the form.
func amountMessage(err error) string {
	switch {
	case errors.Is(err, ledger.ErrAmountNegative):
		return "Enter an amount greater than zero."
	case errors.Is(err, ledger.ErrAmountPrecise):
		return "Use at most two decimal places, such as 20.50."
	case errors.Is(err, ledger.ErrAmountTooLarge):
		return "That amount is too large."
	}
	return "Enter an amount such as 20 or 20.50."
}

// transferReview checks the form and shows the confirmation page, minting the
// idempotency key that the confirm step will use.
func (s *server) transferReview(w http.ResponseWriter, r *http.Request, v *visit) {
	in := readTransferInput(r)
	pl, errs, err := s.resolve(r.Context(), v, in, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if errs != nil {
		s.renderTransferForm(w, r, v, http.StatusUnprocessableEntity, in, errs)
		return
	}
	if pl.Amount > pl.From.Available()+pl.From.Limit && !pl.From.Unbounded {
		// An early, friendly answer; the ledger decides again at confirm.
		s.renderTransferForm(w, r, v, http.StatusUnprocessableEntity, in, map[string]string{"amount": insufficient(pl.From)})
		return
	}
	s.renderConfirm(w, r, v, http.StatusOK, confirmView{Plan: pl, Key: newKey(), NeedCode: s.needCode(v, pl)})
}

func insufficient(a ledger.Account) string {
	return fmt.Sprintf("%s does not have enough money available for this transfer (available: %s).",
		a.Name, a.Available().Display(a.Currency))
}

// needCode says whether confirming pl needs a fresh TOTP code.
func (s *server) needCode(v *visit, pl transferPlan) bool {
	return pl.Over && !v.sess.SteppedUpWithin(stepUpWindow, s.Now())
}

func (s *server) renderConfirm(w http.ResponseWriter, r *http.Request, v *visit, status int, cv confirmView) {
	p := v.page("Check and confirm", "transfer")
	p.Data = cv
	s.render(w, r, status, "confirm", p)
}

// transferConfirm books the transfer under the key minted for the
// confirmation page: submitting twice (a double click, a reload, the back
// button) replays the first result and moves money once.
func (s *server) transferConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	in := readTransferInput(r)
	key := r.PostForm.Get("key")
	if !validKey(key) {
		s.renderTransferForm(w, r, v, http.StatusBadRequest, in, map[string]string{"": "This confirmation could not be read. Please check the details and continue again."})
		return
	}
	// The key is scoped to the customer so that keys of two customers can
	// never meet, whatever a form carries.
	ledgerKey := fmt.Sprintf("c%d:%s", v.sess.Customer, key)
	pl, errs, err := s.resolve(ctx, v, in, ledgerKey)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if errs != nil {
		s.renderTransferForm(w, r, v, http.StatusUnprocessableEntity, in, errs)
		return
	}
	cv := confirmView{Plan: pl, Key: key, NeedCode: s.needCode(v, pl)}
	if cv.NeedCode {
		code := strings.TrimSpace(r.PostForm.Get("code"))
		if code == "" {
			cv.Error = "Enter the 6-digit code from your authenticator app to send more than " + s.StepUpLimit.Display(pl.Currency) + "."
			s.renderConfirm(w, r, v, http.StatusUnauthorized, cv)
			return
		}
		if err := s.Auth.StepUp(ctx, v.token, code); err != nil {
			switch bankbridge.ErrorKind(err) {
			case bankbridge.Invalid, bankbridge.Unauthenticated:
				cv.Error = "That code did not match. Wait for a new code and enter it."
				s.renderConfirm(w, r, v, http.StatusUnauthorized, cv)
			case bankbridge.TooManyRequests:
				cv.Error = "Too many wrong codes. Please try again later."
				s.renderConfirm(w, r, v, http.StatusTooManyRequests, cv)
			default:
				s.fail(w, r, err)
			}
			return
		}
	}
	if pl.Payee != nil {
		// Recorded before the transfer, in the database, so that payments
		// of this customer on any channel and any instance count at once.
		// A code just checked, or one given in the last stepUpWindow.
		pay := pl.payment(v, ledgerKey, cv.NeedCode || v.sess.SteppedUpWithin(stepUpWindow, s.Now()))
		if err := s.limitsReserve(ctx, pay); err != nil {
			if errors.Is(err, limits.ErrStepUp) {
				// Another payment made the day's total cross the threshold
				// since this page was shown.
				if !v.sess.TOTPEnrolled {
					s.renderTransferForm(w, r, v, http.StatusUnprocessableEntity, in, map[string]string{"amount": s.noTOTPMessage(pl.Currency)})
					return
				}
				cv.NeedCode = true
				cv.Plan.Over = true
				cv.Error = "Your payments of the last 24 hours now need a code from your authenticator app. Enter it to send this one."
				s.renderConfirm(w, r, v, http.StatusUnauthorized, cv)
				return
			}
			if msg, ok := s.limitMessage(err, pl); ok {
				s.renderTransferForm(w, r, v, http.StatusUnprocessableEntity, in, map[string]string{"amount": msg})
				return
			}
			s.fail(w, r, err)
			return
		}
	}
	t, replayed, err := s.Ledger.Transfer(ctx, ledger.Move("web", ledgerKey, pl.From.ID, pl.To, pl.Amount, pl.Currency, pl.Description))
	if err != nil {
		if msg, ok := transferMessage(err, pl.From); ok {
			if pl.Payee != nil && !errors.Is(err, ledger.ErrKeyReused) {
				// Nothing moved: the payment stops counting. (A reused key
				// is another request's; its record stays.)
				if rerr := s.Limits.Release(ctx, pl.payment(v, ledgerKey, false)); rerr != nil {
					s.Logger.Warn("web: releasing a refused payment's limits", "err", rerr)
				}
			}
			s.renderTransferForm(w, r, v, http.StatusUnprocessableEntity, in, map[string]string{"": msg})
			return
		}
		if bankbridge.ErrorKind(err) == bankbridge.Unavailable {
			cv.Error = "The bank is busy. Please confirm again: the transfer will be made only once."
			s.renderConfirm(w, r, v, http.StatusServiceUnavailable, cv)
			return
		}
		s.fail(w, r, err)
		return
	}
	if !replayed { // a double submit is one payment
		s.record(v.sess.Customer, insights.Payment, "payment", pl.Amount)
	}
	http.Redirect(w, r, "/transfer/receipt/"+strconv.FormatInt(int64(t.ID), 10), http.StatusSeeOther)
}

// transferMessage words the ledger's refusals for the form; false for errors
// that are not the customer's to fix.
func transferMessage(err error, from ledger.Account) (string, bool) {
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return insufficient(from), true
	case errors.Is(err, ledger.ErrAccountFrozen):
		return "Money cannot leave a frozen account. Please contact the bank.", true
	case errors.Is(err, ledger.ErrAccountClosed):
		return "One of these accounts is closed.", true
	case errors.Is(err, ledger.ErrKeyReused):
		return "This confirmation was already used for a different transfer. Please check the details and continue again.", true
	case errors.Is(err, ledger.ErrCurrencyMismatch):
		return "The two accounts hold different currencies, so this transfer cannot be made here.", true
	case errors.Is(err, ledger.ErrAccountNotFound):
		return "Choose where the money goes.", true
	}
	switch bankbridge.ErrorKind(err) {
	case bankbridge.Invalid, bankbridge.Unprocessable, bankbridge.Conflict:
		return bankbridge.ErrorMessage(err), true
	}
	return "", false
}

// receiptView is the page after a transfer.
type receiptView struct {
	Transfer ledger.Transfer
	From     ledger.Account
	Amount   ledger.Amount
}

func (s *server) receipt(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	t, err := s.Ledger.Store().Transfer(ctx, ledger.TransferID(n))
	if errors.Is(err, ledger.ErrTransferNotFound) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	accts, err := s.Ledger.Store().CustomerAccounts(ctx, v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Only a transfer the customer sent from their own account has a receipt.
	var from ledger.Account
	for _, p := range t.Postings {
		if p.Amount < 0 {
			from, _ = belongs(ledger.Transfer{Postings: []ledger.Posting{p}}, accts)
		}
	}
	if from.ID == 0 || t.Client != "web" {
		s.notFound(w, r, v)
		return
	}
	p := v.page("Transfer sent", "transfer")
	p.Data = receiptView{Transfer: t, From: from, Amount: t.Amount()}
	s.render(w, r, http.StatusOK, "receipt", p)
}

// errNoLimits is a payment to someone else on an app built without the
// payment limits: refused, never let through unlimited.
var errNoLimits = bankbridge.E(bankbridge.Unavailable, "limits_unavailable", "payments to payees are not available")

func (s *server) limitsCheck(ctx context.Context, p limits.Payment) error {
	if s.Limits == nil {
		return errNoLimits
	}
	return s.Limits.Check(ctx, p)
}

func (s *server) limitsReserve(ctx context.Context, p limits.Payment) error {
	if s.Limits == nil {
		return errNoLimits
	}
	return s.Limits.Reserve(ctx, p)
}

// limitMessage words a payment limit's refusal for the form; false for
// errors that are not the customer's to fix.
func (s *server) limitMessage(err error, pl transferPlan) (string, bool) {
	if s.Limits == nil {
		return "", false
	}
	p, cur := s.Limits.Policy(), pl.Currency
	switch {
	case errors.Is(err, limits.ErrDaily):
		return fmt.Sprintf("This would take your payments of the last 24 hours past your daily limit of %s. Send less, or try again later.", p.Daily.Display(cur)), true
	case errors.Is(err, limits.ErrPayee):
		return fmt.Sprintf("This would take your payments to this payee in the last 24 hours past the limit of %s. Send less, or try again later.", p.PerPayee.Display(cur)), true
	case errors.Is(err, limits.ErrNewPayee):
		return fmt.Sprintf("This payee is new: for the first %d hours you can send them at most %s a day. Send less, or try again later.",
			int(p.Cooling.Hours()), p.NewPayee.Display(cur)), true
	}
	return "", false
}

// noTOTPMessage is the answer to a transfer that needs a step-up from a
// customer without an authenticator app.
func (s *server) noTOTPMessage(cur ledger.Currency) string {
	return fmt.Sprintf("Transfers above %s, or that take your payments of the last 24 hours above it, need a code from an authenticator app. "+
		"Set one up on the Security page.", s.StepUpLimit.Display(cur))
}
