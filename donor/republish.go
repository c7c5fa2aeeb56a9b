package donor

import (
	"context"
	"time"
)

// republishLoop puts every served account's newest record again every
// Republish, so DHT peers, which drop a record some time after it was
// put (kad-dht's MaxRecordAge, 48 h), hold it until its EOL.
func (s *Service) republishLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Republish)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			for _, m := range s.mirrorList() {
				m.republish(s.ctx)
			}
		}
	}
}

// republish puts the account's newest record again while it is valid.
func (m *mirror) republish(ctx context.Context) {
	m.mu.Lock()
	raw, eol := m.h.Record, m.h.EOL
	m.mu.Unlock()
	if len(raw) == 0 || !time.Now().Before(eol) {
		return
	}
	if _, err := m.s.cfg.Names.PutRecord(ctx, m.id, raw); err != nil {
		m.s.log.Debug("failed to republish a record", "account", m.id, "err", err)
		return
	}
	m.mu.Lock()
	m.h.LastRepublish = time.Now()
	m.saveLocked(ctx)
	m.mu.Unlock()
	m.s.notify()
}
