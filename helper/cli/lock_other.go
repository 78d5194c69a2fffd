//go:build !unix

package cli

// lockFile is a no-op where flock does not exist; the atomic replacement
// still keeps readers safe.
func lockFile(string) (func(), error) { return func() {}, nil }
