package main

import (
	"context"
	"io"
	"os"
	"sync"
)

// signalWatch turns the first SIGINT or SIGTERM into a graceful stop (start
// nothing new, let what is in flight finish) and the second into an abort
// (cancel what is in flight).
type signalWatch struct {
	stop    chan struct{} // closed at the first signal
	release chan struct{} // closed by Release
	done    chan struct{} // closed when the watching goroutine returns
	cancel  context.CancelFunc
	once    sync.Once
}

// watchSignals watches sigs until Release. It returns a context derived
// from ctx that is cancelled at the second signal (or by Release); use it
// for the requests. At each signal it writes a line to notice saying what
// happens now; stopping says what the first signal does, e.g. "starting
// no new deletions; press Ctrl-C again to abort".
func watchSignals(ctx context.Context, sigs <-chan os.Signal, notice io.Writer, stopping string) (context.Context, *signalWatch) {
	ctx, cancel := context.WithCancel(ctx)
	w := &signalWatch{
		stop:    make(chan struct{}),
		release: make(chan struct{}),
		done:    make(chan struct{}),
		cancel:  cancel,
	}
	go func() {
		defer close(w.done)
		n := 0
		for {
			select {
			case <-w.release:
				return
			case <-ctx.Done():
				return
			case s, ok := <-sigs:
				if !ok {
					sigs = nil // a closed channel delivers nothing more
					continue
				}
				n++
				if n == 1 {
					close(w.stop)
					_, _ = io.WriteString(notice, "pagecall: "+s.String()+": "+stopping+"\n")
					continue
				}
				_, _ = io.WriteString(notice, "pagecall: "+s.String()+" again: aborting\n")
				cancel()
				return
			}
		}
	}()
	return ctx, w
}

// Stopped is closed at the first signal.
func (w *signalWatch) Stopped() <-chan struct{} { return w.stop }

// Interrupted reports whether a signal arrived.
func (w *signalWatch) Interrupted() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// Release stops watching, cancels the context watchSignals returned and
// waits for the watcher to return, so that it writes nothing afterwards.
func (w *signalWatch) Release() {
	w.once.Do(func() {
		close(w.release)
		<-w.done
		w.cancel()
	})
}

// lockedWriter serializes writes to w, so that a progress bar, log lines
// and notices written from several goroutines do not interleave mid-line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p whole while holding the lock, so lines do not interleave.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
