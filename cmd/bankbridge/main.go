// Command bankbridge runs the bank: its ledger, customer web app, bank console
// and (as they land) the partner API and messenger channel. One binary with
// subcommands; see `bankbridge help`.
package main

import (
	"context"
	"errors"
	"fmt"
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
		var u app.UsageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "bankbridge:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "bankbridge:", err)
		os.Exit(1)
	}
}
