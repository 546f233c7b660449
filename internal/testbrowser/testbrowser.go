// Package testbrowser runs the project's Playwright scripts (web/e2e/*.mjs)
// in Debian's headless Chromium from Go tests, the same way for every
// package: the prerequisites are checked first (a test skips without them,
// except in CI, where it fails with the install hint), the script gets the
// browser's path and a screenshot path, and its output is the failure
// message.
//
// It is for tests only and must never be imported by production code.
package testbrowser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Chromium is the browser the scripts drive (Debian's package).
const Chromium = "/usr/bin/chromium"

// Install is how to get what the browser tests need.
const Install = "install Chromium and the test's Node packages: " +
	"apt-get install -y chromium nodejs npm && (cd web/e2e && npm ci --no-audit --no-fund)"

// Run runs the script in dir (the web/e2e folder, relative to the test's
// package) with node, with env added to the test's environment and
// CHROMIUM and SCREENSHOT set, and fails the test with the script's output
// if it fails or leaves no screenshot. The screenshot goes to the path in
// the environment variable screenshotVar, or to a temporary file.
func Run(t *testing.T, dir, script, screenshotVar string, timeout time.Duration, env ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var missing []string
	if _, err := os.Stat(Chromium); err != nil {
		missing = append(missing, Chromium)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "web/e2e/node_modules")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test prerequisites missing %v: %s", missing, Install)
		}
		t.Skipf("browser test prerequisites missing %v: %s", missing, Install)
	}
	shot := os.Getenv(screenshotVar)
	if shot == "" {
		shot = filepath.Join(t.TempDir(), strings.TrimSuffix(script, ".mjs")+".png")
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script))
	cmd.Env = append(append(os.Environ(), env...), "SCREENSHOT="+shot, "CHROMIUM="+Chromium)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s\n(screenshot, if any: %s)", script, err, out, shot)
	}
	t.Logf("%s\nscreenshot: %s", out, shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
}
