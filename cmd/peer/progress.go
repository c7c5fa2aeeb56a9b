package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// newProgress returns a progress bar on stderr for total bytes, or nil when
// stderr is not a terminal or --json is set (scripts get no bar).
func (g *globals) newProgress(total int64, what string) *progressbar.ProgressBar {
	f, ok := g.stderr.(*os.File)
	if g.json || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
}

// countingReader reports the bytes read through it to a bar (if any).
type countingReader struct {
	r   io.Reader
	bar *progressbar.ProgressBar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.bar != nil && n > 0 {
		c.bar.Add(n)
	}
	return n, err
}

func withProgress(r io.Reader, bar *progressbar.ProgressBar) io.Reader {
	if bar == nil {
		return r
	}
	return &countingReader{r: r, bar: bar}
}

func finish(bar *progressbar.ProgressBar) {
	if bar != nil {
		bar.Finish()
	}
}
