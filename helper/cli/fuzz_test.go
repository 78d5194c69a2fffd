package cli

import (
	"strings"
	"testing"
)

// FuzzSetProfile: whatever the credentials file holds, setting a profile
// never panics, is idempotent, and leaves the profile with the new values.
func FuzzSetProfile(f *testing.F) {
	f.Add("[default]\naws_access_key_id = A\n", "default")
	f.Fuzz(func(t *testing.T, content, profile string) {
		if strings.TrimSpace(profile) == "" || strings.ContainsAny(profile, "[]\r\n") {
			return
		}
		v := []string{"AKID", "SECRET", "TOKEN"}
		once := setProfile([]byte(content), profile, v)
		if twice := setProfile(once, profile, v); string(twice) != string(once) {
			t.Fatalf("not idempotent for %q / %q:\n%q\n%q", content, profile, once, twice)
		}
		got := map[string]string{}
		in := false
		for _, line := range strings.Split(string(once), "\n") {
			tl := strings.TrimSpace(line)
			if name, ok := sectionName(tl); ok {
				in = name == strings.TrimSpace(profile) && len(got) == 0
				continue
			}
			if k := keyIndex(tl); in && k >= 0 {
				_, val, _ := strings.Cut(tl, "=")
				got[credentialKeys[k]] = strings.TrimSpace(val)
			}
		}
		for i, k := range credentialKeys {
			if got[k] != v[i] {
				t.Fatalf("profile %q in %q: %s = %q, want %q\nresult %q", profile, content, k, got[k], v[i], once)
			}
		}
	})
}
