// Command bankbridge-bench measures bankbridge: the ledger's group commit,
// the authorization server, the disclosure log, the insights queries, the
// data API, the messenger channel and the alerts pipeline, each on a
// throw-away database wired as `bankbridge serve` wires it (internal/app).
// It lives apart from the bankbridge command so that the product's binary
// carries no benchmark harness and no test-support package.
//
// Usage: bankbridge-bench ledger|api|oauth|audit|insights|messenger|alerts|rails [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bankbridge/bankbridge/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bankbridge-bench:", err)
		if errors.As(err, new(app.UsageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// env is everything a benchmark may read from its surroundings, so tests
// drive run() end to end.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

const usage = `bankbridge-bench: throughput and latency of bankbridge, on a throw-away database.

Usage: bankbridge-bench <benchmark> [flags]

Benchmarks:
  ledger     transfers through the ledger's group commit
  api        the partner data API over loopback HTTP (DPoP, consent, audit)
  oauth      token refreshes and API calls through the authorization server
  audit      appends, seals and verification of the disclosure log
  insights   engagement queries over a synthetic history
  messenger  webhook in to reply out through the messenger channel
  alerts     ledger posting to alert delivered
  rails      NACHA files built and parsed (beside moov-io/ach alone), ACH payments end to end

Run 'bankbridge-bench <benchmark> --help' for its flags. --database postgres://... runs on a fresh
schema there; the common settings also read BANKBRIDGE_* variables, as bankbridge's do.`

// run is the whole program: the benchmark named by args[1] with the rest.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	args = args[1:]
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return app.UsageError("name a benchmark")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	err := benchCmd(ctx, e, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
