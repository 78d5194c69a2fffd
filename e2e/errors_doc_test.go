package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// reasonLiteral matches the reason codes iamra code uses ("chain.revoked").
var reasonLiteral = regexp.MustCompile(`"((?:sig|cert|auth|route|token|input|request|tags|list|mapping|resource|anchor|crl|role|profile|chain|validation|ca|policy|iam|sts|trust|session|authz|query)\.[a-z0-9_.]+)"`)

// TestErrorCatalogue keeps docs/errors.md true: every reason code a
// non-test Go file uses must be listed there.
func TestErrorCatalogue(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string][]string{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "test/") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range reasonLiteral.FindAllStringSubmatch(string(src), -1) {
			// Service principals and file names look like reason codes.
			if strings.HasSuffix(m[1], ".amazonaws.com") || strings.HasSuffix(m[1], ".pem") {
				continue
			}
			if !strings.Contains(string(doc), "`"+m[1]+"`") {
				missing[m[1]] = append(missing[m[1]], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Errorf("reason %q (used in %v) is not in docs/errors.md", n, missing[n])
	}
}
