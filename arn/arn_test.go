package arn

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		typ, id  string
		name     string
		wantErr  bool
		roundTrp bool
	}{
		{in: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2", typ: "trust-anchor", id: "a1b2", name: "a1b2", roundTrp: true},
		{in: "arn:aws:iam::123456789012:role/path/to/name", typ: "role", id: "path/to/name", name: "name", roundTrp: true},
		{in: "arn:aws-us-gov:sts::123456789012:assumed-role/r/s", typ: "assumed-role", id: "r/s", name: "s", roundTrp: true},
		{in: "arn:aws:iam::123456789012:root", typ: "root", id: "", name: "root", roundTrp: true},
		{in: "arn:aws:iam::123456789012", wantErr: true},
		{in: "arm:aws:iam::1:role/x", wantErr: true},
		{in: "arn::iam::1:role/x", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		a, err := Parse(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Parse(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
		}
		if tc.wantErr {
			continue
		}
		if a.ResourceType() != tc.typ || a.ResourceID() != tc.id || a.ResourceName() != tc.name {
			t.Errorf("Parse(%q) = type %q id %q name %q", tc.in, a.ResourceType(), a.ResourceID(), a.ResourceName())
		}
		if tc.roundTrp && a.String() != tc.in {
			t.Errorf("String() = %q, want %q", a.String(), tc.in)
		}
	}
}

func TestScope(t *testing.T) {
	s := Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}
	if got := s.New("iam", "role/x", false).String(); got != "arn:aws:iam::123456789012:role/x" {
		t.Errorf("global ARN = %q", got)
	}
	ta := s.New("rolesanywhere", "trust-anchor/t", true)
	if !s.Contains(ta) {
		t.Errorf("scope should contain %v", ta)
	}
	other := ta
	other.Region = "eu-west-1"
	if s.Contains(other) {
		t.Errorf("scope should not contain %v", other)
	}
}
