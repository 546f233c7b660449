package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// worker must have an owner that stops it and waits for it.
// A test binary started by `bench api` as its client process
// (bench_api_client.go) is the client, not the tests.
func TestMain(m *testing.M) {
	if os.Getenv(clientEnv) != "" {
		if err := run(context.Background(), []string{"bankbridge-bench", "api-client"}, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
