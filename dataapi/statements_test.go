package dataapi_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/statement"
)

// TestStatementAsPDF asks for one statement as a PDF and as JSON and reads
// the PDF back: the same figures, the transaction, the holder; then the
// consent's bounds, which hold for the PDF as for JSON.
func TestStatementAsPDF(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	if _, _, err := b.ledger.Transfer(context.Background(), ledger.Move("t", "s1", b.ada.checking.ID, b.ada.savings.ID, 2500, "USD", "Rent for the flat")); err != nil {
		t.Fatal(err)
	}
	month := statement.Month(b.clock.Now())
	b.clock.Add(40 * 24 * time.Hour) // a month later: last month has a statement
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, []consent.Cluster{consent.Statements, consent.AccountBasic})
	chk := b.accountID(tok, b.ada.checking.Name)
	list := decode[dataapi.Statements](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/statements", nil, nil))
	var sid string
	for _, s := range list.Statements {
		d := decode[dataapi.StatementDocument](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/statements/"+s.StatementID, nil,
			map[string]string{"Accept": "application/json"}))
		if d.TransactionCount > 0 {
			sid = s.StatementID
		}
	}
	if sid == "" {
		t.Fatal("no statement with the transfer")
	}
	doc := P + "/accounts/" + chk + "/statements/" + sid
	for accept, pdf := range map[string]bool{
		"application/pdf": true, "application/json;q=0.5, application/pdf": true, "application/*;q=0.2, application/pdf;q=0.9": true,
		"application/json": false, "*/*": false, "": false, "text/html": false, "application/pdf;q=0, */*": false, "application/pdf;q=0.4, application/json": false,
	} {
		res := b.call(b.budget, tok, "GET", doc, nil, map[string]string{"Accept": accept})
		if res.Status != 200 || strings.HasPrefix(string(res.Body), "%PDF-") != pdf || !strings.Contains(res.Header.Get("Vary"), "Accept") {
			t.Errorf("Accept %q: %d %s, Vary %q; want a PDF: %v", accept, res.Status, res.Header.Get("Content-Type"), res.Header.Get("Vary"), pdf)
		}
	}
	res := b.call(b.budget, tok, "GET", doc, nil, map[string]string{"Accept": "application/pdf"})
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="statement-0000-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	// The very document package statement renders, which the web app
	// serves too (web's TestStatementsPage holds it to the same).
	acct, err := b.ledger.Store().Account(context.Background(), b.ada.checking.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := statement.Build(context.Background(), b.ledger.Store(), statement.DemoBank.Named("Test Bank"), b.ada.id, acct, month)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := st.PDF(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), res.Body) {
		t.Error("the API's PDF is not the statement package's document")
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, res.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (install poppler-utils)", err)
	}
	text := string(out)
	for _, want := range []string{"Ada Lovelace", "1 Main St", "••••0000", "Opening balance", "5,000.00 USD", "Rent for the flat", "-25.00 USD", "4,975.00 USD", "Page 1 of 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, string(b.ada.checking.Number)) {
		t.Error("the PDF shows the full account number")
	}
	if cl := res.Header.Get("Content-Language"); cl != "en" {
		t.Errorf("Content-Language %q, want en", cl)
	}

	// A customer who chose Spanish: the partner gets the Spanish document
	// the customer downloads, whatever language the partner's software asks.
	b.langs.Store(b.ada.id.ID, "es")
	es := b.call(b.budget, tok, "GET", doc, nil, map[string]string{"Accept": "application/pdf", "Accept-Language": "en-US"})
	st.Lang = statement.Spanish
	want.Reset()
	if err := st.PDF(&want); err != nil {
		t.Fatal(err)
	}
	if es.Status != 200 || !bytes.Equal(want.Bytes(), es.Body) || es.Header.Get("Content-Language") != "es" {
		t.Errorf("a Spanish customer's statement: %d, Content-Language %q, the Spanish document: %v", es.Status, es.Header.Get("Content-Language"), bytes.Equal(want.Bytes(), es.Body))
	}
	if err := os.WriteFile(path, es.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = exec.Command("pdftotext", "-layout", path, "-").Output(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Estado de cuenta", "Saldo inicial", "Página 1 de 1", "Rent for the flat"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the Spanish PDF lacks %q:\n%s", want, out)
		}
	}
	b.langs.Delete(b.ada.id.ID)

	// Another account of the same customer, outside this consent: 404 as
	// for JSON, and nothing of it in the answer.
	tok2, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.savings.ID}, []consent.Cluster{consent.Statements, consent.AccountBasic})
	sav := b.accountID(tok2, b.ada.savings.Name)
	other := decode[dataapi.Statements](t, b.call(b.budget, tok2, "GET", P+"/accounts/"+sav+"/statements", nil, nil))
	if len(other.Statements) == 0 {
		t.Fatal("the savings account has no statement")
	}
	for _, accept := range []string{"application/pdf", "application/json"} {
		for _, path := range []string{P + "/accounts/" + sav + "/statements/" + other.Statements[0].StatementID, P + "/accounts/" + chk + "/statements/" + other.Statements[0].StatementID} {
			res := b.call(b.budget, tok, "GET", path, nil, map[string]string{"Accept": accept})
			if res.Status != 404 || !strings.Contains(string(res.Body), `"code":"not_found"`) || strings.Contains(string(res.Body), "%PDF") {
				t.Errorf("%s as %s outside the consent's accounts: %d %s", path, accept, res.Status, res.Body)
			}
		}
	}

	// A year and a month on, the month falls outside the look-back (365
	// days): the same statement id is now 404, as PDF and as JSON.
	b.clock.Add(400 * 24 * time.Hour)
	tok, _ = b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, []consent.Cluster{consent.Statements, consent.AccountBasic})
	for _, accept := range []string{"application/pdf", "application/json"} {
		res := b.call(b.budget, tok, "GET", doc, nil, map[string]string{"Accept": accept})
		if res.Status != 404 || !strings.Contains(string(res.Body), `"code":"not_found"`) {
			t.Errorf("a statement before the look-back as %s: %d %s", accept, res.Status, res.Body)
		}
	}
}
