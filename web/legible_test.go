package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/ledger"
)

// TestTransferRefusesInvisibleCharactersInNote: a note that would read as
// something else (a right-to-left override, a zero-width space) is refused
// on the form with the character named, and nothing moves.
func TestTransferRefusesInvisibleCharactersInNote(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(c.ID, "Checking", ledger.Checking, 10000)
	to := b.account(c.ID, "Savings", ledger.Savings, 0)
	br := b.browser()
	br.login("", "ada@example.com")
	for _, memo := range []string{"refund\u202Edilav", "Sa\u200Bm", "\uFEFFrent", "a\u2066b\u2069"} {
		res := br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(from.ID)},
			"to": {fmt.Sprintf("a:%d", to.ID)}, "amount": {"1"}, "memo": {memo}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "invisible or direction-changing character (U&#43;") {
			t.Errorf("memo %q: status %d, want 422 naming the character\n%s", memo, res.status, res.body)
		}
	}
	if got := b.get(from.ID).Balance; got != from.Balance {
		t.Errorf("balance = %d, want %d", got, from.Balance)
	}
}
