package cli

import (
	"bytes"
	"strings"
)

// Editing the shared credentials file (~/.aws/credentials): only the three
// keys of one profile change; every other line, comment, key and profile
// stays byte for byte, and so do CRLF line endings.

// credentialKeys are written in this order, as the official helper does.
var credentialKeys = []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}

// setProfile returns content with profile's credential keys set to values
// (parallel to credentialKeys). Existing key lines are replaced in place
// (later duplicates dropped, since SDKs disagree on which one wins);
// missing keys go after the section's last non-blank line; a missing
// section is appended.
func setProfile(content []byte, profile string, values []string) []byte {
	profile = strings.TrimSpace(profile) // as the section names it is compared with
	nl := "\n"
	// CRLF only when every line break is CRLF (a Windows-edited file).
	if n := bytes.Count(content, []byte("\n")); n > 0 && bytes.Count(content, []byte("\r\n")) == n {
		nl = "\r\n"
	}
	lines := strings.SplitAfter(string(content), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	kv := func(i int) string { return credentialKeys[i] + " = " + values[i] + nl }

	var out []string
	in, found := false, false
	done := make([]bool, len(credentialKeys))
	lastContent := -1 // index in out of the section's last non-blank line
	flush := func() {
		if !in {
			return
		}
		var add []string
		for i := range credentialKeys {
			if !done[i] {
				add = append(add, kv(i))
			}
		}
		if len(add) > 0 {
			at := lastContent + 1
			if at > 0 && !strings.HasSuffix(out[at-1], "\n") {
				out[at-1] += nl
			}
			out = append(out[:at], append(add, out[at:]...)...)
		}
		in = false
	}
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if name, ok := sectionName(trimmed); ok {
			flush()
			if name == profile && !found {
				in, found = true, true
			}
			out = append(out, line)
			lastContent = len(out) - 1
			continue
		}
		if in {
			if k := keyIndex(trimmed); k >= 0 {
				if done[k] {
					continue // a duplicate
				}
				done[k] = true
				out = append(out, kv(k))
				lastContent = len(out) - 1
				continue
			}
			if trimmed != "" {
				lastContent = len(out)
			}
		}
		out = append(out, line)
	}
	flush()
	if !found {
		if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
			out[n-1] += nl
		}
		if n := len(out); n > 0 && strings.TrimSpace(out[n-1]) != "" {
			out = append(out, nl)
		}
		out = append(out, "["+profile+"]"+nl)
		for i := range credentialKeys {
			out = append(out, kv(i))
		}
	}
	return []byte(strings.Join(out, ""))
}

// sectionName recognises "[name]" (white space around the name ignored, a
// trailing comment allowed).
func sectionName(trimmed string) (string, bool) {
	if !strings.HasPrefix(trimmed, "[") {
		return "", false
	}
	end := strings.IndexByte(trimmed, ']')
	if end < 0 {
		return "", false
	}
	return strings.TrimSpace(trimmed[1:end]), true
}

// keyIndex returns which credential key a "key = value" line sets, or -1.
func keyIndex(trimmed string) int {
	k, _, ok := strings.Cut(trimmed, "=")
	if !ok {
		return -1
	}
	k = strings.ToLower(strings.TrimSpace(k))
	for i, ck := range credentialKeys {
		if k == ck {
			return i
		}
	}
	return -1
}
