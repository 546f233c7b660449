package main

// The fleet test's machinery: the binary, a NATS server, restartable
// processes, the balancer and a person's browser.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// buildBinary builds this package once into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	// go test puts its own GOROOT/bin first in PATH (since Go 1.19).
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go tool to build bankbridge: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bankbridge")
	t0 := time.Now()
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built bankbridge in %s", time.Since(t0).Round(time.Millisecond))
	return bin
}

// natsServer is a NATS server with JetStream on a free port, its store in
// a temporary folder, for this test alone, so that what the test counts on
// it (streams, the second deployment's) is only this test's. Deployments
// sharing a server are kept apart by their cluster names; the second
// deployment below checks that on this server. It can be killed and
// started again on the same port and store, as a NATS machine restarts.
type natsServer struct {
	bin, dir string
	port     int
	out      lockedBuffer
	cmd      *exec.Cmd
}

// startNATS starts a natsServer and returns it.
func startNATS(t *testing.T) *natsServer {
	t.Helper()
	srv, err := exec.LookPath("nats-server")
	if err != nil {
		if srv, err = exec.LookPath("/usr/sbin/nats-server"); err != nil {
			t.Fatal("nats-server is required (scripts/test-env.sh installs it)")
		}
	}
	n := &natsServer{bin: srv, dir: t.TempDir(), port: freePort(t)}
	t.Cleanup(n.kill)
	n.start(t)
	return n
}

// URL is the server's client URL; it stays the same across restarts.
func (n *natsServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// start runs the server on its port and store and waits until it listens.
func (n *natsServer) start(t *testing.T) {
	t.Helper()
	n.cmd = exec.Command(n.bin, "-a", "127.0.0.1", "-p", fmt.Sprint(n.port), "-js", "-sd", n.dir)
	n.cmd.Stdout, n.cmd.Stderr = &n.out, &n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", n.port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start:\n%s", n.out.String())
		}
	}
}

// kill is kill -9: no goodbye to the clients, as a crash or a cut cable.
func (n *natsServer) kill() {
	if n.cmd != nil && n.cmd.ProcessState == nil {
		n.cmd.Process.Kill()
		n.cmd.Wait()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is one `bankbridge serve`, restartable on its data folder and port.
type process struct {
	name   string
	bin    string
	args   []string // after serve, without --addr
	env    []string
	data   string
	addr   string // host:port once started
	out    lockedBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

func newProcess(t *testing.T, name, bin string, env []string, data string, args ...string) *process {
	p := &process{name: name, bin: bin, env: env, data: data, args: append([]string{"--data", data}, args...)}
	t.Cleanup(func() {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.exited
		}
		// Whole logs for `go test -artifacts`; the end of each on failure.
		os.WriteFile(filepath.Join(t.ArtifactDir(), strings.ReplaceAll(p.name, " ", "-")+".log"), []byte(p.out.String()), 0o644)
		if t.Failed() {
			t.Logf("%s output (last 4 kB):\n%s", p.name, tail(p.out.String(), 4096))
		}
	})
	return p
}

func (p *process) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

var listeningRe = regexp.MustCompile(`listening on (\S+)`)

// start runs the process and waits until it listens.
func (p *process) start(t *testing.T) {
	t.Helper()
	addr := cmp.Or(p.addr, "127.0.0.1:0") // a restart keeps its port, as a machine keeps its address
	p.cmd = exec.Command(p.bin, append([]string{"serve", "--addr", addr}, p.args...)...)
	p.cmd.Env = p.env
	from := len(p.out.String())
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	cmd, exited := p.cmd, p.exited
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := listeningRe.FindStringSubmatch(p.out.String()[from:]); m != nil {
			p.addr = m[1]
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start: %v\n%s", p.name, cmd.ProcessState, tail(p.out.String(), 4096))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start within 90 s\n%s", p.name, tail(p.out.String(), 4096))
		}
	}
}

// kill is kill -9.
func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop is SIGTERM, then waiting for a graceful exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("%s exited with %v after SIGTERM\n%s", p.name, p.cmd.ProcessState, tail(p.out.String(), 4096))
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30 s of SIGTERM", p.name)
		p.kill()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// balancer is the load balancer's transport: round robin over the
// instances, and a connection refused (an instance down) is retried on the
// next one, as balancers do; a request that reached an instance is never
// sent twice.
type balancer struct {
	mu       sync.Mutex
	backends []string
	served   []int
	next     int
	tr       http.Transport
	failed   atomic.Int64 // requests answered 502
}

