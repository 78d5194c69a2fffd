package rolesanywhere

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/iamra/iamra/arn"
)

// Resource types in rolesanywhere ARNs.
const (
	ResourceTrustAnchor = "trust-anchor"
	ResourceProfile     = "profile"
	ResourceCRL         = "crl"
	ResourceSubject     = "subject"
)

// Service is the ARN service name (and SigV4 signing name) of the API.
const Service = "rolesanywhere"

// ARN is the ARN of a resource of the given type and id in scope.
func ARN(scope arn.Scope, resourceType, id string) string {
	return scope.New(Service, resourceType+"/"+id, true).String()
}

// NewID returns a fresh resource id: a random (version 4) UUID in lower
// case, the form AWS's ids have.
func NewID(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("rolesanywhere: reading randomness for an id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32], nil
}

// DefaultNotificationSettings are the settings AWS gives every new trust
// anchor: both expiry events, 45 days ahead, on all channels.
func DefaultNotificationSettings() []NotificationSetting {
	out := make([]NotificationSetting, len(Events))
	for i, ev := range Events {
		out[i] = DefaultNotificationSetting(ev)
	}
	return out
}

// DefaultNotificationSetting is the default setting of one event.
func DefaultNotificationSetting(event string) NotificationSetting {
	return NotificationSetting{Enabled: true, Event: event, Threshold: Ptr(int32(DefaultThreshold)),
		Channel: ChannelAll, ConfiguredBy: DefaultConfiguredBy}
}

// NormalizeSpecifier returns the form a mapping rule's specifier is stored
// and shown in: for x509SAN, "Name" and "Name/" mean the whole first
// directoryName and are shown as "Name/*", as AWS does.
func NormalizeSpecifier(field, spec string) string {
	if field == FieldSAN && (spec == "Name" || spec == "Name/") {
		return "Name/*"
	}
	return spec
}

// PutMapping returns mappings with field's rules replaced by specs (in
// order, duplicates dropped), as PutAttributeMapping does. An empty specs
// removes the field's mapping.
func PutMapping(mappings []AttributeMapping, field string, specs []string) []AttributeMapping {
	var rules []MappingRule
	seen := map[string]bool{}
	for _, s := range specs {
		s = NormalizeSpecifier(field, s)
		if !seen[s] {
			seen[s] = true
			rules = append(rules, MappingRule{Specifier: s})
		}
	}
	out := make([]AttributeMapping, 0, len(mappings)+1)
	placed := false
	for _, m := range mappings {
		if m.CertificateField != field {
			out = append(out, m)
			continue
		}
		if !placed && len(rules) > 0 {
			out = append(out, AttributeMapping{CertificateField: field, MappingRules: rules})
		}
		placed = true
	}
	if !placed && len(rules) > 0 {
		out = append(out, AttributeMapping{CertificateField: field, MappingRules: rules})
	}
	return out
}

// DeleteMapping returns mappings without the given specifiers of field, as
// DeleteAttributeMapping does; no specifiers removes the field's mapping.
func DeleteMapping(mappings []AttributeMapping, field string, specs []string) []AttributeMapping {
	if len(specs) == 0 {
		return PutMapping(mappings, field, nil)
	}
	drop := map[string]bool{}
	for _, s := range specs {
		drop[NormalizeSpecifier(field, s)] = true
	}
	var keep []string
	for _, m := range mappings {
		if m.CertificateField != field {
			continue
		}
		for _, r := range m.MappingRules {
			if !drop[r.Specifier] {
				keep = append(keep, r.Specifier)
			}
		}
	}
	return PutMapping(mappings, field, keep)
}

// MergeTags returns tags with add applied: new keys appended, existing keys
// given the new value (the last one wins within add).
func MergeTags(tags []Tag, add []Tag) []Tag {
	out := append([]Tag(nil), tags...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// RemoveTags returns tags without the given keys (absent keys are fine).
func RemoveTags(tags []Tag, keys []string) []Tag {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	var out []Tag
	for _, t := range tags {
		if !drop[t.Key] {
			out = append(out, t)
		}
	}
	return out
}

// Tags converts validated request tags (keys and values present).
func Tags(in []TagInput) []Tag {
	var out []Tag
	for _, t := range in {
		if t.Key != nil && t.Value != nil {
			out = append(out, Tag{Key: *t.Key, Value: *t.Value})
		}
	}
	return MergeTags(nil, out)
}

// ApplyNotificationSettings returns current with each input setting
// replacing the setting of the same event and channel (channel absent
// means ALL), marked as configured by configuredBy (the account id). An
// enabled setting without a threshold keeps the threshold it had.
func ApplyNotificationSettings(current []NotificationSetting, in []NotificationSettingInput, configuredBy string) []NotificationSetting {
	out := append([]NotificationSetting(nil), current...)
	for _, s := range in {
		if s.Event == nil || s.Enabled == nil {
			continue // rejected by Validate
		}
		ch := ChannelAll
		if s.Channel != nil {
			ch = *s.Channel
		}
		ns := NotificationSetting{Enabled: *s.Enabled, Event: *s.Event, Threshold: s.Threshold, Channel: ch, ConfiguredBy: configuredBy}
		i := findSetting(out, ns.Event, ch)
		if i < 0 {
			out = append(out, ns)
			continue
		}
		if ns.Threshold == nil {
			ns.Threshold = out[i].Threshold
		}
		out[i] = ns
	}
	return out
}

// ResetNotificationSettings returns current with the settings of the
// given keys back at their defaults.
func ResetNotificationSettings(current []NotificationSetting, keys []NotificationSettingKey) []NotificationSetting {
	out := append([]NotificationSetting(nil), current...)
	for _, k := range keys {
		if k.Event == nil {
			continue // rejected by Validate
		}
		ch := ChannelAll
		if k.Channel != nil {
			ch = *k.Channel
		}
		def := DefaultNotificationSetting(*k.Event)
		def.Channel = ch
		if i := findSetting(out, *k.Event, ch); i >= 0 {
			out[i] = def
		} else {
			out = append(out, def)
		}
	}
	return out
}

func findSetting(list []NotificationSetting, event, channel string) int {
	for i, s := range list {
		if s.Event == event && orAll(s.Channel) == channel {
			return i
		}
	}
	return -1
}

func orAll(ch string) string {
	if ch == "" {
		return ChannelAll
	}
	return ch
}
