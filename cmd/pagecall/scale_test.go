package main

import (
	"bytes"
	"cmp"
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
// million IDs (docs/BENCHMARKS.md has the figures). With
// $PAGECALL_SCALE_RESUMED it resumes a run that deleted that many.
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
	// PAGECALL_SCALE_RESUMED=K resumes a run that deleted the first K
	// IDs: the results file records them, and only the others exist.
	resumed, _ := strconv.Atoi(os.Getenv("PAGECALL_SCALE_RESUMED"))
	resumed = min(max(resumed, 0), n)
	var ids, done bytes.Buffer
	for i := range n {
		id := fmt.Sprintf("scale-user-%07d", i)
		if i < resumed {
			fmt.Fprintf(&done, `{"id":%q,"line":%d,"outcome":"deleted","status":200,"attempts":1}`+"\n", id, i+1)
		} else {
			srv.AddUser(id, nil)
		}
		ids.WriteString(id + "\n")
	}
	if err := os.WriteFile(idFile, ids.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(results, done.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ids, done = bytes.Buffer{}, bytes.Buffer{}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Hour)
	defer cancel()
	// PAGECALL_SCALE_BINARY measures another build, such as main's
	// before a change (docs/BENCHMARKS.md).
	bin := cmp.Or(os.Getenv("PAGECALL_SCALE_BINARY"), binary)
	args := []string{"users", "delete", "--file", idFile, "--concurrency", concurrency, "--results", results}
	if resumed > 0 {
		args = append(args, "--resume")
	}
	timeV, _ := exec.LookPath("/usr/bin/time")
	if timeV != "" {
		// GNU time -v reports the CLI's peak RSS (its rusage's maxrss)
		// on stderr when the CLI exits.
		args = append([]string{"-v", bin}, args...)
		bin = timeV
	}
	cmd := exec.CommandContext(ctx, bin, args...)
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
	if timeV != "" {
		// The poll above read time's own RSS; take the CLI's from time.
		rss = timeMaxRSS(stderr.String())
		if i := strings.Index(stderr.String(), "\tCommand being timed"); i >= 0 {
			stderr.Truncate(i)
		}
	}
	if rss == 0 {
		t.Fatal("could not read the CLI's peak RSS")
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

// timeMaxRSS returns the "Maximum resident set size" in KiB that GNU
// time -v printed in out, or 0.
func timeMaxRSS(out string) int64 {
	for line := range strings.Lines(out) {
		if _, v, ok := strings.Cut(line, "Maximum resident set size (kbytes): "); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return kib
		}
	}
	return 0
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
