package dataapi

import (
	"errors"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// AccountHolder is FDX's AccountHolder: who holds the account and how.
type AccountHolder struct {
	Type         string       `json:"type"`
	Name         CustomerName `json:"name"`
	Relationship string       `json:"relationship"`
}

// AccountContact is the answer of GET /accounts/{accountId}/contact
// (FDX 6.4 AccountContact): the holders and their email addresses, postal
// addresses and telephones, each list with at least one entry.
type AccountContact struct {
	Holders    []AccountHolder `json:"holders"`
	Emails     []string        `json:"emails"`
	Addresses  []Address       `json:"addresses"`
	Telephones []Telephone     `json:"telephones"`
}

// contact answers GET /accounts/{accountId}/contact with the account
// holder's contact details, when the consent shares CUSTOMER_CONTACT for
// that account. Every account has one holder, its customer (SOLE_OWNER).
// FDX requires each of the four lists, so a customer the bank holds no
// email, postal address (line, city, country) or telephone for has no
// contact record to give: not found.
func (s *Server) contact(c *call) {
	a, err := c.resolve(c.r.PathValue("accountId"), consent.CustomerContact)
	if err != nil {
		c.fail(err)
		return
	}
	p, err := s.d.Customers.Customer(c.ctx, c.acc.Grant.Customer)
	if err != nil {
		if errors.Is(err, identity.ErrCustomerNotFound) || errIsNotFound(err) {
			err = errNotFound
		}
		c.fail(err)
		return
	}
	ad := addressOf(p.Address)
	first, last := splitName(p.Name)
	if p.Email == "" || p.Phone == "" || ad.Line1 == "" || ad.City == "" || len(ad.Country) != 2 || first == "" || last == "" {
		c.fail(errNotFound)
		return
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.CustomerContact},
		[]string{"customer.name", "customer.addresses", "customer.email", "customer.telephones"})
	c.json(200, AccountContact{
		Holders:    []AccountHolder{{Type: "CONSUMER", Name: CustomerName{First: first, Last: last}, Relationship: "SOLE_OWNER"}},
		Emails:     []string{p.Email},
		Addresses:  []Address{ad},
		Telephones: []Telephone{{Type: "PERSONAL", Number: p.Phone}},
	})
}
