package identity

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/legible"
)

// Realm separates the two populations that log in: customers (the web app)
// and staff (the bank console). Emails are unique within a realm, and a
// session belongs to exactly one realm.
type Realm string

// The realms.
const (
	RealmCustomer Realm = "customer"
	RealmStaff    Realm = "staff"
)

// Valid reports whether r is one of the realms.
func (r Realm) Valid() bool { return r == RealmCustomer || r == RealmStaff }

// Address is a postal address. Every field is optional.
type Address struct{ Line1, Line2, City, Region, PostalCode, Country string }

// Customer is a customer of the bank. Only the birth year is kept, enough for
// the age bands of insights and for the 18+ rule, and no more.
type Customer struct {
	ID        bankbridge.CustomerID
	Name      string
	Email     string // normalised: trimmed, lower case; unique among customers
	Phone     string // optional; normalised to digits with an optional leading +
	Address   Address
	BirthYear int
	Since     time.Time // when the customer joined
}

// AgeBand is a coarse age bracket used to segment engagement without
// handling birth dates.
type AgeBand string

// The age bands, youngest first.
const (
	AgeUnder18 AgeBand = "under-18"
	Age18to24  AgeBand = "18-24"
	Age25to34  AgeBand = "25-34"
	Age35to44  AgeBand = "35-44"
	Age45to54  AgeBand = "45-54"
	Age55to64  AgeBand = "55-64"
	Age65Plus  AgeBand = "65+"
)

// AgeBands lists the bands of adult customers in order, for reports.
var AgeBands = []AgeBand{Age18to24, Age25to34, Age35to44, Age45to54, Age55to64, Age65Plus}

// AgeBand returns the customer's band at now. Only the birth year is known,
// so the age is the difference of the years.
func (c Customer) AgeBand(now time.Time) AgeBand {
	switch age := now.Year() - c.BirthYear; {
	case age < 18:
		return AgeUnder18
	case age < 25:
		return Age18to24
	case age < 35:
		return Age25to34
	case age < 45:
		return Age35to44
	case age < 55:
		return Age45to54
	case age < 65:
		return Age55to64
	default:
		return Age65Plus
	}
}

// Role is what a member of staff may do in the console.
type Role string

// The staff roles.
const (
	Administrator Role = "administrator" // everything, including adding staff
	Support       Role = "support"       // customer chats and hand-overs
	Compliance    Role = "compliance"    // audit, consents, freezing access
	Analyst       Role = "analyst"       // engagement reports only
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	switch r {
	case Administrator, Support, Compliance, Analyst:
		return true
	}
	return false
}

// Staff is a member of bank staff.
type Staff struct {
	ID      bankbridge.StaffID
	Email   string // normalised; unique among staff
	Name    string
	Role    Role
	Created time.Time
}

// Errors a caller can act on. Compare with errors.Is.
var (
	// ErrBadCredentials answers a login with an unknown email or a wrong
	// password, indistinguishably.
	ErrBadCredentials = bankbridge.E(bankbridge.Unauthenticated, "bad_credentials", "the email or password is not right")
	// ErrLocked answers a login (or step-up) on an account locked after too
	// many failures; the lock lifts by itself.
	ErrLocked = bankbridge.E(bankbridge.TooManyRequests, "login_locked", "too many failed attempts; try again later")
	// ErrTOTPRequired answers a login whose password is right for an account
	// enrolled in TOTP when the code is missing or wrong.
	ErrTOTPRequired = bankbridge.E(bankbridge.Unauthenticated, "totp_required", "enter the 6-digit code from your authenticator app")
	// ErrNoSession answers a token that is unknown, malformed or expired.
	ErrNoSession = bankbridge.E(bankbridge.Unauthenticated, "no_session", "please log in")
	// ErrBadCode answers a TOTP code that is wrong, expired or already used.
	ErrBadCode = bankbridge.E(bankbridge.Invalid, "totp_code_invalid", "the code is not right; wait for a new one and try again")
	// ErrTOTPEnrolled answers BeginTOTP for an account already enrolled.
	ErrTOTPEnrolled = bankbridge.E(bankbridge.Conflict, "totp_already_enrolled", "an authenticator app is already set up")
	// ErrTOTPNotEnrolled answers StepUp for an account with no authenticator.
	ErrTOTPNotEnrolled = bankbridge.E(bankbridge.Conflict, "totp_not_enrolled", "set up an authenticator app first")
	// ErrTOTPNotBegun answers ConfirmTOTP without a BeginTOTP before it.
	ErrTOTPNotBegun = bankbridge.E(bankbridge.Conflict, "totp_not_begun", "start setting up the authenticator app again")
	// ErrEmailTaken answers a registration whose email is already used in
	// the realm.
	ErrEmailTaken = bankbridge.E(bankbridge.Conflict, "email_taken", "that email address is already registered")
	// ErrCustomerInvalid carries per-field problems (Fields) of a customer.
	ErrCustomerInvalid = bankbridge.E(bankbridge.Invalid, "customer_invalid", "some details are missing or not valid")
	// ErrStaffInvalid carries per-field problems (Fields) of a member of staff.
	ErrStaffInvalid = bankbridge.E(bankbridge.Invalid, "staff_invalid", "some details are missing or not valid")
	// ErrRealm answers a realm that is neither customer nor staff.
	ErrRealm = bankbridge.E(bankbridge.Invalid, "realm_invalid", "unknown login realm")
	// ErrCustomerNotFound answers an unknown customer id.
	ErrCustomerNotFound = bankbridge.E(bankbridge.NotFound, "customer_not_found", "no such customer")
	// ErrStaffNotFound answers an unknown staff id.
	ErrStaffNotFound = bankbridge.E(bankbridge.NotFound, "staff_not_found", "no such member of staff")
)

