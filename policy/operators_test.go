package policy

import "testing"

// TestOperatorMatrix covers every operator of the User Guide's "Condition
// operators" page: one matching and one non-matching request value, and
// the result when the key is absent (false, except for negated operators,
// which hold).
func TestOperatorMatrix(t *testing.T) {
	cases := []struct {
		op, policy, hit, miss string
		absent                bool
	}{
		{"StringEquals", "Prod", "Prod", "prod", false},
		{"StringNotEquals", "Prod", "Dev", "Prod", true},
		{"StringEqualsIgnoreCase", "Prod", "PROD", "Dev", false},
		{"StringNotEqualsIgnoreCase", "Prod", "Dev", "pRoD", true},
		{"StringLike", "team-?/*", "team-a/x/y", "team-ab/x", false},
		{"StringNotLike", "team-?/*", "team-ab/x", "team-a/x", true},
		{"NumericEquals", "10", "10.0", "11", false},
		{"NumericNotEquals", "10", "9", "10", true},
		{"NumericLessThan", "10", "9.5", "10", false},
		{"NumericLessThanEquals", "10", "10", "10.1", false},
		{"NumericGreaterThan", "10", "11", "10", false},
		{"NumericGreaterThanEquals", "-1.5", "-1.5", "-2", false},
		{"DateEquals", "2026-11-22T10:00:00Z", "1795341600", "2026-11-22T10:00:01Z", false},
		{"DateNotEquals", "2026-11-22T10:00:00Z", "2026-11-22T10:00:01Z", "2026-11-22T11:00:00+01:00", true},
		{"DateLessThan", "2026-11-22", "2026-11-21T23:59:59Z", "2026-11-22T00:00:00Z", false},
		{"DateLessThanEquals", "2026-11-22", "2026-11-22T00:00:00Z", "2026-11-22T00:00:00.5Z", false},
		{"DateGreaterThan", "1795341600", "2026-11-22T10:00:00.001Z", "2026-11-22T10:00:00Z", false},
		{"DateGreaterThanEquals", "2026", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", false},
		{"Bool", "true", "True", "false", false},
		{"BinaryEquals", "aGk=", "hi", "ho", false},
		{"IpAddress", "10.0.0.0/8", "10.1.2.3", "11.0.0.1", false},
		{"NotIpAddress", "10.0.0.0/8", "192.0.2.1", "10.255.255.255", true},
		{"ArnEquals", "arn:aws:s3:::bucket-*", "arn:aws:s3:::bucket-1", "arn:aws:s3:::other", false},
		{"ArnLike", "arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/x", "arn:aws:iam::111122223333:role/y", false},
		{"ArnNotEquals", "arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/y", "arn:aws:iam::111122223333:role/x", true},
		{"ArnNotLike", "arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/y", "arn:aws:iam::111122223333:role/x", true},
		// IfExists: like the base operator when present, true when absent.
		{"StringEqualsIfExists", "Prod", "Prod", "Dev", true},
		{"NumericLessThanIfExists", "10", "1", "100", true},
		{"ArnLikeIfExists", "arn:aws:s3:::*", "arn:aws:s3:::b", "arn:aws:sqs:::b", true},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			doc := stmt(allowAll + `,"Condition":{"` + c.op + `":{"test:key":` + jsonString(c.policy) + `}}`)
			p := mustParse(t, doc, Identity)
			eval := func(m map[string][]string) bool {
				return p.Evaluate(idReq("s3:GetObject", "arn:aws:s3:::b/k", m)).Allowed()
			}
			if !eval(ctx("test:key", c.hit)) {
				t.Errorf("%q should match %q", c.hit, c.policy)
			}
			if eval(ctx("test:key", c.miss)) {
				t.Errorf("%q should not match %q", c.miss, c.policy)
			}
			if got := eval(nil); got != c.absent {
				t.Errorf("absent key: %v, want %v", got, c.absent)
			}
		})
	}
}
