package metrics

import (
	"fmt"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peer-cloud/peer/sync/folder"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	allDescs = append(allDescs, d)
	return d
}

var allDescs []*prometheus.Desc

// Bitswap. Duplicate blocks are not counted: the node turns that count
// off (p2p's bitswapOptions), since it costs a store lookup per block.
var (
	bitswapBlocksReceived   = desc("peer_bitswap_blocks_received_total", "Blocks received by Bitswap.")
	bitswapBytesReceived    = desc("peer_bitswap_received_bytes_total", "Bytes of blocks received by Bitswap.")
	bitswapBlocksSent       = desc("peer_bitswap_blocks_sent_total", "Blocks sent by Bitswap.")
	bitswapBytesSent        = desc("peer_bitswap_sent_bytes_total", "Bytes of blocks sent by Bitswap.")
	bitswapMessagesReceived = desc("peer_bitswap_messages_received_total", "Bitswap messages received.")
	bitswapWantlist         = desc("peer_bitswap_wantlist_blocks", "Blocks this node is asking its peers for.")
	bitswapPartners         = desc("peer_bitswap_partners", "Peers Bitswap keeps a ledger for.")
)

var peersConnected = desc("peer_peers_connected", "Peers with at least one open connection.")

// The node: DHT records other peers made it hold, the store, the vault,
// synced folders (labelled by local path), the donor (by account ID) and
// the name system.
var (
	dhtRecords       = desc("peer_dht_records", "Value records (IPNS names, public keys) the DHT holds.")
	dhtRecordBytes   = desc("peer_dht_record_bytes", "Stored size of the records the DHT holds.")
	dhtMaxRecords    = desc("peer_dht_records_max", "Records beyond which other peers' puts are refused.")
	dhtMaxBytes      = desc("peer_dht_record_max_bytes", "Record bytes beyond which other peers' puts are refused.")
	dhtPutsRefused   = desc("peer_dht_puts_refused_total", "DHT puts from other peers refused (over the quota or a peer's rate).")
	storeBlocks      = desc("peer_store_blocks", "Blocks in the store (listed at most every 30 s).")
	storeBlockBytes  = desc("peer_store_block_bytes", "Sum of the sizes of the blocks in the store.")
	storeDiskBytes   = desc("peer_store_disk_bytes", "Disk space the block database takes, value-log space not yet reclaimed included.")
	storePins        = desc("peer_store_pins", "Recursive and direct pins.")
	vaultChanges     = desc("peer_vault_changes_total", "New heads of the account since start: commit (a change on this device), merge (diverged heads merged), taken (another device's head taken as it was).", "kind")
	vaultHeadSeq     = desc("peer_vault_head_seq", "Sequence number of the account's head snapshot.")
	folderPending    = desc("peer_sync_folder_pending", "Changes seen in a synced folder and not yet synced.", "folder")
	folderOutOfSync  = desc("peer_sync_folder_out_of_sync_paths", "Paths of a synced folder that could not be synced.", "folder")
	folderFiles      = desc("peer_sync_folder_files", "Files a synced folder's index holds.", "folder")
	folderLastScan   = desc("peer_sync_folder_last_scan_timestamp_seconds", "When a synced folder was last scanned (Unix time).", "folder")
	folderLastSync   = desc("peer_sync_folder_last_sync_timestamp_seconds", "When vault changes were last written to a synced folder (Unix time).", "folder")
	folderState      = desc("peer_sync_folder_state", "1 for the state a synced folder is in, 0 for the others.", "folder", "state")
	donorUsed        = desc("peer_donor_used_bytes", "Bytes held for the accounts this node serves.")
	donorQuota       = desc("peer_donor_quota_bytes", "Bytes this node lends at most, 0 for no bound.")
	donorPerAccount  = desc("peer_donor_per_account_quota_bytes", "Bytes this node lends one account at most, 0 for no bound.")
	donorFetched     = desc("peer_donor_fetched_bytes_total", "Bytes fetched for the accounts this node serves.")
	donorBytes       = desc("peer_donor_account_bytes", "Bytes held for an account this node serves.", "account")
	donorSnapshots   = desc("peer_donor_account_snapshots", "Snapshots held whole for an account, its head included.", "account")
	donorSeq         = desc("peer_donor_account_record_seq", "Sequence number of the newest record of an account seen.", "account")
	donorLastChange  = desc("peer_donor_account_last_change_timestamp_seconds", "When the head held for an account last changed (Unix time).", "account")
	donorRepublished = desc("peer_donor_account_last_republish_timestamp_seconds", "When an account's record was last put again (Unix time).", "account")
	donorFailing     = desc("peer_donor_account_failing", "1 when the last attempt to follow or fetch an account failed.", "account")
	namesSigned      = desc("peer_names_records_signed_total", "IPNS records this node signed for its account.")
	namesSent        = desc("peer_names_records_sent_total", "IPNS records sent on pubsub and to the DHT, its own and others' put again.")
	namesPubsubFail  = desc("peer_names_pubsub_failed_total", "IPNS records whose send on pubsub failed.")
	namesDHTPuts     = desc("peer_names_dht_puts_total", "DHT puts of IPNS records that ended: ok, failed, or canceled (a newer record of the name went out, or the node stopped).", "result")
)

