package statement_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/statement"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// keep writes the test's PDF and its first page as PNG into a folder, to
// look at them (docs/screenshots/statement.png comes from here).
var keep = flag.String("keep", "", "write statement.pdf and statement.png into this folder")

var march = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// book is a ledger with a customer's checking account whose history spans
// February to April 2026: 90 lines in March (three pages), a fee and
// interest among them, and transfers before and after the month.
type book struct {
	store ledger.Store
	acct  ledger.Account
	// march is what the test put into March, oldest first.
	march []ledger.Amount
	descs []string
}

func newBook(t testing.TB, engine string) *book {
	t.Helper()
	ctx := context.Background()
	var st ledger.Store
	switch engine {
	case "sqlite":
		db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st = db.Ledger()
	case "postgres":
		db, err := postgres.Open(ctx, testdb.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st = db.Ledger()
	}
	now := time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC)
	led := ledger.New(st, ledger.Options{Now: func() time.Time { return now }})
	t.Cleanup(led.Close)
	open := func(c int64, kind ledger.AccountKind, name, num string) ledger.Account {
		a, err := st.CreateAccount(ctx, ledger.Account{Customer: 0, Kind: kind, Name: name, Currency: "USD", Number: ledger.AccountNumber(num),
			Routing: "021000021", Unbounded: c == 0, OpenedAt: time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	settle := open(0, ledger.Internal, "Settlement", "900000000001")
	b := &book{store: st}
	b.acct = open(1, ledger.Checking, "Everyday checking", "100000000012")
	n := 0
	move := func(at time.Time, amt ledger.Amount, desc, cat string) {
		n++
		from, to := settle.ID, b.acct.ID
		if amt < 0 {
			from, to = to, from
		}
		r := ledger.Move("test", fmt.Sprint("k", n), from, to, max(amt, -amt), "USD", desc)
		r.Category, r.At = cat, at
		if _, _, err := led.Transfer(ctx, r); err != nil {
			t.Fatalf("transfer %d: %v", n, err)
		}
	}
	move(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), 500000, "Salary February", "income")
	move(time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), -4321, "Late February groceries", "groceries")
	in := func(at time.Time, amt ledger.Amount, desc, cat string) {
		move(at, amt, desc, cat)
		b.march = append(b.march, amt)
		b.descs = append(b.descs, desc)
	}
	in(march, 250000, "Salary March", "income")
	for i := range 86 {
		at := march.Add(time.Duration(i+1) * 7 * time.Hour)
		in(at, -ledger.Amount(1000+i*137), fmt.Sprintf("Card purchase %02d Harbor Coffee Co.", i), "coffee")
	}
	in(time.Date(2026, 3, 28, 5, 0, 0, 0, time.UTC), -1200, "Monthly maintenance fee", statement.CategoryFees)
	in(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), 321, "Interest paid", statement.CategoryInterest)
	in(time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC), -999, "A note long enough to wrap: rent share for the flat on Elm Street, "+
		"second floor, with the garage and the garden, as agreed in January with Sam & Alex", "transfer")
	move(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), -5000, "April rent", "rent")
	// A hold made in March and not yet posted is not on the statement.
	r := ledger.Move("test", "hold", b.acct.ID, settle.ID, 777, "USD", "Pending hotel hold")
	r.Pending, r.At = true, time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	if _, _, err := led.Transfer(ctx, r); err != nil {
		t.Fatal(err)
	}
	a, err := st.Account(ctx, b.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.acct = a
	return b
}

var alice = identity.Customer{Name: "Alice Example", Address: identity.Address{Line1: "12 Elm Street", City: "Springfield", Region: "IL", PostalCode: "62704", Country: "US"}}

func TestBuild(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			b := newBook(t, engine)
			s, err := statement.Build(context.Background(), b.store, statement.DemoBank, alice, b.acct, march)
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, b, s)
		})
	}
}

func checkModel(t *testing.T, b *book, s *statement.Statement) {
	t.Helper()
	// Opening is February's net (5,000.00 - 43.21); closing adds March's lines.
	if s.Opening != 500000-4321 {
		t.Errorf("opening = %d, want %d", s.Opening, 500000-4321)
	}
	var sum, in, out ledger.Amount
	for _, a := range b.march {
		sum += a
		if a > 0 {
			in += a
		} else {
			out -= a
		}
	}
	if s.Closing != s.Opening+sum || s.Closing != b.acct.Balance+5000 {
		t.Errorf("closing = %d, want %d (opening + March) and %d (balance before April)", s.Closing, s.Opening+sum, b.acct.Balance+5000)
	}
	if s.Credits != in || s.Debits != out || s.Fees != -1200 || s.Interest != 321 {
		t.Errorf("credits %d debits %d fees %d interest %d, want %d %d -1200 321", s.Credits, s.Debits, s.Fees, s.Interest, in, out)
	}
	if len(s.Lines) != len(b.march) {
		t.Fatalf("%d lines, want %d", len(s.Lines), len(b.march))
	}
	bal := s.Opening
	for i, l := range s.Lines {
		bal += l.Amount
		if l.Amount != b.march[i] || l.Description != b.descs[i] || l.Balance != bal {
			t.Errorf("line %d = %+v, want amount %d %q balance %d", i, l, b.march[i], b.descs[i], bal)
		}
	}
}

