package api

// ledgerRoutes registers the ledger read API (accounts, entries, verify).
func (s *Server) ledgerRoutes() {}
