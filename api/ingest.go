package api

// ingestRoutes registers parties, contracts, transactions, FX rates, provider
// pushes, positions and dead letters.
func (s *Server) ingestRoutes() {}
