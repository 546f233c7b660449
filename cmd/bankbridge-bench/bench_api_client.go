package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// The partner's side of `bench api` runs in a process of its own, so that
// the bank's process CPU per call (process_cpu_us_per_call, read with
// getrusage(RUSAGE_SELF) in the bank's process) counts the bank alone: its
// HTTP server, token and proof checks, consent, limits, audit and reads,
// and none of the partner's HTTP client, which in one process was about a
// fifth of the total. The bank's process re-executes its own binary as
// `bankbridge-bench api-client`, hands it the calls (signed beforehand, as
// before) on stdin, and the child sends them over loopback on the
// open-loop schedule and answers with its latencies.
//
// The exchange, one JSON value or line at a time:
//
//	bank -> client: clientJob
//	client -> bank: "ready" (the warm-up calls are done)
//	bank -> client: "go"    (the bank has read its CPU time)
//	client -> bank: apiScenario (the measured calls)

// clientEnv names the variable that makes a test binary act as the client
// (TestMain): a test binary's main is the test runner, not run.
const clientEnv = "BANKBRIDGE_BENCH_CHILD"

// clientJob is what the client process is asked to do.
type clientJob struct {
	Base  string       `json:"base"` // the bank's base URL
	Rate  int          `json:"rate"` // calls started per second
	Warm  []clientCall `json:"warm"` // sent first, not measured
	Calls []clientCall `json:"calls"`
}

// clientCall is apiCall on the wire.
type clientCall struct {
	Token string `json:"t"`
	Path  string `json:"p"`
	Proof string `json:"d"`
}

// apiClientCmd is `bankbridge-bench api-client`: not for people, see above.
func apiClientCmd(ctx context.Context, e env) error {
	in := bufio.NewReader(e.stdin)
	var job clientJob
	if err := json.NewDecoder(in).Decode(&job); err != nil {
		return fmt.Errorf("api-client: read the job: %w", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute}}
	defer hc.CloseIdleConnections()
	send := func(ctx context.Context, c apiCall) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, job.Base+c.path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "DPoP "+c.token)
		req.Header.Set("DPoP", c.proof)
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", c.path, res.StatusCode, trim(body))
		}
		return nil
	}
	calls := func(w []clientCall) []apiCall {
		out := make([]apiCall, len(w))
		for i, c := range w {
			out[i] = apiCall{token: c.Token, path: c.Path, proof: c.Proof}
		}
		return out
	}
	warm, measured, rate := calls(job.Warm), calls(job.Calls), max(job.Rate, 1)
	job.Warm, job.Calls = nil, nil
	openLoop(ctx, rate, warm, send)
	if _, err := fmt.Fprintln(e.stdout, "ready"); err != nil {
		return err
	}
	if line, err := in.ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("api-client: want go, got %q, %v", line, err)
	}
	cpu0 := processCPU()
	s := openLoop(ctx, rate, measured, send)
	if cpu1 := processCPU(); cpu0 > 0 && s.Calls > 0 {
		s.ClientCPUPerCall = float64((cpu1-cpu0)/time.Duration(s.Calls)) / 1e3
	}
	return json.NewEncoder(e.stdout).Encode(s)
}

// remoteLoop runs calls (after warm) to base from a client process, and returns
// what it measured and the bank's process CPU during the measured calls
// (0 where unknown); between the warm-up and the measured calls it calls
// mark, for the bank's own bookkeeping.
func (ab *apiBench) remoteLoop(ctx context.Context, base string, rate int, warm, calls []apiCall, mark func()) (apiScenario, time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return apiScenario{}, 0, err
	}
	cmd := exec.CommandContext(ctx, exe, "api-client")
	cmd.Env = append(os.Environ(), clientEnv+"=api-client")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return apiScenario{}, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return apiScenario{}, 0, err
	}
	if err := cmd.Start(); err != nil {
		return apiScenario{}, 0, err
	}
	fail := func(err error) (apiScenario, time.Duration, error) {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return apiScenario{}, 0, fmt.Errorf("bench api: the client process: %w", err)
	}
	wire := func(cs []apiCall) []clientCall {
		out := make([]clientCall, len(cs))
		for i, c := range cs {
			out[i] = clientCall{Token: c.token, Path: c.path, Proof: c.proof}
		}
		return out
	}
	if err := json.NewEncoder(stdin).Encode(clientJob{Base: base, Rate: rate, Warm: wire(warm), Calls: wire(calls)}); err != nil {
		return fail(err)
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		return fail(fmt.Errorf("want ready, got %q, %v", line, err))
	}
	mark()
	cpu0 := processCPU()
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return fail(err)
	}
	var s apiScenario
	if err := json.NewDecoder(out).Decode(&s); err != nil {
		return fail(err)
	}
	cpu := processCPU() - cpu0
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return apiScenario{}, 0, fmt.Errorf("bench api: the client process: %w", err)
	}
	if s.FirstError != "" {
		s.firstErr = errors.New(s.FirstError)
	}
	if cpu0 == 0 {
		cpu = 0
	}
	return s, cpu, nil
}
