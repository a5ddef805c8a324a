// Package layering holds the test that enforces which of the project's
// packages may import which (see layering_test.go). It has no code of its own.
package layering
