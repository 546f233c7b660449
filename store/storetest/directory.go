package storetest

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// CustomerSearcher is the staff console's customer lookup.
type CustomerSearcher interface {
	SearchCustomers(ctx context.Context, text string, limit int) ([]identity.Customer, error)
}

// DirectoryOpener opens a fresh database's customer search, its identity
// store and its ledger store (for account numbers).
type DirectoryOpener func(t testing.TB) (CustomerSearcher, identity.Store, ledger.Store)

// Directory runs the customer search conformance suite: partial and
// case-insensitive on name and e-mail, on the digits of a phone number and
// of an account number; wildcards typed by staff match themselves.
func Directory(t *testing.T, open DirectoryOpener) {
	t.Run("SearchByNameEmailPhoneAccount", func(t *testing.T) {
		t.Parallel()
		se, ids, led := open(t)
		ctx := context.Background()
		mk := func(name, email, phone, number string) bankbridge.CustomerID {
			c, err := ids.CreateCustomer(ctx, identity.Customer{Name: name, Email: email, Phone: phone, BirthYear: 1950, Since: idT0}, idHash)
			noErr(t, err)
			if _, err := led.CreateAccount(ctx, ledger.Account{Customer: c.ID, Kind: ledger.Checking, Name: "Checking", Currency: "USD",
				Number: ledger.AccountNumber(number), Routing: "011000015"}); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		ada := mk("Ada Lovelace", "ada@example.com", "+1 (555) 010-0001", "1000000012")
		grace := mk("Grace Hopper", "grace_h@navy.example", "+15550100777", "2000000099")
		edsger := mk("Edsger Dijkstra", "ewd@example.nl", "+31 20 555 1234", "3000000456")
		alvaro := mk("Álvaro Núñez", "alvaro@correo.es", "+34 91 555 0000", "4000000789")
		for text, want := range map[string][]bankbridge.CustomerID{
			"LOVE":        {ada},
			"hopper":      {grace},
			"example.":    {ada, edsger},
			"ada_":        nil,     // "_" is no wildcard: "ada@" does not match
			"e_h":         {grace}, // but a typed "_" matches itself
			"555 010":     {ada, grace},
			"0100777":     {grace},
			"0000456":     {edsger},
			"0012":        {ada},
			"%%":          nil,
			"nobody here": nil,
			// Capitals beyond ASCII, the same on both engines.
			"ÁLVARO":   {alvaro},
			"núñez":    {alvaro},
			"ÁLVARO N": {alvaro},
		} {
			got, err := se.SearchCustomers(ctx, text, 10)
			if err != nil {
				t.Errorf("search %q: %v", text, err)
				continue
			}
			var ids []bankbridge.CustomerID
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			// Ordered by name: Ada, Edsger, Grace, Álvaro.
			if d := cmp.Diff(want, ids); d != "" {
				t.Errorf("search %q (-want +got):\n%s", text, d)
			}
		}
		if _, err := se.SearchCustomers(ctx, "a", 10); bankbridge.ErrorKind(err) != bankbridge.Invalid {
			t.Errorf("a one-letter search = %v, want Invalid", err)
		}
	})
}
