package dataapi

import (
	"errors"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
)

// errIsNotFound reports a NotFound error from a capability.
func errIsNotFound(err error) bool { return bankbridge.ErrorKind(err) == bankbridge.NotFound }

// CustomerName is FDX's CustomerName.
type CustomerName struct {
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
}

// Address is FDX's DeliveryAddress.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	Type       string `json:"type,omitempty"`
}

// Telephone is FDX's TelephoneNumber.
type Telephone struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

// Customer is FDX's Customer entity as this bank fills it: the pairwise
// customerId always; name, addresses, email and telephones with
// CUSTOMER_CONTACT; birthYear with CUSTOMER_PERSONAL (the bank keeps only
// the year, not FDX's dateOfBirth).
type Customer struct {
	CustomerID string        `json:"customerId"`
	Name       *CustomerName `json:"name,omitempty"`
	Addresses  []Address     `json:"addresses,omitempty"`
	Email      []string      `json:"email,omitempty"`
	Telephones []Telephone   `json:"telephones,omitempty"`
	BirthYear  int           `json:"birthYear,omitempty"`
}

// granted reports whether the consent shares cluster for any account (the
// customer clusters are not about one account) and the token carries it.
func (c *call) granted(cluster consent.Cluster) bool {
	for _, r := range c.acc.Grant.Resources {
		if c.acc.Allows(r.Account, cluster) {
			return true
		}
	}
	return false
}

func (s *Server) customer(c *call) {
	contact, personal := c.granted(consent.CustomerContact), c.granted(consent.CustomerPersonal)
	if !contact && !personal {
		c.fail(errNotFound)
		return
	}
	var cls []consent.Cluster
	var fields []string
	if contact {
		cls = append(cls, consent.CustomerContact)
		fields = append(fields, "customer.name", "customer.addresses", "customer.email", "customer.telephones")
	}
	if personal {
		cls = append(cls, consent.CustomerPersonal)
		fields = append(fields, "customer.birthYear")
	}
	c.disclose(nil, cls, fields)
	p, err := s.d.Customers.Customer(c.ctx, c.acc.Grant.Customer)
	if err != nil {
		if errors.Is(err, identity.ErrCustomerNotFound) || errIsNotFound(err) {
			err = errNotFound
		}
		c.fail(err)
		return
	}
	out := Customer{CustomerID: c.acc.Subject}
	if contact {
		first, last := splitName(p.Name)
		out.Name = &CustomerName{First: first, Last: last}
		if p.Email != "" {
			out.Email = []string{p.Email}
		}
		if p.Phone != "" {
			out.Telephones = []Telephone{{Type: "PERSONAL", Number: p.Phone}}
		}
		if ad := addressOf(p.Address); ad.Line1 != "" || ad.City != "" {
			out.Addresses = []Address{ad}
		}
	}
	if personal {
		out.BirthYear = p.BirthYear
	}
	c.json(200, out)
}

// splitName splits a full name at its last space: the bank keeps one name
// field, FDX asks for first and last.
func splitName(n string) (string, string) {
	n = strings.TrimSpace(n)
	if i := strings.LastIndexByte(n, ' '); i > 0 {
		return n[:i], n[i+1:]
	}
	return n, ""
}

func addressOf(a identity.Address) Address {
	return Address{Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, Type: "HOME"}
}