func TestBuildRefusesAMonthThatIsNotOne(t *testing.T) {
	t.Parallel()
	for _, m := range []time.Time{march.Add(time.Hour), march.AddDate(0, 0, 1), time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))} {
		if _, err := statement.Build(context.Background(), nil, statement.DemoBank, alice, ledger.Account{}, m); err != statement.ErrMonth {
			t.Errorf("Build(%v) = %v, want ErrMonth", m, err)
		}
	}
}

func TestMonths(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	got := statement.Months(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC), now, 24)
	want := []time.Time{march, march.AddDate(0, -1, 0), march.AddDate(0, -2, 0)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Months = %v, want %v", got, want)
	}
	if got := statement.Months(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), now, 24); len(got) != 0 {
		t.Errorf("an account opened this month has statements %v", got)
	}
	if got := statement.Months(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), now, 24); len(got) != 24 || !got[23].Equal(time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Months keeps %d, the last %v", len(got), got[len(got)-1])
	}
}

// money is an amount as Display writes it in the PDF's text.
var money = regexp.MustCompile(`-?[0-9]{1,3}(?:,[0-9]{3})*\.[0-9]{2} USD`)

// parse reads a Display amount back to minor units.
func parse(t *testing.T, s string) ledger.Amount {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	a, err := ledger.ParseAmount(strings.TrimSuffix(strings.TrimPrefix(s, "-"), " USD"), "USD")
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	if neg {
		return -a
	}
	return a
}

