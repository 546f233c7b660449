package web

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

// cardView is one of the customer's cards with the account it draws on.
type cardView struct {
	Card     ledger.Card
	Account  ledger.Account
	Reported *alerts.Case // an open lost or stolen case: the card stays frozen
}

// cardsView is the cards page.
type cardsView struct {
	Cards     []cardView
	CanReport bool // lost or stolen reports need the case queue (Deps.Alerts)
}

// cardAction is what a customer may do to a card from the web, each behind
// a confirmation page.
type cardAction string

const (
	cardFreeze   cardAction = "freeze"
	cardUnfreeze cardAction = "unfreeze"
	cardReport   cardAction = "report"
)

// cardConfirmView is the confirmation page of one action on one card.
type cardConfirmView struct {
	Card   cardView
	Action cardAction
	Error  string
}

// customerCards lists the customer's cards, each with its account.
func (s *server) customerCards(r *http.Request, v *visit) ([]cardView, error) {
	ctx := r.Context()
	cards, err := s.Ledger.Store().CustomerCards(ctx, v.sess.Customer)
	if err != nil {
		return nil, err
	}
	accts, err := s.Ledger.Store().CustomerAccounts(ctx, v.sess.Customer)
	if err != nil {
		return nil, err
	}
	out := make([]cardView, 0, len(cards))
	for _, k := range cards {
		cv := cardView{Card: k}
		if i := slices.IndexFunc(accts, func(a ledger.Account) bool { return a.ID == k.Account }); i >= 0 {
			cv.Account = accts[i]
		}
		if s.Alerts != nil && k.Status == ledger.CardFrozen {
			if cv.Reported, err = s.Alerts.ReportedCase(ctx, v.sess.Customer, k.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, cv)
	}
	return out, nil
}

// cards lists the customer's cards with what can be done to each.
func (s *server) cards(w http.ResponseWriter, r *http.Request, v *visit) {
	cs, err := s.customerCards(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Your cards", "cards")
	switch r.URL.Query().Get("done") {
	case "freeze":
		p.Flash = "Card frozen. Nobody can pay with it until you unfreeze it."
	case "unfreeze":
		p.Flash = "Card unfrozen. It works again."
	}
	p.Data = cardsView{Cards: cs, CanReport: s.Alerts != nil}
	s.render(w, r, http.StatusOK, "cards", p)
}

// ownCard finds one of the customer's cards by the id in the path; absent
// and another customer's card are the same 404.
func (s *server) ownCard(w http.ResponseWriter, r *http.Request, v *visit) (cardView, cardAction, bool) {
	act := cardAction(r.PathValue("action"))
	if act != cardFreeze && act != cardUnfreeze && (act != cardReport || s.Alerts == nil) {
		s.notFound(w, r, v)
		return cardView{}, "", false
	}
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return cardView{}, "", false
	}
	cs, err := s.customerCards(r, v)
	if err != nil {
		s.fail(w, r, err)
		return cardView{}, "", false
	}
	i := slices.IndexFunc(cs, func(c cardView) bool { return c.Card.ID == ledger.CardID(n) })
	if i < 0 {
		s.notFound(w, r, v)
		return cardView{}, "", false
	}
	return cs[i], act, true
}

// cardConfirm asks "are you sure?" before a card action.
func (s *server) cardConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	c, act, ok := s.ownCard(w, r, v)
	if !ok {
		return
	}
	s.renderCardConfirm(w, r, v, http.StatusOK, cardConfirmView{Card: c, Action: act})
}

func (s *server) renderCardConfirm(w http.ResponseWriter, r *http.Request, v *visit, status int, cv cardConfirmView) {
	title := map[cardAction]string{cardFreeze: "Freeze this card?", cardUnfreeze: "Unfreeze this card?", cardReport: "Report this card lost or stolen"}[cv.Action]
	p := v.page(title, "cards")
	p.Data = cv
	s.render(w, r, status, "card_confirm", p)
}

// cardDo carries out a confirmed card action. Freezing a frozen card or
// unfreezing an active one changes nothing and says it is done; a card
// reported lost or stolen cannot be unfrozen (a new one is on its way).
func (s *server) cardDo(w http.ResponseWriter, r *http.Request, v *visit) {
	c, act, ok := s.ownCard(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	switch act {
	case cardFreeze, cardUnfreeze:
		to := ledger.CardFrozen
		if act == cardUnfreeze {
			to = ledger.CardActive
			if c.Reported != nil {
				s.renderCardConfirm(w, r, v, http.StatusConflict, cardConfirmView{Card: c, Action: act,
					Error: "This card was reported " + string(c.Reported.Kind) + ", so it stays frozen. We are sending you a new card; call us if you found it."})
				return
			}
		}
		if c.Card.Status != to {
			if err := s.Ledger.Store().SetCardStatus(ctx, c.Card.ID, to); err != nil {
				s.fail(w, r, err)
				return
			}
			s.Logger.LogAttrs(ctx, slog.LevelInfo, "web: card status changed by its holder",
				slog.String("request_id", bankbridge.RequestID(ctx)), slog.Int64("customer", int64(v.sess.Customer)),
				slog.Int64("card", int64(c.Card.ID)), slog.String("to", string(to)))
		}
		http.Redirect(w, r, "/cards?done="+string(act), http.StatusSeeOther)
	case cardReport:
		kind := alerts.CaseKind(r.PostForm.Get("what"))
		k, err := s.Alerts.ReportCard(ctx, v.sess.Customer, c.Card.ID, kind)
		switch {
		case errors.Is(err, alerts.ErrCardNotYours):
			s.notFound(w, r, v)
			return
		case bankbridge.ErrorKind(err) == bankbridge.Invalid:
			s.renderCardConfirm(w, r, v, http.StatusBadRequest, cardConfirmView{Card: c, Action: act, Error: "Choose whether the card was lost or stolen."})
			return
		case err != nil:
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/cases/"+strconv.FormatInt(int64(k.ID), 10)+"?done=reported", http.StatusSeeOther)
	}
}
