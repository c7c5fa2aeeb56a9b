package lantest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// SetLink puts the host's LAN interface down or up inside its namespace,
// as a laptop that sleeps or leaves its Wi-Fi sees it: the interface
// itself goes down.
func (h *Host) SetLink(up bool) error {
	return h.lan.setLink(h.NS, h.Dev, up)
}

// SetCarrier puts the host's port on the bridge down or up: the host's
// interface stays up but loses its carrier, as when the cable is pulled at
// the switch.
func (h *Host) SetCarrier(up bool) error {
	return h.lan.setLink(h.lan.sw, h.port, up)
}

func (l *LAN) setLink(ns, dev string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "set", dev, state).CombinedOutput(); err != nil {
		return fmt.Errorf("failed to set %s in %s %s: %v: %s", dev, ns, state, err, out)
	}
	return nil
}

// Flap is one link flap for MeasureFlap.
type Flap struct {
	// Host is the host whose link goes down.
	Host *Host
	// Down is how long the link stays down.
	Down time.Duration
	// Carrier takes the host's bridge port down instead of its interface
	// (SetCarrier rather than SetLink).
	Carrier bool
	// Writer adds a file while the link is down; Reader's probe waits for
	// it to be listed.
	Writer *Peer
	Reader *Probe
	// Name is the new file's name, in the vault's root.
	Name string
}

// MeasureFlap takes the link down, has the writer add a new file a moment
// later, brings the link back when Down has passed and returns how long
// after that the reader lists the file (the probe gives up after 10 s).
func MeasureFlap(t TB, f Flap) (time.Duration, error) {
	set := f.Host.SetLink
	if f.Carrier {
		set = f.Host.SetCarrier
	}
	src := filepath.Join(t.TempDir(), f.Name)
	if err := os.WriteFile(src, []byte(f.Name), 0o644); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := set(false); err != nil {
		return 0, err
	}
	up := func() {
		if err := set(true); err != nil {
			t.Errorf("lantest: %v", err)
		}
	}
	defer func() {
		if up != nil {
			up()
		}
	}()
	// The change is made once the device could have noticed the link
	// went down, as a user working offline would.
	time.Sleep(min(time.Second, f.Down/2))
	if _, err := f.Writer.Run("add", src); err != nil {
		return 0, err
	}
	time.Sleep(time.Until(start.Add(f.Down)))
	up()
	up = nil
	back := time.Now()
	if _, err := f.Reader.Ask("ls / " + f.Name); err != nil {
		return 0, fmt.Errorf("after the link came back: %w", err)
	}
	return time.Since(back), nil
}
