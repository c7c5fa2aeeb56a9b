package donor

import "github.com/libp2p/go-libp2p/core/peer"

// Announced returns, for account id, the announced blocks the donor's
// cache holds, their cost, and how many it stored from the cache.
func (s *Service) Announced(id peer.ID) (held, cost, stored int) {
	s.mu.Lock()
	m := s.mirrors[id]
	s.mu.Unlock()
	if m == nil {
		return 0, 0, 0
	}
	held, cost = m.cache.Stats()
	return held, cost, int(m.fromCache.Load())
}