func (c *Collector) collectBitswap(ch chan<- prometheus.Metric) {
	st, err := c.src.Bitswap.BitswapStat()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(bitswapBlocksReceived, err)
		return
	}
	counter(ch, bitswapBlocksReceived, float64(st.BlocksReceived))
	counter(ch, bitswapBytesReceived, float64(st.DataReceived))
	counter(ch, bitswapBlocksSent, float64(st.BlocksSent))
	counter(ch, bitswapBytesSent, float64(st.DataSent))
	counter(ch, bitswapMessagesReceived, float64(st.MessagesReceived))
	gauge(ch, bitswapWantlist, float64(len(st.Wantlist)))
	gauge(ch, bitswapPartners, float64(len(st.Peers)))
}

func (c *Collector) collectRecords(ch chan<- prometheus.Metric) {
	rs := c.src.Records.RecordStat()
	gauge(ch, dhtRecords, float64(rs.Records))
	gauge(ch, dhtRecordBytes, float64(rs.Bytes))
	gauge(ch, dhtMaxRecords, float64(rs.MaxRecords))
	gauge(ch, dhtMaxBytes, float64(rs.MaxBytes))
	counter(ch, dhtPutsRefused, float64(rs.Refused))
}

func (c *Collector) collectStore(ch chan<- prometheus.Metric) {
	st, err := c.store()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(storeBlocks, err)
		return
	}
	gauge(ch, storeBlocks, float64(st.Blocks))
	gauge(ch, storeBlockBytes, float64(st.BlockBytes))
	gauge(ch, storeDiskBytes, float64(st.DiskBytes))
	gauge(ch, storePins, float64(st.Pins))
}

func (c *Collector) collectVault(ch chan<- prometheus.Metric) {
	st := c.src.Vault.Stats()
	counter(ch, vaultChanges, float64(st.Commits), "commit")
	counter(ch, vaultChanges, float64(st.Merges), "merge")
	counter(ch, vaultChanges, float64(st.Taken), "taken")
	gauge(ch, vaultHeadSeq, float64(st.HeadSeq))
}

// folderStates are the values of peer_sync_folder_state's state label.
var folderStates = []folder.State{folder.StateIdle, folder.StateScanning, folder.StateSyncing, folder.StateError, folder.StateStopped}

func (c *Collector) collectFolders(ch chan<- prometheus.Metric) {
	ss, err := c.src.Folders.Status("")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(folderPending, err)
		return
	}
	for _, s := range ss {
		dir := labelValue(s.Dir)
		gauge(ch, folderPending, float64(s.Pending), dir)
		gauge(ch, folderOutOfSync, float64(s.OutOfSyncCount), dir)
		gauge(ch, folderFiles, float64(s.Files), dir)
		timestamp(ch, folderLastScan, s.LastScan, dir)
		timestamp(ch, folderLastSync, s.LastSync, dir)
		for _, st := range folderStates {
			v := 0.0
			if s.State == st {
				v = 1
			}
			gauge(ch, folderState, v, dir, string(st))
		}
	}
}

func (c *Collector) collectDonor(ch chan<- prometheus.Metric) {
	st := c.src.Donor.Status()
	gauge(ch, donorUsed, float64(st.Used))
	gauge(ch, donorQuota, float64(st.Quota))
	gauge(ch, donorPerAccount, float64(st.PerAccount))
	counter(ch, donorFetched, float64(st.Fetched))
	for _, a := range st.Accounts {
		gauge(ch, donorBytes, float64(a.Bytes), a.Account)
		gauge(ch, donorSnapshots, float64(a.Snapshots), a.Account)
		gauge(ch, donorSeq, float64(a.Seq), a.Account)
		timestamp(ch, donorLastChange, a.LastChange, a.Account)
		timestamp(ch, donorRepublished, a.LastRepublish, a.Account)
		failing := 0.0
		if a.Err != "" {
			failing = 1
		}
		gauge(ch, donorFailing, failing, a.Account)
	}
}

func (c *Collector) collectNames(ch chan<- prometheus.Metric) {
	st := c.src.Names.Stats()
	counter(ch, namesSigned, float64(st.Signed))
	counter(ch, namesSent, float64(st.Sent))
	counter(ch, namesPubsubFail, float64(st.PubsubFailed))
	counter(ch, namesDHTPuts, float64(st.DHTOK), "ok")
	counter(ch, namesDHTPuts, float64(st.DHTFailed), "failed")
	counter(ch, namesDHTPuts, float64(st.DHTCanceled), "canceled")
}

// labelValue makes a folder's path a label value: Prometheus takes only
// UTF-8, and a path may be any bytes. Such a path is quoted Go-style, so
// two paths never share a value.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return fmt.Sprintf("%q", s)
}