// TestPDF reads the document back with poppler's pdftotext: every page
// numbered, the balances and totals where they belong, every transaction
// with its amount and running balance, and the amounts summing from the
// opening to the closing balance.
func TestPDF(t *testing.T) {
	t.Parallel()
	b := newBook(t, "sqlite")
	s, err := statement.Build(context.Background(), b.store, statement.DemoBank, alice, b.acct, march)
	if err != nil {
		t.Fatal(err)
	}
	var pdf bytes.Buffer
	if err := s.PDF(&pdf); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := s.PDF(&again); err != nil || !bytes.Equal(pdf.Bytes(), again.Bytes()) {
		t.Errorf("the same statement rendered twice differs (err %v)", err)
	}
	dir := t.TempDir()
	if *keep != "" {
		dir = *keep
	}
	path := filepath.Join(dir, "statement.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := run(t, "pdftotext", "-layout", path, "-")
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	if len(pages) < 3 {
		t.Fatalf("%d pages, want 3 or more for %d lines", len(pages), len(s.Lines))
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d does not say %q", i+1, want)
		}
		for _, want := range []string{"bankbridge", "Account statement", "March 2026", "••••0012"} {
			if !strings.Contains(p, want) {
				t.Errorf("page %d lacks %q", i+1, want)
			}
		}
		if strings.Contains(p, "100000000012") {
			t.Errorf("page %d shows the full account number", i+1)
		}
	}
	first := pages[0]
	for _, want := range []string{"Alice Example", "12 Elm Street", "Springfield, IL 62704", "Routing number", "021000021",
		"Statement date", "31 Mar 2026", "ACCOUNT SUMMARY, 1 MAR 2026 TO 31 MAR 2026", "100 Example Street", "1-800-555-0100"} {
		if !strings.Contains(first, want) {
			t.Errorf("page 1 lacks %q", want)
		}
	}
	// The summary's figures, each on its labelled line.
	for label, want := range map[string]ledger.Amount{
		"Opening balance": s.Opening, "Money in": s.Credits, "Money out": -s.Debits,
		"Closing balance": s.Closing, "Fees this period": -1200, "Interest this period": 321,
	} {
		m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+(` + money.String() + `)`).FindStringSubmatch(first)
		if m == nil {
			t.Errorf("page 1 lacks %q with an amount", label)
			continue
		}
		if got := parse(t, m[1]); got != want {
			t.Errorf("%s = %d, want %d", label, got, want)
		}
	}
	// The table: each transaction's row carries its amount and balance;
	// the amounts add up from the opening balance to the closing one.
	row := regexp.MustCompile(`(?m)^\s*(\d{1,2} [A-Z][a-z]{2} 2026)\s+(.+?)\s{2,}(` + money.String() + `)\s+(` + money.String() + `)\s*$`)
	var rows [][]string
	for _, p := range pages {
		rows = append(rows, row.FindAllStringSubmatch(p, -1)...)
	}
	if len(rows) != len(s.Lines) {
		t.Fatalf("%d transaction rows in the text, want %d:\n%s", len(rows), len(s.Lines), text)
	}
	bal := s.Opening
	for i, r := range rows {
		amt, got := parse(t, r[3]), parse(t, r[4])
		bal += amt
		if amt != b.march[i] || got != bal {
			t.Errorf("row %d %q: amount %d balance %d, want %d and %d", i, r[0], amt, got, b.march[i], bal)
		}
		if d := b.descs[i]; !strings.HasPrefix(d, strings.TrimSuffix(r[2], "…")) {
			t.Errorf("row %d describes %q, want %q", i, r[2], d)
		}
	}
	if bal != s.Closing {
		t.Errorf("rows sum to %d, closing balance %d", bal, s.Closing)
	}
	if !strings.Contains(text, "second floor, with the garage") {
		t.Errorf("the long note does not wrap onto a second line")
	}
	if strings.Contains(text, "Pending hotel hold") || strings.Contains(text, "April rent") || strings.Contains(text, "Late February") {
		t.Errorf("the statement shows a transaction from outside the month or still pending")
	}
	// Page one as a picture, to look at.
	run(t, "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", path, filepath.Join(dir, "statement"))
	if fi, err := os.Stat(filepath.Join(dir, "statement.png")); err != nil || fi.Size() < 10000 {
		t.Errorf("page 1 as PNG: %v", err)
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	b := newBook(t, "sqlite")
	s, err := statement.Build(context.Background(), b.store, statement.DemoBank, alice, b.acct, march)
	if err != nil {
		t.Fatal(err)
	}
	s.Lines[1].Description = "=HYPERLINK(\"http://evil\")"
	var out bytes.Buffer
	if err := s.CSV(&out); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(s.Lines)+3 || rows[0][0] != "date" || rows[1][1] != "Opening balance" || rows[len(rows)-1][1] != "Closing balance" {
		t.Fatalf("rows: first %v, last %v, %d in all", rows[:2], rows[len(rows)-1], len(rows))
	}
	if rows[1][4] != s.Opening.Format("USD") || rows[len(rows)-1][4] != s.Closing.Format("USD") {
		t.Errorf("balances %q %q", rows[1][4], rows[len(rows)-1][4])
	}
	bal := s.Opening
	for i, r := range rows[2 : len(rows)-1] {
		neg := strings.HasPrefix(r[3], "-")
		a, err := ledger.ParseAmount(strings.TrimPrefix(r[3], "-"), "USD")
		if err != nil {
			t.Fatalf("row %d amount %q: %v", i, r[3], err)
		}
		if neg {
			a = -a
		}
		bal += a
		if r[4] != bal.Format("USD") || r[5] != "USD" {
			t.Errorf("row %d: %v, want balance %s", i, r, bal.Format("USD"))
		}
	}
	if rows[3][1] != "'=HYPERLINK(\"http://evil\")" {
		t.Errorf("a formula reaches the spreadsheet: %q", rows[3][1])
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v (install Debian's poppler-utils; scripts/test-env.sh does)", name, err)
	}
	return string(out)
}

// BenchmarkStatement measures a 90-line month (four pages): reading it from
// SQLite and folding it (Build), then rendering it as PDF and as CSV, so
// each rendering reads as a ratio of the Build in the same run.
func BenchmarkStatement(b *testing.B) {
	bk := newBook(b, "sqlite")
	ctx := context.Background()
	s, err := statement.Build(ctx, bk.store, statement.DemoBank, alice, bk.acct, march)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Build", func(b *testing.B) {
		for b.Loop() {
			if _, err := statement.Build(ctx, bk.store, statement.DemoBank, alice, bk.acct, march); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PDF", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := s.PDF(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes/doc")
	})
	b.Run("CSV", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := s.CSV(&buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPDFLetters: Spanish and other Windows-1252 letters print as they
// are; a letter outside it prints as "?", and invisible characters not at
// all.
func TestPDFLetters(t *testing.T) {
	t.Parallel()
	b := newBook(t, "sqlite")
	holder := identity.Customer{Name: "José Núñez 李\u202e", Address: identity.Address{Line1: "Calle Mayor 5, 2º", City: "Córdoba", Country: "ES"}}
	s, err := statement.Build(context.Background(), b.store, statement.DemoBank, holder, b.acct, march)
	if err != nil {
		t.Fatal(err)
	}
	s.Lines[0].Description = "Panadería Núñez, Córdoba" // a table row, which wraps
	var pdf bytes.Buffer
	if err := s.PDF(&pdf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	text := run(t, "pdftotext", "-f", "1", "-l", "1", path, "-")
	for _, want := range []string{"José Núñez ?\n", "Calle Mayor 5, 2º", "Córdoba", "Panadería Núñez, Córdoba"} {
		if !strings.Contains(text, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, text)
		}
	}
}

// TestPDFInSpanish: a Spanish statement is Spanish throughout, accents
// included: headings, labels, months and dates, the counts, the bank's own
// descriptions; what a person wrote stays as written.
func TestPDFInSpanish(t *testing.T) {
	t.Parallel()
	b := newBook(t, "sqlite")
	s, err := statement.Build(context.Background(), b.store, statement.DemoBank, alice, b.acct, march)
	if err != nil {
		t.Fatal(err)
	}
	s.Lang = statement.Spanish
	var pdf bytes.Buffer
	if err := s.PDF(&pdf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pdf.Bytes(), []byte("/Lang (es-US)")) {
		t.Error("the document does not declare its language as Spanish")
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	text := run(t, "pdftotext", "-layout", path, "-")
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	for i, p := range pages {
		for _, want := range []string{"Estado de cuenta", "marzo de 2026", fmt.Sprintf("Página %d de %d", i+1, len(pages)), "¿Preguntas?", "Fecha", "Descripción", "Importe", "Saldo"} {
			if !strings.Contains(p, want) {
				t.Errorf("page %d lacks %q", i+1, want)
			}
		}
	}
	first := pages[0]
	for _, want := range []string{"ESTADO DE CUENTA DE", "Alice Example", "RESUMEN DE LA CUENTA, DEL 1 MAR 2026 AL 31 MAR 2026",
		"marzo de 2026: del 1 mar 2026 al 31 mar 2026", "Tipo", "Cuenta corriente", "Número", "Número de ruta", "Moneda",
		"Fecha del estado de cuenta", "31 mar 2026", "Entradas", "Salidas", "Comisiones del periodo", "Intereses del periodo",
		"Movimientos", "90 movimientos", "Saldo inicial"} {
		if !strings.Contains(first, want) {
			t.Errorf("page 1 lacks %q", want)
		}
	}
	for _, want := range []string{"Comisión mensual de mantenimiento", "Intereses pagados", "Card purchase 00 Harbor Coffee Co.",
		"Saldo final", "Los importes están en USD. Las salidas llevan signo menos."} {
		if !strings.Contains(text, want) {
			t.Errorf("the statement lacks %q", want)
		}
	}
	for _, english := range []string{"Opening balance", "Closing balance", "Monthly maintenance fee", "Interest paid", "Page ", "March 2026", "Mar 2026", "Amounts are"} {
		if strings.Contains(text, english) {
			t.Errorf("English %q on a Spanish statement", english)
		}
	}
	row := regexp.MustCompile(`(?m)^\s*(\d{1,2} mar 2026)\s+(.+?)\s{2,}(` + money.String() + `)\s+(` + money.String() + `)\s*$`)
	var rows int
	for _, p := range pages {
		rows += len(row.FindAllStringSubmatch(p, -1))
	}
	if rows != len(s.Lines) {
		t.Errorf("%d rows dated in Spanish, want %d", rows, len(s.Lines))
	}
}

// TestCSVInSpanish: the column names, balance rows, the bank's own
// descriptions and the categories in Spanish; dates and amounts in the
// same machine form as in English.
func TestCSVInSpanish(t *testing.T) {
	t.Parallel()
	b := newBook(t, "sqlite")
	s, err := statement.Build(context.Background(), b.store, statement.DemoBank, alice, b.acct, march)
	if err != nil {
		t.Fatal(err)
	}
	s.Lang = statement.Spanish
	var out bytes.Buffer
	if err := s.CSV(&out); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "fecha,descripción,categoría,importe,saldo,moneda" {
		t.Errorf("header %q", got)
	}
	if rows[1][1] != "Saldo inicial" || rows[len(rows)-1][1] != "Saldo final" || rows[1][0] != "2026-03-01" {
		t.Errorf("balance rows %q %q", rows[1], rows[len(rows)-1])
	}
	byDesc := map[string][]string{}
	for _, r := range rows[2 : len(rows)-1] {
		byDesc[r[1]] = r
	}
	for desc, cat := range map[string]string{"Comisión mensual de mantenimiento": "Comisiones", "Intereses pagados": "Intereses",
		"Card purchase 00 Harbor Coffee Co.": "Café", "Salary March": "Ingresos"} {
		if r, ok := byDesc[desc]; !ok || r[2] != cat {
			t.Errorf("row %q: %q, want category %q", desc, r, cat)
		}
	}
	if r := byDesc["Comisión mensual de mantenimiento"]; len(r) < 4 || r[3] != "-12.00" {
		t.Errorf("the fee's amount is not in the machine form: %q", r)
	}
}