// Password length bounds: NIST SP 800-63B asks for at least 8 characters and
// for long passphrases to be allowed; the upper bound stops absurd inputs.
const (
	MinPasswordLen = 8    // characters
	MaxPasswordLen = 1024 // bytes
)

// NormalizeEmail trims and lower-cases an email, the form in which emails
// are stored and compared.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func normalizeCustomer(c Customer) Customer {
	c.Name = strings.TrimSpace(c.Name)
	c.Email = NormalizeEmail(c.Email)
	c.Phone = normalizePhone(c.Phone)
	a := &c.Address
	a.Line1, a.Line2 = strings.TrimSpace(a.Line1), strings.TrimSpace(a.Line2)
	a.City, a.Region = strings.TrimSpace(a.City), strings.TrimSpace(a.Region)
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	return c
}

// normalizePhone drops the separators people type (spaces, dashes, dots,
// parentheses); what is left is validated by validPhone.
func normalizePhone(p string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\t':
			return -1
		}
		return r
	}, strings.TrimSpace(p))
}

// validPhone accepts E.164-sized numbers: an optional +, then 7 to 15 digits.
func validPhone(p string) bool {
	digits := strings.TrimPrefix(p, "+")
	if len(digits) < 7 || len(digits) > 15 {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validEmail(e string) bool {
	if e == "" || len(e) > 254 {
		return false
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Name == "" && a.Address == e
}

// customerFields lists what is wrong with a normalised customer, with JSON
// pointers under prefix ("" for a single customer, "/3" for an import).
func customerFields(c Customer, now time.Time, prefix string) []bankbridge.FieldError {
	var fs []bankbridge.FieldError
	add := func(field, detail string) {
		fs = append(fs, bankbridge.FieldError{Pointer: prefix + "/" + field, Detail: detail})
	}
	switch {
	case c.Name == "":
		add("name", "enter your name")
	case utf8.RuneCountInString(c.Name) > 200:
		add("name", "the name is longer than 200 characters")
	case legible.Check(c.Name) != nil:
		add("name", "the name "+legible.Check(c.Name).Error())
	}
	if !validEmail(c.Email) {
		add("email", "enter an email address such as name@example.com")
	}
	switch age := now.Year() - c.BirthYear; {
	case c.BirthYear == 0:
		add("birth_year", "enter your year of birth")
	case age < 18:
		add("birth_year", "customers must be at least 18 years old")
	case age > 120:
		add("birth_year", fmt.Sprintf("enter a year of birth after %d", now.Year()-121))
	}
	if c.Phone != "" && !validPhone(c.Phone) {
		add("phone", "enter a phone number such as +1 555 010 0000, or leave it empty")
	}
	for _, f := range []struct{ name, v string }{
		{"address/line1", c.Address.Line1}, {"address/line2", c.Address.Line2},
		{"address/city", c.Address.City}, {"address/region", c.Address.Region},
		{"address/postal_code", c.Address.PostalCode}, {"address/country", c.Address.Country},
	} {
		if utf8.RuneCountInString(f.v) > 200 {
			add(f.name, "this is longer than 200 characters")
		} else if err := legible.Check(f.v); err != nil {
			add(f.name, "this "+err.Error())
		}
	}
	return fs
}

func passwordFields(password string) []bankbridge.FieldError {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return []bankbridge.FieldError{{Pointer: "/password", Detail: fmt.Sprintf("use at least %d characters", MinPasswordLen)}}
	case len(password) > MaxPasswordLen:
		return []bankbridge.FieldError{{Pointer: "/password", Detail: fmt.Sprintf("use at most %d characters", MaxPasswordLen)}}
	}
	return nil
}

func staffFields(st Staff) []bankbridge.FieldError {
	var fs []bankbridge.FieldError
	if st.Name == "" {
		fs = append(fs, bankbridge.FieldError{Pointer: "/name", Detail: "enter a name"})
	} else if err := legible.Check(st.Name); err != nil {
		fs = append(fs, bankbridge.FieldError{Pointer: "/name", Detail: "the name " + err.Error()})
	}
	if !validEmail(st.Email) {
		fs = append(fs, bankbridge.FieldError{Pointer: "/email", Detail: "enter an email address such as name@example.com"})
	}
	if !st.Role.Valid() {
		fs = append(fs, bankbridge.FieldError{Pointer: "/role", Detail: "choose administrator, support, compliance or analyst"})
	}
	return fs
}

// invalid returns base naming op with the field problems attached.
func invalid(base *bankbridge.Error, op string, fs []bankbridge.FieldError) error {
	e := base.WithOp(op, nil)
	e.Fields = fs
	return e
}
