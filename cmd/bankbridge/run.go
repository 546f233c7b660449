package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bankbridge/bankbridge/internal/app"
)

// env is everything a subcommand may read from its surroundings; nothing
// reads os.Getenv or os.Stdout directly, so tests drive run() end to end.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// commands is filled by each subcommand's file in an init, so that adding a
// subcommand touches one file only.
var commands = map[string]command{}

// run is the whole program: parse the subcommand and hand over.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	args = args[1:]
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	c, ok := commands[name]
	if !ok {
		usage(stderr)
		return app.UsageError(fmt.Sprintf("unknown command %q", name))
	}
	err := c.run(ctx, e, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "bankbridge: a bank's own channel, partner API and ledger, in one binary.\n\nUsage: bankbridge <command> [flags]   (no command means serve)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'bankbridge <command> --help' for a command's flags. Every flag can also be set as BANKBRIDGE_<FLAG> (e.g. BANKBRIDGE_DATABASE).")
}
