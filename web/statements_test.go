package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/statement"
)

// statementBank is a customer with a checking account opened in the month
// before month, a card on it, and a salary and a card purchase in month.
// Tests on the harness's clock (14 March 2026) use February 2026; the
// browser test, on the real clock, the month before this one.
type statementBank struct {
	*bank
	ada      identity.Customer
	acct     ledger.Account
	purchase ledger.Transfer
	salary   ledger.Transfer
	other    ledger.Account // Bob's
	bobTx    ledger.Transfer
}

func newStatementBank(t *testing.T, o bankOptions, month time.Time) *statementBank {
	t.Helper()
	ctx := context.Background()
	b := &statementBank{bank: newBank(t, o)}
	b.ada = b.customer("Ada Lovelace", "ada@example.com")
	st := b.ledger.Store()
	var err error
	b.acct, err = st.CreateAccount(ctx, ledger.Account{Customer: b.ada.ID, Kind: ledger.Checking, Name: "Everyday checking", Currency: "USD",
		Number: "1000000042", Routing: "011000015", OpenedAt: month.AddDate(0, 0, -22)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateCard(ctx, ledger.Card{Account: b.acct.ID, Customer: b.ada.ID, Last4: "4242", Network: "visa", Status: ledger.CardActive}); err != nil {
		t.Fatal(err)
	}
	m, err := st.CreateMerchant(ctx, ledger.Merchant{Name: "Harbor Coffee Co.", MCC: "5814", Category: "coffee", City: "Springfield", Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	salary := ledger.Move("test", "salary", b.funding, b.acct.ID, 100000, "USD", "Salary "+month.Format("January"))
	salary.Category, salary.At = "income", month.Add(2*24*time.Hour+9*time.Hour)
	if b.salary, _, err = b.ledger.Transfer(ctx, salary); err != nil {
		t.Fatal(err)
	}
	buy := ledger.Move("test", "coffee", b.acct.ID, b.funding, 1234, "USD", "HARBOR COFFEE CO")
	buy.Category, buy.Merchant, buy.At = "fast_food", m.ID, month.Add(9*24*time.Hour+8*time.Hour+15*time.Minute)
	if b.purchase, _, err = b.ledger.Transfer(ctx, buy); err != nil {
		t.Fatal(err)
	}
	bob := b.customer("Bob Builder", "bob@example.com")
	b.other = b.account(bob.ID, "Bob's checking", ledger.Checking, 5000)
	b.bobTx = b.move(b.other.ID, b.funding, 100, "Bob's lunch")
	b.acct = b.get(b.acct.ID)
	return b
}

var feb = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

func TestStatementsPage(t *testing.T) {
	t.Parallel()
	b := newStatementBank(t, bankOptions{}, feb)
	br := b.browser()
	br.login("", "ada@example.com")
	id := fmt.Sprint(b.acct.ID)

	acct := br.get("/accounts/" + id)
	if !strings.Contains(acct.body, `href="/accounts/`+id+`/statements"`) {
		t.Errorf("the account page does not link its statements")
	}
	p := br.get("/accounts/" + id + "/statements")
	if p.status != 200 {
		t.Fatalf("statements: %d", p.status)
	}
	for _, want := range []string{"<h1 id=\"h\">Statements</h1>", "February 2026", "January 2026",
		`href="/accounts/` + id + `/statements/2026-02.pdf"`, `href="/accounts/` + id + `/statements/2026-02.csv"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("statements page lacks %s", want)
		}
	}
	if strings.Contains(p.body, "March 2026") || strings.Contains(p.body, "December 2025") {
		t.Errorf("the page offers a month that is not complete or before the account opened")
	}

	pdf := br.get("/accounts/" + id + "/statements/2026-02.pdf")
	if pdf.status != 200 || pdf.header.Get("Content-Type") != "application/pdf" ||
		pdf.header.Get("Content-Disposition") != `attachment; filename="statement-0042-2026-02.pdf"` {
		t.Fatalf("PDF: %d %v", pdf.status, pdf.header)
	}
	// The very document package statement renders, which the partner API
	// serves too (dataapi's TestStatementAsPDF holds it to the same).
	st, err := statement.Build(context.Background(), b.ledger.Store(), statement.DemoBank.Named("Test Bank"), b.ada, b.acct, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := st.PDF(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), []byte(pdf.body)) {
		t.Error("the web's PDF is not the statement package's document")
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, []byte(pdf.body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (install poppler-utils)", err)
	}
	text := string(out)
	for _, want := range []string{"Ada Lovelace", "February 2026", "••••0042", "Salary February", "1,000.00 USD", "HARBOR COFFEE CO", "-12.34 USD", "987.66 USD", "Page 1 of 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	if !regexp.MustCompile(`Opening balance\s+0\.00 USD`).MatchString(text) ||
		!regexp.MustCompile(`Closing balance\s+987\.66 USD`).MatchString(text) {
		t.Errorf("the balances are not on the PDF:\n%s", text)
	}

	c := br.get("/accounts/" + id + "/statements/2026-02.csv")
	if c.status != 200 || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %v", c.status, c.header)
	}
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[2][1] != "Salary February" || rows[2][3] != "1000.00" || rows[3][3] != "-12.34" || rows[4][4] != "987.66" {
		t.Errorf("CSV rows: %q", rows)
	}

	// What is not Ada's, or not a statement, is 404; nothing leaks.
	for _, path := range []string{
		"/accounts/" + fmt.Sprint(b.other.ID) + "/statements",
		"/accounts/" + fmt.Sprint(b.other.ID) + "/statements/2026-02.pdf",
		"/accounts/" + id + "/statements/2026-03.pdf", // not over yet
		"/accounts/" + id + "/statements/2025-12.pdf", // before the account
		"/accounts/" + id + "/statements/2026-02.txt",
		"/accounts/" + id + "/statements/2026-2.pdf",
		"/accounts/" + id + "/statements/feb.csv",
		"/accounts/99999/statements/2026-02.pdf",
		"/accounts/x/statements",
	} {
		if p := br.get(path); p.status != 404 || strings.Contains(p.body, "Bob") {
			t.Errorf("GET %s: %d", path, p.status)
		}
	}
	if p := b.browser().get("/accounts/" + id + "/statements/2026-02.pdf"); p.status != 303 {
		t.Errorf("signed out: %d, want a redirect to login", p.status)
	}
}

func TestTransactionDetail(t *testing.T) {
	t.Parallel()
	b := newStatementBank(t, bankOptions{}, feb)
	br := b.browser()
	br.login("", "ada@example.com")
	id := fmt.Sprint(b.acct.ID)
	link := "/accounts/" + id + "/transactions/" + fmt.Sprint(b.purchase.ID)
	if h := br.get("/accounts/" + id); !strings.Contains(h.body, `href="`+link+`"`) {
		t.Fatalf("the history does not link %s", link)
	}
	p := br.get(link)
	if p.status != 200 {
		t.Fatalf("detail: %d", p.status)
	}
	for field, want := range map[string]string{
		"amount": "\u221212.34 USD", "status": "Completed", "merchant": "Harbor Coffee Co.", "category": "Fast food",
		"card": `Visa <span class="number"><span class="visually-hidden">ending </span><span aria-hidden="true">••••</span>4242</span>`,
		"date": "10 Feb 2026 08:15 UTC",
	} {
		m := regexp.MustCompile(`data-field="` + field + `">(.*?)</(?:dd|p)>`).FindStringSubmatch(p.body)
		if m == nil || !strings.Contains(m[1], want) {
			t.Errorf("%s = %q, want %q", field, m, want)
		}
	}
	if !strings.Contains(p.body, "<h1 id=\"h\">HARBOR COFFEE CO</h1>") || !strings.Contains(p.body, "Springfield, US") {
		t.Errorf("detail page:\n%s", p.body)
	}
	salary := br.get("/accounts/" + id + "/transactions/" + fmt.Sprint(b.salary.ID))
	if salary.status != 200 || strings.Contains(salary.body, `data-field="card"`) || !strings.Contains(html.UnescapeString(salary.body), "+1,000.00 USD") {
		t.Errorf("a transfer without a merchant shows a card, or not its amount: %d", salary.status)
	}
	for _, path := range []string{
		"/accounts/" + id + "/transactions/" + fmt.Sprint(b.bobTx.ID),                     // Bob's, through Ada's account
		"/accounts/" + fmt.Sprint(b.other.ID) + "/transactions/" + fmt.Sprint(b.bobTx.ID), // Bob's account
		"/accounts/" + id + "/transactions/999999",
		"/accounts/" + id + "/transactions/-1",
		"/accounts/" + id + "/transactions/abc",
	} {
		if p := br.get(path); p.status != 404 || strings.Contains(p.body, "lunch") {
			t.Errorf("GET %s: %d", path, p.status)
		}
	}
}

// TestStatementsInSpanish: a customer who chose Spanish downloads the
// statement in Spanish (headings, columns, months, the bank's own
// descriptions and categories, accents intact), and it is the very
// document the statement package renders in Spanish, the partner API's.
func TestStatementsInSpanish(t *testing.T) {
	t.Parallel()
	b := newStatementBank(t, bankOptions{}, feb)
	fee := ledger.Move("test", "fee", b.acct.ID, b.funding, 500, "USD", "Monthly maintenance fee")
	fee.Category, fee.At = statement.CategoryFees, feb.Add(20*24*time.Hour)
	if _, _, err := b.ledger.Transfer(context.Background(), fee); err != nil {
		t.Fatal(err)
	}
	b.acct = b.get(b.acct.ID)
	br := b.browser()
	br.login("", "ada@example.com")
	br.get("/language?lang=es&next=/accounts")
	id := fmt.Sprint(b.acct.ID)

	if p := br.get("/accounts/" + id + "/statements"); !strings.Contains(p.body, "febrero de 2026") || strings.Contains(p.body, "February") {
		t.Errorf("the list's months are not in Spanish:\n%s", p.body)
	}
	pdf := br.get("/accounts/" + id + "/statements/2026-02.pdf")
	if pdf.status != 200 || pdf.header.Get("Content-Language") != "es" {
		t.Fatalf("PDF: %d %v", pdf.status, pdf.header)
	}
	st, err := statement.Build(context.Background(), b.ledger.Store(), statement.DemoBank.Named("Test Bank"), b.ada, b.acct, feb)
	if err != nil {
		t.Fatal(err)
	}
	st.Lang = statement.Spanish
	var want bytes.Buffer
	if err := st.PDF(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), []byte(pdf.body)) {
		t.Error("the web's Spanish PDF is not the statement package's Spanish document")
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, []byte(pdf.body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (install poppler-utils)", err)
	}
	text := string(out)
	for _, want := range []string{"Estado de cuenta", "febrero de 2026", "Página 1 de 1", "Descripción", "Importe", "Número de ruta",
		"Comisión mensual de mantenimiento", "HARBOR COFFEE CO", "Salary February", "10 feb 2026", "Cuenta corriente"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Spanish PDF lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`Saldo inicial\s+0\.00 USD`).MatchString(text) || strings.Contains(text, "Opening balance") ||
		strings.Contains(text, "Monthly maintenance fee") {
		t.Errorf("the balances or the bank's words are not in Spanish:\n%s", text)
	}

	c := br.get("/accounts/" + id + "/statements/2026-02.csv")
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if c.header.Get("Content-Language") != "es" || len(rows) != 6 || strings.Join(rows[0], ",") != "fecha,descripción,categoría,importe,saldo,moneda" ||
		rows[1][1] != "Saldo inicial" || rows[2][2] != "Ingresos" || rows[3][2] != "Comida rápida" ||
		rows[4][1] != "Comisión mensual de mantenimiento" || rows[4][2] != "Comisiones" || rows[4][3] != "-5.00" || rows[5][1] != "Saldo final" {
		t.Errorf("CSV in Spanish: %q", rows)
	}
}

// TestSearchInSpanish: a Spanish customer's search matches the
// descriptions as the page shows them ("Pago programado" finds the
// scheduled payment, "Scheduled" does not), on both engines; in English,
// as stored.
func TestSearchInSpanish(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		b := newBank(t, bankOptions{postgres: pg})
		ada := b.customer("Ada Lovelace", "ada@example.com")
		checking := b.account(ada.ID, "Everyday", ledger.Checking, 100_00)
		savings := b.account(ada.ID, "Rainy day", ledger.Savings, 0)
		b.move(checking.ID, savings.ID, 10_00, "Scheduled payment to Rainy day: tarro")
		b.move(checking.ID, savings.ID, 5_00, "Transfer to savings")
		b.move(checking.ID, b.funding, 3_00, "Harbor Coffee Co.")
		br := b.browser()
		br.login("", "ada@example.com")
		search := func(q string) (found []string) {
			t.Helper()
			p := br.get(fmt.Sprintf("/accounts/%d?q=%s", checking.ID, url.QueryEscape(q)))
			if p.status != 200 {
				t.Fatalf("search %q: %d", q, p.status)
			}
			for _, d := range []string{"Pago programado a Rainy day: tarro", "Scheduled payment to Rainy day: tarro", "Transferencia a ahorros",
				"Transfer to savings", "Harbor Coffee Co."} {
				if strings.Contains(html.UnescapeString(p.body), d) {
					found = append(found, d)
				}
			}
			return found
		}
		br.get("/language?lang=es&next=/accounts")
		for q, want := range map[string][]string{
			"Pago programado":  {"Pago programado a Rainy day: tarro"},
			"programado a rai": {"Pago programado a Rainy day: tarro"},
			"a ahorros":        {"Transferencia a ahorros"},
			"Scheduled":        nil,
			"coffee":           {"Harbor Coffee Co."},
		} {
			if got := search(q); !slices.Equal(got, want) {
				t.Errorf("in Spanish, %q found %q, want %q", q, got, want)
			}
		}
		br.get("/language?lang=en&next=/accounts")
		if got := search("Scheduled"); !slices.Equal(got, []string{"Scheduled payment to Rainy day: tarro"}) {
			t.Errorf("in English, Scheduled found %q", got)
		}
		if got := search("Pago programado"); got != nil {
			t.Errorf("in English, Pago programado found %q", got)
		}
	})
}
