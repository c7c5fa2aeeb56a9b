package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
)

// scrape gets /metrics with token ("" for none) and returns the status
// and the body.
func scrape(t *testing.T, d *daemon.Daemon, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.APIURL()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// families parses a scrape in Prometheus's text format.
func families(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape does not parse: %v\n%s", err, body)
	}
	return mfs
}

// value is the value of the family's sample whose labels include those
// given as name, value pairs.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		t.Fatalf("no %s in the scrape", name)
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	t.Fatalf("no %s%v in the scrape", name, labels)
	return 0
}

// libp2pLint are promtool's findings in go-libp2p v0.51.0's own metrics,
// which keep those names (libp2p's dashboards use them). Anything else
// promtool finds fails the test.
var libp2pLint = map[string]bool{
	`libp2p_eventbus_subscriber_event_queued counter metrics should have "_total" suffix`:                   true,
	`libp2p_eventbus_subscribers_total non-counter metrics should not have "_total" suffix`:                 true,
	`libp2p_identify_addrs_count non-histogram and non-summary metrics should not have "_count" suffix`:     true,
	`libp2p_identify_protocols_count non-histogram and non-summary metrics should not have "_count" suffix`: true,
}

// promtool runs 'promtool check metrics' on a scrape when promtool is
// installed (Debian's prometheus package; .ci/run installs it).
func promtool(t *testing.T, body []byte) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not found (Debian package prometheus): scrape not linted")
		return
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("promtool: %v", err)
	}
	// Exit status 3 is lint findings only; 1 a scrape it could not read.
	bad := ee.ExitCode() != 3
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !libp2pLint[strings.TrimSpace(line)] {
			bad = true
		}
	}
	if bad {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetrics scrapes a daemon after a vault add and a synced folder:
// only with the token, in a format Prometheus parses and promtool finds
// clean, with the node's figures in it.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	d, c := start(t)
	src := t.TempDir()
	randomFile(t, src, "a.bin", 300<<10)
	if _, err := c.VaultAdd(ctx, "/docs", []string{filepath.Join(src, "a.bin")}, nil); err != nil {
		t.Fatal(err)
	}
	synced := t.TempDir()
	randomFile(t, synced, "b.txt", 10)
	if _, err := c.SyncAdd(ctx, synced, "/synced"); err != nil {
		t.Fatal(err)
	}

	for _, tok := range []string{"", "wrong"} {
		if status, _ := scrape(t, d, tok); status != http.StatusUnauthorized {
			t.Fatalf("scrape with token %q: status %d; want 401", tok, status)
		}
	}
	// The folder's first scan is its own snapshot, and the account is
	// published after a change: wait for both.
	var mfs map[string]*dto.MetricFamily
	var body []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		var status int
		status, body = scrape(t, d, c.Token)
		if status != http.StatusOK {
			t.Fatalf("scrape: status %d\n%s", status, body)
		}
		mfs = families(t, body)
		if mfs["peer_sync_folder_last_scan_timestamp_seconds"] != nil &&
			value(t, mfs, "peer_vault_changes_total", "kind", "commit") >= 2 &&
			value(t, mfs, "peer_names_records_signed_total") >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no folder scan committed and published within 10 s:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if v := value(t, mfs, "peer_vault_head_seq"); v < 2 {
		t.Errorf("peer_vault_head_seq %v; want >= 2 after an add and a folder scan", v)
	}
	if v := value(t, mfs, "peer_store_blocks"); v <= 0 {
		t.Errorf("peer_store_blocks %v; want > 0", v)
	}
	if v := value(t, mfs, "peer_store_block_bytes"); v < 300<<10 {
		t.Errorf("peer_store_block_bytes %v; want at least the 300 KiB added", v)
	}
	if v := value(t, mfs, "peer_names_records_signed_total"); v < 1 {
		t.Errorf("peer_names_records_signed_total %v; want >= 1 after a change", v)
	}
	if v := value(t, mfs, "peer_peers_connected"); v != 0 {
		t.Errorf("peer_peers_connected %v on a node alone", v)
	}
	if v := value(t, mfs, "peer_sync_folder_state", "folder", synced, "state", "stopped"); v != 0 {
		t.Errorf("synced folder stopped: %s", body)
	}
	if v := value(t, mfs, "peer_sync_folder_last_scan_timestamp_seconds", "folder", synced); time.Since(time.Unix(int64(v), 0)) > time.Minute {
		t.Errorf("folder last scanned at %v", v)
	}
	for _, name := range []string{
		"peer_bitswap_blocks_received_total", "peer_bitswap_sent_bytes_total", "peer_dht_records",
		"peer_sync_folder_pending", "peer_donor_used_bytes", "peer_names_dht_puts_total",
		"go_goroutines", "process_resident_memory_bytes", "promhttp_metric_handler_requests_total",
		"libp2p_rcmgr_limit", "libp2p_rcmgr_fds", "libp2p_eventbus_subscriber_queue_length",
	} {
		if mfs[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}
	promtool(t, body)
}

// TestMetricsDonorOnly: a donor with no account serves /metrics too,
// without the vault's and folders' metrics.
func TestMetricsDonorOnly(t *testing.T) {
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Donor.Only = true
	r, err := repo.Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, c := startRepo(t, r)
	status, body := scrape(t, d, c.Token)
	if status != http.StatusOK {
		t.Fatalf("scrape: status %d\n%s", status, body)
	}
	mfs := families(t, body)
	if mfs["peer_vault_changes_total"] != nil || mfs["peer_sync_folder_pending"] != nil {
		t.Errorf("a donor with no account has vault or folder metrics:\n%s", body)
	}
	if v := value(t, mfs, "peer_donor_quota_bytes"); v < 0 {
		t.Errorf("peer_donor_quota_bytes %v", v)
	}
	if strings.Contains(string(body), "donor with no account") {
		t.Errorf("/metrics answered as a route that needs an account:\n%s", body)
	}
	promtool(t, body)
}
