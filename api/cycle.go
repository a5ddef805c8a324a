package api

// cycleRoutes registers settlement cycles and contract schedules.
func (s *Server) cycleRoutes() {}
