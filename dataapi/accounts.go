package dataapi

import (
	"encoding/json"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// money renders an amount in major units as an exact JSON number: FDX
// amounts are numbers ("currentBalance": 192.00); rendering from the
// integer minor units keeps them exact.
func money(a ledger.Amount, c ledger.Currency) json.Number { return json.Number(a.Format(c)) }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Currency is FDX's Currency entity.
type Currency struct {
	CurrencyCode string `json:"currencyCode"`
}

// Account is FDX 6.4's account: its descriptor (AccountDescriptor, the
// ACCOUNT_BASIC cluster: category, type, masked number, product name,
// status, currency), with ACCOUNT_DETAILED's open date and limits and
// BALANCES's balances when the consent shares them. GET /accounts lists
// descriptors (FDX AccountWithDescriptor), GET /accounts/{accountId} the
// details (FDX AccountWithDetails, which requires the balances).
type Account struct {
	AccountID            string    `json:"accountId"`
	AccountCategory      string    `json:"accountCategory,omitempty"`
	AccountType          string    `json:"accountType,omitempty"`
	AccountNumberDisplay string    `json:"accountNumberDisplay,omitempty"`
	ProductName          string    `json:"productName,omitempty"`
	Nickname             string    `json:"nickname,omitempty"`
	Status               string    `json:"status,omitempty"`
	Currency             *Currency `json:"currency,omitempty"`
	// ACCOUNT_DETAILED
	AccountOpenDate string       `json:"accountOpenDate,omitempty"`
	OverdraftLimit  *json.Number `json:"overdraftLimit,omitempty"`
	CreditLine      *json.Number `json:"creditLine,omitempty"`
	// BALANCES
	BalanceAsOf      string       `json:"balanceAsOf,omitempty"`
	CurrentBalance   *json.Number `json:"currentBalance,omitempty"`
	AvailableBalance *json.Number `json:"availableBalance,omitempty"`
	AvailableCredit  *json.Number `json:"availableCredit,omitempty"`
}

func num(n json.Number) *json.Number { return &n }

// category maps a ledger kind to FDX's account category and type.
func category(k ledger.AccountKind) (string, string) {
	switch k {
	case ledger.Savings:
		return "DEPOSIT_ACCOUNT", "SAVINGS"
	case ledger.CreditCard:
		return "LOC_ACCOUNT", "CREDITCARD"
	}
	return "DEPOSIT_ACCOUNT", "CHECKING"
}

// status maps a ledger status to FDX's AccountStatus.
func status(s ledger.AccountStatus) string {
	switch s {
	case ledger.Frozen:
		return "RESTRICTED"
	case ledger.Closed:
		return "CLOSED"
	}
	return "OPEN"
}

// view builds the partner's view of a and says which clusters and fields
// it holds (for the audit record).
func (c *call) view(a ledger.Account, now time.Time) (Account, []consent.Cluster, []string) {
	v := Account{AccountID: c.s.ids.Account(c.partner, a.ID)}
	var cls []consent.Cluster
	var fields []string
	cat, typ := category(a.Kind)
	if c.acc.Allows(a.ID, consent.AccountBasic) {
		cls = append(cls, consent.AccountBasic)
		v.AccountCategory, v.AccountType, v.AccountNumberDisplay, v.ProductName = cat, typ, a.Number.Masked(), a.Name
		v.Status, v.Currency = status(a.Status), &Currency{CurrencyCode: string(a.Currency)}
		fields = append(fields, "account.accountType", "account.accountNumberDisplay", "account.productName", "account.status", "account.currency")
	}
	if c.acc.Allows(a.ID, consent.AccountDetailed) {
		cls = append(cls, consent.AccountDetailed)
		if !a.OpenedAt.IsZero() {
			v.AccountOpenDate = a.OpenedAt.UTC().Format(time.DateOnly)
		}
		if cat == "LOC_ACCOUNT" {
			v.CreditLine = num(money(a.Limit, a.Currency))
		} else {
			v.OverdraftLimit = num(money(a.Limit, a.Currency))
		}
		fields = append(fields, "account.accountOpenDate", "account.limit")
	}
	if c.acc.Allows(a.ID, consent.Balances) {
		cls = append(cls, consent.Balances)
		v.BalanceAsOf = ts(now)
		if cat == "LOC_ACCOUNT" {
			// FDX's LOC balance is what is owed: a positive number.
			owed, _ := a.Balance.Neg()
			v.CurrentBalance = num(money(owed, a.Currency))
			v.AvailableCredit = num(money(a.Spendable(), a.Currency))
		} else {
			v.CurrentBalance = num(money(a.Balance, a.Currency))
			v.AvailableBalance = num(money(a.Available(), a.Currency))
		}
		fields = append(fields, "account.currentBalance", "account.availableBalance")
	}
	return v, cls, fields
}

// consented lists the consent's accounts, read from the ledger, that
// still belong to the consent's customer.
func (c *call) consented() ([]ledger.Account, error) {
	st := c.s.d.Ledger.Store()
	var out []ledger.Account
	for _, r := range c.acc.Grant.Resources {
		a, err := st.Account(c.ctx, r.Account)
		if err != nil {
			if errIsNotFound(err) {
				continue
			}
			return nil, err
		}
		if a.Customer == c.acc.Grant.Customer {
			out = append(out, a)
		}
	}
	return out, nil
}

// resolve maps the partner's account id to the consent's account that
// shares cluster: not found for anything else (another customer's account,
// an account outside the consent or without that cluster, another
// partner's id, a guess).
func (c *call) resolve(id string, cluster consent.Cluster) (ledger.Account, error) {
	if !validID(id) {
		return ledger.Account{}, errNotFound
	}
	for _, r := range c.acc.Grant.Resources {
		if c.s.ids.Account(c.partner, r.Account) != id {
			continue
		}
		if !c.acc.Allows(r.Account, cluster) {
			return ledger.Account{}, errNotFound
		}
		a, err := c.s.d.Ledger.Store().Account(c.ctx, r.Account)
		if err != nil {
			if errIsNotFound(err) {
				return ledger.Account{}, errNotFound
			}
			return ledger.Account{}, err
		}
		if a.Customer != c.acc.Grant.Customer {
			return ledger.Account{}, errNotFound
		}
		return a, nil
	}
	return ledger.Account{}, errNotFound
}

// Accounts is the answer of GET /accounts (FDX 6.4 Accounts: a page of
// account descriptors, at least one).
type Accounts struct {
	Page     *PageMetadata `json:"page,omitempty"`
	Accounts []Account     `json:"accounts"`
}

// accounts lists the consent's accounts whose ACCOUNT_BASIC the consent
// shares (a descriptor is that cluster; FDX requires its fields), a page
// at a time (limit, pageKey or offset). A consent sharing no account's
// descriptor has no account list: not found, as FDX's minItems 1 wants.
func (s *Server) accounts(c *call) {
	as, err := c.consented()
	if err != nil {
		c.fail(err)
		return
	}
	shown := as[:0]
	for _, a := range as {
		if c.acc.Allows(a.ID, consent.AccountBasic) {
			shown = append(shown, a)
		}
	}
	start, end, next, err := c.pageOf(len(shown), defaultLimit, maxLimit, "accounts")
	if err != nil {
		c.fail(err)
		return
	}
	if start >= end {
		c.fail(errNotFound)
		return
	}
	now := s.d.Now().UTC()
	out := Accounts{Accounts: make([]Account, 0, end-start)}
	if next != "" {
		out.Page = &PageMetadata{NextPageKey: next, NextOffset: next}
	}
	var ids []ledger.AccountID
	var cls []consent.Cluster
	var fields []string
	for _, a := range shown[start:end] {
		v, vc, vf := c.view(a, now)
		out.Accounts = append(out.Accounts, v)
		ids = append(ids, a.ID)
		cls, fields = union(cls, vc), unionS(fields, vf)
	}
	c.disclose(ids, cls, fields)
	c.json(200, out)
}

func union(a, b []consent.Cluster) []consent.Cluster {
	for _, x := range b {
		found := false
		for _, y := range a {
			found = found || x == y
		}
		if !found {
			a = append(a, x)
		}
	}
	return a
}

func unionS(a, b []string) []string {
	for _, x := range b {
		if !contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

// account answers GET /accounts/{accountId}: FDX 6.4's AccountWithDetails
// is the descriptor with the balances (DepositAccount requires
// currentBalance and availableBalance, LineOfCreditAccount currentBalance),
// so it needs both ACCOUNT_BASIC and BALANCES; ACCOUNT_DETAILED adds the
// open date and limits. Without both it is not found: the descriptor alone
// is in GET /accounts, the balances alone in .../balances.
func (s *Server) account(c *call) {
	id := c.r.PathValue("accountId")
	a, err := c.resolve(id, consent.AccountBasic)
	if err == nil && !c.acc.Allows(a.ID, consent.Balances) {
		err = errNotFound
	}
	if err != nil {
		c.fail(err)
		return
	}
	v, cls, fields := c.view(a, s.d.Now().UTC())
	c.disclose([]ledger.AccountID{a.ID}, cls, fields)
	c.json(200, v)
}

// Balances is the answer of GET /accounts/{accountId}/balances.
type Balances struct {
	AccountID        string       `json:"accountId"`
	AccountCategory  string       `json:"accountCategory"`
	BalanceAsOf      string       `json:"balanceAsOf"`
	Currency         Currency     `json:"currency"`
	CurrentBalance   json.Number  `json:"currentBalance"`
	AvailableBalance *json.Number `json:"availableBalance,omitempty"`
	AvailableCredit  *json.Number `json:"availableCredit,omitempty"`
}

func (s *Server) balances(c *call) {
	a, err := c.resolve(c.r.PathValue("accountId"), consent.Balances)
	if err != nil {
		c.fail(err)
		return
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.Balances}, []string{"account.currentBalance", "account.availableBalance"})
	cat, _ := category(a.Kind)
	b := Balances{AccountID: c.r.PathValue("accountId"), AccountCategory: cat, BalanceAsOf: ts(s.d.Now()), Currency: Currency{string(a.Currency)}}
	if cat == "LOC_ACCOUNT" {
		owed, _ := a.Balance.Neg()
		b.CurrentBalance, b.AvailableCredit = money(owed, a.Currency), num(money(a.Spendable(), a.Currency))
	} else {
		b.CurrentBalance, b.AvailableBalance = money(a.Balance, a.Currency), num(money(a.Available(), a.Currency))
	}
	c.json(200, b)
}

// PaymentNetwork is FDX's PaymentNetworkSupported: what is needed to pay
// into or out of the account over a network.
type PaymentNetwork struct {
	BankID         string `json:"bankId"`
	Identifier     string `json:"identifier"`
	IdentifierType string `json:"identifierType"`
	Type           string `json:"type"`
	TransferIn     bool   `json:"transferIn"`
	TransferOut    bool   `json:"transferOut"`
}

// PaymentNetworks is the answer of GET /accounts/{accountId}/payment-networks
// (FDX 6.4 AccountPaymentNetworkList: at least one network).
type PaymentNetworks struct {
	Page            *PageMetadata    `json:"page,omitempty"`
	PaymentNetworks []PaymentNetwork `json:"paymentNetworks"`
}

func (s *Server) paymentNetworks(c *call) {
	a, err := c.resolve(c.r.PathValue("accountId"), consent.PaymentSupport)
	if err != nil {
		c.fail(err)
		return
	}
	var nets []PaymentNetwork
	if a.Kind != ledger.CreditCard && a.Status != ledger.Closed {
		nets = append(nets, PaymentNetwork{BankID: a.Routing, Identifier: string(a.Number),
			IdentifierType: "ACCOUNT_NUMBER", Type: "US_ACH", TransferIn: true, TransferOut: a.Status == ledger.Open})
	}
	start, end, next, err := c.pageOf(len(nets), defaultLimit, maxLimit, "payment-networks/"+c.r.PathValue("accountId"))
	if err != nil {
		c.fail(err)
		return
	}
	// A card account, or a closed one, has no network to pay through: FDX
	// 6.4's list holds at least one, so there is no list to answer.
	if start >= end {
		c.fail(errNotFound)
		return
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.PaymentSupport}, []string{"account.accountNumber", "account.routingNumber"})
	out := PaymentNetworks{PaymentNetworks: nets[start:end]}
	if next != "" {
		out.Page = &PageMetadata{NextPageKey: next, NextOffset: next}
	}
	c.json(200, out)
}
