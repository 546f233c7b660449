package statement

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"

	"github.com/bankbridge/bankbridge/ledger"
)

// The page: US Letter in millimetres, 15 mm margins.
const (
	pageW, pageH = 215.9, 279.4
	margin       = 15.0
	contentW     = pageW - 2*margin
	footerTop    = pageH - 16 // the footer's band starts here
	rowH         = 5.2        // one line of the transactions table
)

// Column widths of the transactions table; they add up to contentW.
var cols = [4]float64{24, contentW - 24 - 34 - 34, 34, 34}

// Greys and the bank's colour, as RGB.
var (
	ink    = [3]int{33, 37, 41}
	muted  = [3]int{90, 98, 107}
	rule   = [3]int{200, 205, 210}
	band   = [3]int{235, 239, 243}
	stripe = [3]int{247, 248, 250}
	brand  = [3]int{16, 78, 139}
)

// PDF writes the statement as a PDF document. Its creation date is the
// statement's last day, so the same statement always gives the same bytes.
func (s *Statement) PDF(w io.Writer) error {
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", Size: fpdf.SizeType{Wd: pageW, Ht: pageH}})
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(false, 0) // pages break where a whole row no longer fits; see row
	f.SetCatalogSort(true)
	// Uncompressed: fpdf starts a fresh zlib writer (a megabyte of state)
	// per page, which made rendering 2.7 times as costly for a document
	// 5.5 times smaller (10 KB against 57 KB for four pages); a partner's
	// CPU per call matters more here than a few kilobytes (decisions.md).
	f.SetCompression(false)
	f.SetCreationDate(s.LastDay())
	f.SetModificationDate(s.LastDay())
	f.SetTitle(s.w("Statement")+" "+s.Period()+", "+s.w("account")+" "+s.Account.Number.Masked(), true)
	f.SetAuthor(s.Bank.Name, true)
	f.SetCreator(s.Bank.Name, true)
	f.SetProducer("bankbridge (go-pdf/fpdf)", false)
	f.SetLang(pdfLang(s.Lang))
	f.AliasNbPages("{nb}")
	r := &render{f: f, s: s, tr: cp1252}
	f.SetHeaderFunc(r.header)
	f.SetFooterFunc(r.footer)

	f.AddPage()
	r.summary()
	r.table()
	if err := f.Error(); err != nil {
		return fmt.Errorf("statement: pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return fmt.Errorf("statement: pdf: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// render draws one statement.
type render struct {
	f  *fpdf.Fpdf
	s  *Statement
	tr func(string) string // UTF-8 to the core fonts' Windows-1252
}

// cp1252 turns UTF-8 into the Windows-1252 bytes the PDF's core fonts
// read, a letter it lacks becoming "?". x/text's table is safe for
// concurrent use and built once; fpdf's own translator parses its map on
// every call, a fifth of a statement's rendering.
func cp1252(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			b = append(b, byte(r))
			continue
		}
		c, ok := charmap.Windows1252.EncodeRune(r)
		if !ok {
			c = '?'
		}
		b = append(b, c)
	}
	return string(b)
}

func (r *render) color(c [3]int) { r.f.SetTextColor(c[0], c[1], c[2]) }
func (r *render) fill(c [3]int)  { r.f.SetFillColor(c[0], c[1], c[2]) }
func (r *render) line(c [3]int)  { r.f.SetDrawColor(c[0], c[1], c[2]) }

// text writes s in a cell of width w.
func (r *render) text(w, h float64, s, align string, fill bool) {
	r.f.CellFormat(w, h, r.tr(s), "", 0, align, fill, 0, "")
}

// header is every page's top: the bank on the left, what the document is on
// the right, a rule below.
func (r *render) header() {
	f, s := r.f, r.s
	top := margin
	f.SetXY(margin, top)
	r.color(brand)
	f.SetFont("Helvetica", "B", 17)
	r.text(contentW/2, 8, s.Bank.Name, "L", false)
	f.SetFont("Helvetica", "B", 13)
	r.color(ink)
	r.text(contentW/2, 8, s.w("Account statement"), "R", false)
	f.Ln(8)
	f.SetFont("Helvetica", "", 8.5)
	right := []string{s.Period() + ": " + span(s.Lang, s.Start, s.LastDay()),
		s.Account.Name + " " + s.Account.Number.Masked()}
	left := append([]string(nil), s.Bank.Address...)
	if c := strings.Join(nonEmpty(s.Bank.Phone, s.Bank.Website), " · "); c != "" {
		left = append(left, c)
	}
	for i := range max(len(left), len(right)) {
		f.SetX(margin)
		r.color(muted)
		r.text(contentW/2, 4, at(left, i), "L", false)
		r.color(ink)
		r.text(contentW/2, 4, at(right, i), "R", false)
		f.Ln(4)
	}
	f.Ln(2)
	r.line(rule)
	f.SetLineWidth(0.3)
	f.Line(margin, f.GetY(), pageW-margin, f.GetY())
	f.Ln(5)
}

// footer is every page's foot: what and whose, and the page number.
func (r *render) footer() {
	f, s := r.f, r.s
	f.SetXY(margin, footerTop+4)
	r.line(rule)
	f.SetLineWidth(0.2)
	f.Line(margin, footerTop+2, pageW-margin, footerTop+2)
	f.SetFont("Helvetica", "", 7.5)
	r.color(muted)
	r.text(contentW*0.75, 4, s.Bank.Name+" · "+s.w("Statement for")+" "+s.Period()+" · "+s.w("Account")+" "+s.Account.Number.Masked()+
		" · "+s.w("Questions?")+" "+strings.Join(nonEmpty(s.Bank.Phone, s.Bank.Website), " · "), "L", false)
	r.text(contentW*0.25, 4, fmt.Sprintf(s.w("Page %d of {nb}"), f.PageNo()), "R", false)
}

// summary is page one's block under the header: to whom, which account, and
// the month's figures.
func (r *render) summary() {
	f, s := r.f, r.s
	cur := s.Account.Currency
	y := f.GetY()
	half := contentW/2 - 4

	// Left: the customer and the account.
	f.SetXY(margin, y)
	f.SetFont("Helvetica", "B", 8)
	r.color(muted)
	r.text(half, 5, s.w("STATEMENT FOR"), "L", false)
	f.Ln(5)
	f.SetFont("Helvetica", "B", 11)
	r.color(ink)
	r.text(half, 5.5, s.Holder, "L", false)
	f.Ln(5.5)
	f.SetFont("Helvetica", "", 9.5)
	for _, l := range s.Address {
		r.text(half, 4.6, l, "L", false)
		f.Ln(4.6)
	}
	f.Ln(4)
	f.SetFont("Helvetica", "B", 8)
	r.color(muted)
	r.text(half, 5, s.w("ACCOUNT"), "L", false)
	f.Ln(5)
	r.color(ink)
	for _, kv := range [][2]string{
		{s.w("Account"), s.Account.Name},
		{s.w("Type"), s.w(kind(s.Account.Kind))},
		{s.w("Number"), s.Account.Number.Masked()},
		{s.w("Routing number"), s.Account.Routing},
		{s.w("Credit limit"), creditLimit(s.Account)},
		{s.w("Currency"), string(cur)},
		{s.w("Statement date"), dayIn(s.Lang, s.LastDay())},
	} {
		if kv[1] == "" {
			continue
		}
		f.SetFont("Helvetica", "", 9.5)
		r.color(muted)
		r.text(32, 4.8, kv[0], "L", false)
		r.color(ink)
		r.text(half-32, 4.8, kv[1], "L", false)
		f.Ln(4.8)
	}
	leftEnd := f.GetY()

	// Right: the figures in a shaded box.
	x := margin + contentW/2 + 4
	w := contentW/2 - 4
	rows := []struct {
		label string
		v     ledger.Amount
		bold  bool
	}{
		{s.w("Opening balance"), s.Opening, true},
		{s.w("Money in"), s.Credits, false},
		{s.w("Money out"), -s.Debits, false},
		{s.w("Closing balance"), s.Closing, true},
	}
	h := 7 + float64(len(rows))*6.5 + 4 + 2*5.5 + 4
	r.fill(band)
	f.Rect(x, y, w, h, "F")
	f.SetXY(x+4, y+2)
	f.SetFont("Helvetica", "B", 8)
	r.color(muted)
	r.text(w-8, 5, s.w("ACCOUNT SUMMARY")+", "+strings.ToUpper(span(s.Lang, s.Start, s.LastDay())), "L", false)
	f.SetXY(x+4, y+7)
	for _, row := range rows {
		style := ""
		if row.bold {
			style = "B"
		}
		// The label shrinks, never under 8 pt, to keep a gap before the figure.
		size := 10.0
		f.SetFont("Helvetica", style, size)
		for size > 8 && f.GetStringWidth(r.tr(row.label)) > w-8-34-3 {
			size -= 0.5
			f.SetFont("Helvetica", style, size)
		}
		r.color(ink)
		f.SetX(x + 4)
		r.text(w-8-34, 6.5, row.label, "L", false)
		f.SetFont("Helvetica", style, 10)
		r.text(34, 6.5, row.v.Display(cur), "R", false)
		f.Ln(6.5)
	}
	f.Ln(1)
	r.line(rule)
	f.Line(x+4, f.GetY(), x+w-4, f.GetY())
	f.Ln(3)
	f.SetFont("Helvetica", "", 9)
	for _, kv := range []struct {
		label string
		v     ledger.Amount
	}{{s.w("Fees this period"), s.Fees}, {s.w("Interest this period"), s.Interest}} {
		f.SetX(x + 4)
		r.color(muted)
		r.text(w-8-34, 5.5, kv.label, "L", false)
		r.color(ink)
		r.text(34, 5.5, kv.v.Display(cur), "R", false)
		f.Ln(5.5)
	}
	f.SetY(max(leftEnd, y+h) + 8)
}

// table is the transactions, oldest first, between an opening and a
// closing balance row; its header repeats on every page.
func (r *render) table() {
	f, s := r.f, r.s
	cur := s.Account.Currency
	f.SetX(margin)
	f.SetFont("Helvetica", "B", 12)
	r.color(ink)
	r.text(contentW/2, 7, s.w("Transactions"), "L", false)
	f.SetFont("Helvetica", "", 9)
	r.color(muted)
	r.text(contentW/2, 7, count(s, len(s.Lines)), "R", false)
	f.Ln(8)
	r.tableHead()
	r.row(dayIn(s.Lang, s.Start), []string{r.tr(s.w("Opening balance"))}, "", s.Opening.Display(cur), true, false)
	for i, l := range s.Lines {
		desc := s.desc(l.Description)
		if desc == "" {
			desc = s.w("Transaction")
		}
		f.SetFont("Helvetica", "", 9)
		// Split as UTF-8, then encode each line: SplitText reads its text
		// as UTF-8 and would turn every Windows-1252 letter (the "ó" of
		// "Comisión") into U+FFFD. A Latin-1 letter's rune is its
		// Windows-1252 byte, so the core font's widths still apply.
		lines := r.f.SplitText(desc, cols[1]-3)
		if len(lines) > 3 { // a long note wraps to three lines at most
			lines = append(lines[:2], strings.TrimSpace(lines[2])+"…")
		}
		for i := range lines {
			lines[i] = r.tr(lines[i])
		}
		r.row(dayIn(s.Lang, l.Date), lines, l.Amount.Display(cur), l.Balance.Display(cur), false, i%2 == 1)
	}
	r.row(dayIn(s.Lang, s.LastDay()), []string{r.tr(s.w("Closing balance"))}, "", s.Closing.Display(cur), true, false)
	f.Ln(4)
	f.SetFont("Helvetica", "", 8)
	r.color(muted)
	note := fmt.Sprintf(s.w("Amounts are in %s. Money out is shown with a minus sign"), cur)
	if s.Account.Kind == ledger.CreditCard {
		note += s.w("; a balance below zero is what you owe")
	}
	note += s.w(". Transactions are dated when they were made (UTC); a transaction still pending at the end of the month is not shown until it is posted.")
	f.SetX(margin)
	f.MultiCell(contentW, 4, r.tr(note), "", "L", false)
}

// tableHead draws the table's column titles.
func (r *render) tableHead() {
	f, s := r.f, r.s
	f.SetX(margin)
	f.SetFont("Helvetica", "B", 8.5)
	r.fill(band)
	r.color(ink)
	for i, t := range []string{"Date", "Description", "Amount", "Balance"} {
		align := "L"
		if i >= 2 {
			align = "R"
		}
		f.CellFormat(cols[i], 7, r.tr(" "+s.w(t)+" "), "", 0, align, true, 0, "")
	}
	f.Ln(7)
}

// row draws one row; desc are lines already in the fonts' encoding (r.tr),
// as SplitText returns them, and may be several. When the row would cross
// the footer, it starts a new page and repeats the table's head first.
func (r *render) row(date string, desc []string, amount, balance string, bold, shade bool) {
	f := r.f
	h := rowH*float64(len(desc)) + 1.2
	if f.GetY()+h > footerTop-2 {
		f.AddPage()
		r.tableHead()
	}
	y := f.GetY()
	if shade {
		r.fill(stripe)
		f.Rect(margin, y, contentW, h, "F")
	}
	style := ""
	if bold {
		style = "B"
	}
	f.SetFont("Helvetica", style, 9)
	r.color(ink)
	f.SetXY(margin, y+0.6)
	f.CellFormat(cols[0], rowH, r.tr(" "+date), "", 0, "L", false, 0, "")
	for i, d := range desc {
		f.SetXY(margin+cols[0], y+0.6+rowH*float64(i))
		f.CellFormat(cols[1], rowH, " "+d, "", 0, "L", false, 0, "")
	}
	f.SetXY(margin+cols[0]+cols[1], y+0.6)
	r.text(cols[2], rowH, amount+" ", "R", false)
	r.text(cols[3], rowH, balance+" ", "R", false)
	r.line(rule)
	f.SetLineWidth(0.1)
	f.Line(margin, y+h, pageW-margin, y+h)
	f.SetXY(margin, y+h)
}

// creditLimit is a card's credit limit for people; "" for other accounts.
func creditLimit(a ledger.Account) string {
	if a.Kind != ledger.CreditCard {
		return ""
	}
	return a.Limit.Display(a.Currency)
}

func at(ss []string, i int) string {
	if i < len(ss) {
		return ss[i]
	}
	return ""
}

// pdfLang is the document's language tag (PDF 32000-1 §14.9.2, BCP 47).
func pdfLang(lang string) string {
	if lang == Spanish {
		return "es-US"
	}
	return "en-US"
}

func count(s *Statement, n int) string {
	if n == 1 {
		return s.w("1 transaction")
	}
	return fmt.Sprintf(s.w("%s transactions"), ledger.Grouped(int64(n)))
}

func kind(k ledger.AccountKind) string {
	switch k {
	case ledger.Checking:
		return "Checking"
	case ledger.Savings:
		return "Savings"
	case ledger.CreditCard:
		return "Credit card"
	}
	return string(k)
}
