package dataapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// ids derives the identifiers partners see: accounts, payees, transactions
// and statements through consent.Pseudonyms (the authorization server names
// accounts with the same one, so a token's resourceId is the API's
// accountId), stable for one partner across consents, different for every
// partner, never decoded: a handler maps a partner's id back by recomputing
// the ids of the few things the consent covers and comparing, so an id that
// names anything else simply matches nothing.
//
// Page keys are sealed instead (AES-256-GCM under a key derived from the
// same secret), bound to the partner and the account, because they carry a
// position the server must read back.
type ids struct {
	p    *consent.Pseudonyms
	aead cipher.AEAD
}

func newIDs(secret []byte) (*ids, error) {
	p, err := consent.NewPseudonyms(secret)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bankbridge dataapi page keys v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &ids{p: p, aead: aead}, nil
}

// Account is the partner's id for an account.
func (x *ids) Account(partner string, a ledger.AccountID) string {
	return x.p.Account(consent.PartnerID(partner), a)
}

// Payee is the partner's id for a payee.
func (x *ids) Payee(partner string, p ledger.PayeeID) string {
	return x.p.Of(consent.KindPayee, partner, "", int64(p))
}

// Txn is the partner's id for a transfer as seen from one account: the
// same transfer seen from two consented accounts gets two ids, as FDX
// transactions belong to an account.
func (x *ids) Txn(partner string, a ledger.AccountID, t ledger.TransferID) string {
	return x.p.Of(consent.KindTxn, partner, strconv.FormatInt(int64(a), 10), int64(t))
}

// Statement is the partner's id for one account's statement of one month
// (months since year 0, so that ids never collide across years).
func (x *ids) Statement(partner string, a ledger.AccountID, month time.Time) string {
	return x.p.Of(consent.KindStatement, partner, strconv.FormatInt(int64(a), 10), int64(month.Year()*12+int(month.Month())-1))
}

// validID reports whether s has the shape of an id (22 base64url
// characters), so that junk is refused before any work.
func validID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pagePos is a position in an account's history and the query it belongs
// to, sealed into a page key.
type pagePos struct {
	cursor ledger.Cursor
	from   time.Time
	to     time.Time
}

// seal returns the page key of pos for partner's view of account.
func (x *ids) seal(partner, account string, pos pagePos) string {
	var plain [32]byte
	binary.BigEndian.PutUint64(plain[0:], uint64(pos.cursor.At.UnixMicro()))
	binary.BigEndian.PutUint64(plain[8:], uint64(pos.cursor.ID))
	binary.BigEndian.PutUint64(plain[16:], uint64(pos.from.UnixMicro()))
	binary.BigEndian.PutUint64(plain[24:], uint64(pos.to.UnixMicro()))
	nonce := make([]byte, x.aead.NonceSize(), x.aead.NonceSize()+len(plain)+x.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out := x.aead.Seal(nonce, nonce, plain[:], []byte(partner+"\x00"+account))
	return base64.RawURLEncoding.EncodeToString(out)
}

// open reads a page key made by seal for the same partner and account.
func (x *ids) open(partner, account, key string) (pagePos, bool) {
	if len(key) > 128 {
		return pagePos{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	ns := x.aead.NonceSize()
	if err != nil || len(raw) != ns+32+x.aead.Overhead() {
		return pagePos{}, false
	}
	plain, err := x.aead.Open(nil, raw[:ns], raw[ns:], []byte(partner+"\x00"+account))
	if err != nil {
		return pagePos{}, false
	}
	at := int64(binary.BigEndian.Uint64(plain[0:]))
	id := int64(binary.BigEndian.Uint64(plain[8:]))
	if at <= 0 || id <= 0 {
		return pagePos{}, false
	}
	return pagePos{
		cursor: ledger.Cursor{At: time.UnixMicro(at).UTC(), ID: ledger.TransferID(id)},
		from:   time.UnixMicro(int64(binary.BigEndian.Uint64(plain[16:]))).UTC(),
		to:     time.UnixMicro(int64(binary.BigEndian.Uint64(plain[24:]))).UTC(),
	}, true
}

// sealIndex returns the page key of the n-th element of a short list (the
// consent's accounts, an account's statements) for partner, bound to scope
// (the list's name and the account), so that it opens for that list only.
func (x *ids) sealIndex(partner, scope string, n int) string {
	var plain [8]byte
	binary.BigEndian.PutUint64(plain[:], uint64(n))
	nonce := make([]byte, x.aead.NonceSize(), x.aead.NonceSize()+len(plain)+x.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out := x.aead.Seal(nonce, nonce, plain[:], []byte("index\x00"+partner+"\x00"+scope))
	return base64.RawURLEncoding.EncodeToString(out)
}

// openIndex reads a key made by sealIndex for the same partner and scope.
func (x *ids) openIndex(partner, scope, key string) (int, bool) {
	if len(key) > 128 {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	ns := x.aead.NonceSize()
	if err != nil || len(raw) != ns+8+x.aead.Overhead() {
		return 0, false
	}
	plain, err := x.aead.Open(nil, raw[:ns], raw[ns:], []byte("index\x00"+partner+"\x00"+scope))
	if err != nil {
		return 0, false
	}
	n := binary.BigEndian.Uint64(plain)
	if n == 0 || n > 1<<20 {
		return 0, false
	}
	return int(n), true
}
