package sync

import (
	"context"
	"time"
)

// Just after a link came back, a stream can go over a connection that
// died while the link was down: it takes the write and loses it, or gets
// a QUIC stateless reset. The ping closes such a connection within a
// second, and the next stream goes over a live one. So a pull or a push
// that failed then is made again after streamRetryFirst, doubling to
// streamRetryMax.
const (
	streamRetryFirst = 250 * time.Millisecond
	streamRetryMax   = 2 * time.Second
)

// retryWait is the wait before the next try; the zero value starts at
// streamRetryFirst.
type retryWait struct{ next time.Duration }

// sleep waits before the next try and reports whether to make it: false
// once ctx ended or stop closed (a nil stop never does).
func (w *retryWait) sleep(ctx context.Context, stop <-chan struct{}) bool {
	if w.next == 0 {
		w.next = streamRetryFirst
	}
	t := time.NewTimer(w.next)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
	w.next = min(2*w.next, streamRetryMax)
	return true
}
