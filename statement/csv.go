package statement

import (
	"encoding/csv"
	"io"
	"strings"
	"time"
)

// CSV writes the statement's lines as CSV for spreadsheets: a header row,
// an opening balance row, one row per transaction and a closing balance
// row, in the statement's language (column names, the bank's descriptions,
// categories for people: "Fast food", "Comida rápida"). Dates are ISO 8601
// and amounts the ledger's machine form (Amount.Format: "-12.50") in both
// languages, with the currency in its own column, so a spreadsheet sorts
// and sums them whatever its locale.
func (s *Statement) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cur := s.Account.Currency
	rows := [][]string{{s.w("date"), s.w("description"), s.w("category"), s.w("amount"), s.w("balance"), s.w("currency")}}
	rows = append(rows, []string{s.Start.Format(time.DateOnly), s.w("Opening balance"), "", "", s.Opening.Format(cur), string(cur)})
	for _, l := range s.Lines {
		rows = append(rows, []string{l.Date.Format(time.DateOnly), safe(s.desc(l.Description)), safe(s.category(l.Category)), l.Amount.Format(cur),
			l.Balance.Format(cur), string(cur)})
	}
	rows = append(rows, []string{s.LastDay().Format(time.DateOnly), s.w("Closing balance"), "", "", s.Closing.Format(cur), string(cur)})
	for _, row := range rows {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safe defuses spreadsheet formulas in text cells (OWASP "CSV Injection",
// https://owasp.org/www-community/attacks/CSV_Injection): a cell starting
// with = + - @, a tab or a carriage return gets a leading apostrophe.
// Amount cells are never text and are left as numbers.
func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
