package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/app"
)

func init() {
	commands["staff"] = command{"staff accounts: 'staff add --email --name --role --password' adds a member of staff", staffCmd}
}

const staffUsage = "usage: bankbridge staff add --email EMAIL --name NAME --role administrator|support|compliance|analyst [--password PASSWORD]\n" +
	"  without --password, the password is read from the first line of standard input"

func staffCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return app.UsageError(staffUsage)
	}
	var c app.Config
	var email, name, role, password string
	fs := flag.NewFlagSet("staff add", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	fs.StringVar(&email, "email", "", "the staff member's email, used to log in to the console")
	fs.StringVar(&name, "name", "", "the staff member's name")
	fs.StringVar(&role, "role", "", "administrator, support, compliance or analyst")
	fs.StringVar(&password, "password", "", "the initial password (at least 8 characters); read from stdin when empty, which keeps it out of shell history")
	if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	if email == "" || name == "" || role == "" {
		return app.UsageError(staffUsage)
	}
	if password == "" {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return app.UsageError("no --password given and none on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	svc := identity.New(b.Identity, identity.Options{})
	st, err := svc.AddStaff(ctx, identity.Staff{Email: email, Name: name, Role: identity.Role(role)}, password)
	if err != nil {
		return staffProblem(err)
	}
	fmt.Fprintf(e.stdout, "added staff %d: %s <%s>, %s, in the %s\n", st.ID, st.Name, st.Email, st.Role, b)
	return nil
}

// staffProblem turns a validation or conflict error into one readable line per
// problem; anything else is returned as it is.
func staffProblem(err error) error {
	var be *bankbridge.Error
	if !errors.As(err, &be) || be.Kind == bankbridge.Internal {
		return err
	}
	msg := be.Message
	for _, f := range be.Fields {
		msg += fmt.Sprintf("\n  --%s: %s", strings.TrimPrefix(f.Pointer, "/"), f.Detail)
	}
	return errors.New(msg)
}