func (b *balancer) add(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, addr)
	b.served = append(b.served, 0)
}

func (b *balancer) counts() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.served)
}

func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	b.mu.Lock()
	n, start := len(b.backends), b.next
	b.next++
	b.mu.Unlock()
	if n == 0 {
		return nil, errors.New("balancer: no instances")
	}
	var last error
	for i := range n {
		k := (start + i) % n
		b.mu.Lock()
		addr := b.backends[k]
		b.mu.Unlock()
		out := r.Clone(r.Context())
		out.URL.Host = addr
		out.Body = io.NopCloser(bytes.NewReader(body))
		if body == nil {
			out.Body = nil
		}
		res, err := b.tr.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			last = err
			continue // refused: the instance is down, try the next
		}
		if err == nil {
			b.mu.Lock()
			b.served[k]++
			b.mu.Unlock()
		}
		return res, err
	}
	return nil, last
}

// browser is a person's browser: cookies, and the session's CSRF token.
type browser struct {
	base string
	c    *http.Client
	csrf string
}

func newBrowser(base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Host == "127.0.0.1:9" { // a partner's redirect URI: where the code goes
				return http.ErrUseLastResponse
			}
			return nil
		}}}
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.base + path
}

func (b *browser) get(ctx context.Context, path string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.abs(path), nil)
	if err != nil {
		return nil, "", err
	}
	return b.do(req)
}

// post sends a form, with the session's CSRF token when it has none.
func (b *browser) post(ctx context.Context, path string, form url.Values) (*http.Response, string, error) {
	if form.Get("csrf") == "" && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string, error) {
	res, err := b.c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, string(body), err
}

// login logs in on the form at path and keeps the session's CSRF token.
func (b *browser) login(ctx context.Context, path, email, password, home string) error {
	_, page, err := b.get(ctx, path)
	if err != nil {
		return err
	}
	res, page, err := b.post(ctx, path, url.Values{"csrf": {find(csrfRe, page)}, "email": {email}, "password": {password}, "next": {home}})
	if err != nil {
		return err
	}
	if res.Request.URL.Path != home {
		return fmt.Errorf("login at %s ended at %s (%d)", path, res.Request.URL.Path, res.StatusCode)
	}
	b.csrf = find(csrfRe, page)
	if b.csrf == "" {
		return fmt.Errorf("no CSRF token on %s", home)
	}
	return nil
}

// transfer moves amount between two of the customer's accounts through the
// review and confirmation pages. A confirmation that failed at the
// balancer (its instance died) is sent again with the same key, as a
// person reloading would: the bank books it once.
func (b *browser) transfer(ctx context.Context, from, to int64, amount ledger.Amount) error {
	form := url.Values{"from": {fmt.Sprint(from)}, "to": {fmt.Sprintf("a:%d", to)}, "amount": {fmt.Sprintf("%d.%02d", amount/100, amount%100)}, "memo": {"fleet test"}}
	var page string
	for attempt := 0; ; attempt++ {
		res, p, err := b.post(ctx, "/transfer", form)
		if err == nil && res.StatusCode == http.StatusOK {
			page = p
			break
		}
		if attempt == 4 || (err == nil && res.StatusCode != http.StatusBadGateway) {
			return fmt.Errorf("review: %v %v", status(res), err)
		}
		sleep(ctx, 200*time.Millisecond)
	}
	form.Set("key", find(keyRe, page))
	for attempt := 0; ; attempt++ {
		res, _, err := b.post(ctx, "/transfer/confirm", form)
		if err == nil && strings.HasPrefix(res.Request.URL.Path, "/transfer/receipt/") {
			return nil
		}
		if attempt == 4 || (err == nil && res.StatusCode != http.StatusBadGateway) {
			return fmt.Errorf("confirm: %v %v", status(res), err)
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

var (
	csrfRe    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nextRe    = regexp.MustCompile(`name="next" value="([^"]+)"`)
	requestRe = regexp.MustCompile(`name="request" value="([^"]+)"`)
	keyRe     = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

func find(re *regexp.Regexp, page string) string {
	if m := re.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func status(res *http.Response) string {
	if res == nil {
		return "no response"
	}
	return fmt.Sprintf("%d at %s", res.StatusCode, res.Request.URL)
}
