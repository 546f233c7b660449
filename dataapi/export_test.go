package dataapi

import (
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// Operation is one route of the table, for the test that keeps the table
// and the OpenAPI document equal.
type Operation struct {
	Method, Path string // Path with Prefix
	Params       []string
}

// Operations lists the route table.
func (s *Server) Operations() []Operation {
	var out []Operation
	for _, rt := range s.table() {
		out = append(out, Operation{rt.method, Prefix + rt.path, rt.params})
	}
	return out
}

// StatementIDForTest is the id partner would see for account's statement
// of the month of t.
func StatementIDForTest(s *Server, partner string, account ledger.AccountID, t time.Time) string {
	return s.ids.Statement(partner, account, time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
}
