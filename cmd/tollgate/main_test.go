package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The production binary talks to an external Temporal cluster; linking the
// server would bloat it and blur the dev/prod line.
func TestProductionBinaryDoesNotLinkTemporalServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Split(string(out), "\n") {
		require.False(t, strings.HasPrefix(dep, "go.temporal.io/server"), "cmd/tollgate imports %s", dep)
	}
}

func TestConfigRequiresDatabaseURL(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	_, err := loadConfig("api", nil)
	require.ErrorContains(t, err, "DATABASE_URL")
	t.Setenv("DATABASE_URL", "postgres://x")
	c, err := loadConfig("api", []string{"-addr", ":9999"})
	require.NoError(t, err)
	require.Equal(t, ":9999", c.APIAddr)
}
