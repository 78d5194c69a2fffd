package keysource

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Selector picks certificates by the official helper's --cert-selector keys.
// Empty fields match anything.
type Selector struct {
	// Subject and Issuer are compared with Go's pkix.Name.String(), as the
	// official helper does ("CN=workload,O=Example").
	Subject string
	Issuer  string
	// Serial is the serial number (given in hex on the command line).
	Serial *big.Int
}

// Matches reports whether c satisfies every set field.
func (s *Selector) Matches(c *x509.Certificate) bool {
	if s == nil {
		return true
	}
	return (s.Subject == "" || s.Subject == c.Subject.String()) &&
		(s.Issuer == "" || s.Issuer == c.Issuer.String()) &&
		(s.Serial == nil || s.Serial.Cmp(c.SerialNumber) == 0)
}

const (
	selSubject = "x509Subject"
	selIssuer  = "x509Issuer"
	selSerial  = "x509Serial"
)

var selectorPair = regexp.MustCompile(`^\s*Key=(.+?),Value=(.+?)\s*(?:Key=|$)`)

// ParseSelector parses a --cert-selector value: either
// "Key=x509Subject,Value=CN=foo Key=x509Serial,Value=0a1b" or
// "file://sel.json" holding [{"Key":"x509Issuer","Value":"CN=CA"}].
// readFile reads the file:// form.
func ParseSelector(s string, readFile func(string) ([]byte, error)) (*Selector, error) {
	m := map[string]string{}
	add := func(k, v string) error {
		switch k {
		case selSubject, selIssuer, selSerial:
		default:
			return errors.New("cert selector contained invalid key")
		}
		if _, dup := m[k]; dup {
			return fmt.Errorf("duplicate %s keys can't be present in cert selector", k)
		}
		m[k] = v
		return nil
	}
	if name, ok := strings.CutPrefix(s, "file://"); ok {
		b, err := readFile(name)
		if err != nil {
			return nil, errors.New("unable to read cert selector file")
		}
		var entries []struct{ Key, Value string }
		if err := json.Unmarshal(b, &entries); err != nil {
			return nil, errors.New("unable to parse JSON map entries")
		}
		for _, e := range entries {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	} else {
		rest := s
		for {
			match := selectorPair.FindStringSubmatch(rest)
			if match == nil {
				break
			}
			if err := add(match[1], match[2]); err != nil {
				return nil, err
			}
			end := len(match[0])
			if end != len(rest) {
				end -= len("Key=") // the next pair's "Key=" was consumed by the lookahead
			}
			rest = rest[end:]
		}
		if rest != "" {
			return nil, errors.New("unable to parse cert selector string")
		}
	}
	sel := &Selector{Subject: m[selSubject], Issuer: m[selIssuer]}
	if v, ok := m[selSerial]; ok {
		n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(v, ":", "")), "0x"), 16)
		if !ok {
			return nil, fmt.Errorf("cert selector x509Serial %q is not a hexadecimal number", v)
		}
		sel.Serial = n
	}
	return sel, nil
}
