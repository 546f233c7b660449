package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/dataapi"
)

// floorServer is the least a partner API call can cost on this machine, for
// `bench api`'s floor_http_verify line: Go's own HTTP server on loopback, in
// the bank's process, that checks one P-256 signature per call (the one
// piece of cryptography a call cannot skip: its DPoP proof's) and answers a
// balances document of the size the bank's is. It reads none of the
// request, keeps no state and writes nothing anywhere. The same client
// process sends it the same calls at the same rate as the balances
// scenario, so balances' CPU over this line is what the bank adds to the
// HTTP stack and the verification: token, consent, limits, audit, the read.
//
// It is a baseline, not a target: a call that must read the account from
// a database and record its disclosure can come near it, not under it.
func floorServer() (base string, stop func(), err error) {
	key, digest, sig, err := p256Signed("bench api floor")
	if err != nil {
		return "", nil, err
	}
	avail := json.Number("1234.56")
	body, err := json.Marshal(dataapi.Balances{AccountID: "acct-0123456789abcdef0123456789abcdef", AccountCategory: "DEPOSIT_ACCOUNT",
		BalanceAsOf: time.Now().UTC().Format(time.RFC3339), Currency: dataapi.Currency{CurrencyCode: "USD"},
		CurrentBalance: "1234.56", AvailableBalance: &avail})
	if err != nil {
		return "", nil, err
	}
	length := strconv.Itoa(len(body))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") == "" || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			http.Error(w, "no proof", http.StatusUnauthorized)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		w.Write(body)
	})}
	go srv.Serve(ln) // ends with ErrServerClosed at stop
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
