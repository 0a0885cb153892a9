package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestDeleteScale measures a bulk delete of $PAGECALL_SCALE_IDS IDs from a
// file against the mock: the CLI's peak RSS and its throughput. It is a
// measurement, not part of the normal tests: `make scale` runs it with a
// million IDs (docs/RELIABILITY.md has the figures).
func TestDeleteScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PAGECALL_SCALE_IDS"))
	if n <= 0 {
		t.Skip("set PAGECALL_SCALE_IDS (see make scale) to measure a bulk delete of that many IDs")
	}
	concurrency := os.Getenv("PAGECALL_SCALE_CONCURRENCY")
	if concurrency == "" {
		concurrency = "16"
	}
	// The mock keeps no request log: a million requests would fill this
	// process, not the one measured.
	srv := pagecalltest.NewTestServer(t, pagecalltest.WithMaxRequests(0))
	dir := t.TempDir()
	idFile, results := filepath.Join(dir, "ids.txt"), filepath.Join(dir, "results.jsonl")
	var ids bytes.Buffer
	for i := range n {
		id := fmt.Sprintf("scale-user-%07d", i)
		srv.AddUser(id, nil)
		ids.WriteString(id + "\n")
	}
	if err := os.WriteFile(idFile, ids.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Hour)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "users", "delete", "--file", idFile,
		"--concurrency", concurrency, "--results", results)
	cmd.Env = mockEnv(srv)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = devNull, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The peak RSS is read from /proc while the CLI runs: rusage's
	// Maxrss would count this process's memory, which the child shares
	// between fork and exec.
	var rss int64 // KiB
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if kib := peakRSS(cmd.Process.Pid); kib > rss {
				rss = kib
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	err = cmd.Wait()
	close(stop)
	<-polled
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	if rss == 0 {
		t.Fatal("could not read the CLI's RSS from /proc")
	}

	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != n {
		t.Errorf("%d records in the results file, want %d", lines, n)
	}
	if left := len(srv.UserIDs()); left > 1 { // the document's example user stays
		t.Errorf("%d users left, want every one deleted", left)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t.Logf("%d IDs, --concurrency %s: %v, %.0f IDs/s; CLI peak RSS %.1f MiB; CLI CPU %v (%.1f µs per ID); %s",
		n, concurrency, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(rss)/1024,
		cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(n), strings.TrimSpace(stderr.String()))
}

// peakRSS returns the peak resident set size of process pid in KiB (VmHWM
// in /proc/pid/status), or 0 if it cannot be read.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}
