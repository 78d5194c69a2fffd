package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/iamra/iamra/awserr"
)

// stmt wraps statement members in a 2012-10-17 document.
func stmt(members string) string {
	return `{"Version":"2012-10-17","Statement":[{` + members + `}]}`
}

const allowAll = `"Effect":"Allow","Action":"*","Resource":"*"`

func TestParseErrors(t *testing.T) {
	trustBase := `"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole"`
	cases := []struct {
		name   string
		doc    string
		kind   Kind
		msg    string // the client message, exactly
		reason string
		detail string // a substring of the operator detail
	}{
		{"not JSON", `{"Version":`, Identity, "Syntax errors in policy.", "policy.syntax", "invalid JSON"},
		{"empty", ``, Identity, "Syntax errors in policy.", "policy.syntax", "unexpected end"},
		{"trailing data", `{"Statement":{` + allowAll + `}} {}`, Identity, "Syntax errors in policy.", "policy.syntax", "after the top-level value"},
		{"duplicate key", `{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}`, Identity,
			"Syntax errors in policy.", "policy.syntax", `duplicate key "Effect"`},
		{"array document", `[]`, Identity, "Syntax errors in policy: the policy must be a JSON object, not an array.", "policy.syntax", ""},
		{"unknown top-level field", `{"Version":"2012-10-17","Statment":[{` + allowAll + `}]}`, Identity, "Unknown field Statment", "policy.field", ""},
		{"missing Statement", `{"Version":"2012-10-17"}`, Identity, "Missing required field Statement", "policy.field", ""},
		{"empty Statement", `{"Version":"2012-10-17","Statement":[]}`, Identity, "The policy must contain at least one statement.", "policy.field", ""},
		{"Statement string", `{"Version":"2012-10-17","Statement":"x"}`, Identity,
			"Syntax errors in policy: Statement must be an object or an array of objects.", "policy.syntax", ""},
		{"statement not an object", `{"Version":"2012-10-17","Statement":[1]}`, Identity,
			"Syntax errors in policy: Statement[0] must be an object, not a number.", "policy.syntax", "Statement[0]"},
		{"bad Version", `{"Version":"2012-10-18","Statement":{` + allowAll + `}}`, Identity,
			`The policy Version "2012-10-18" is not supported; use "2012-10-17" or "2008-10-17".`, "policy.version", "Version"},
		{"Version number", `{"Version":2012,"Statement":{` + allowAll + `}}`, Identity, "Syntax errors in policy: Version must be a string.", "policy.syntax", ""},
		{"unknown statement field", stmt(allowAll + `,"Actions":"s3:*"`), Identity, "Unknown field Actions", "policy.field", "Statement[0]"},
		{"missing Effect", stmt(`"Action":"*","Resource":"*"`), Identity, "Missing required field Effect", "policy.field", ""},
		{"invalid Effect", stmt(`"Effect":"Allows","Action":"*","Resource":"*"`), Identity,
			`Invalid effect "Allows": must be Allow or Deny.`, "policy.effect", "Statement[0].Effect"},
		{"lower-case Effect", stmt(`"Effect":"allow","Action":"*","Resource":"*"`), Identity, `Invalid effect "allow": must be Allow or Deny.`, "policy.effect", ""},
		{"identity policy with Principal", stmt(allowAll + `,"Principal":"*"`), Identity, "Policy document should not specify a principal.", "policy.principal", ""},
		{"session policy with NotPrincipal", stmt(allowAll + `,"NotPrincipal":{"AWS":"111122223333"}`), Session,
			"Policy document should not specify a principal.", "policy.principal", ""},
		{"trust policy without Principal", stmt(`"Effect":"Allow","Action":"sts:AssumeRole"`), Trust, "Missing required field Principal", "policy.field", ""},
		{"resource policy without Principal", stmt(allowAll), ResourceBased, "Missing required field Principal", "policy.field", ""},
		{"trust policy with Resource", stmt(trustBase + `,"Resource":"*"`), Trust, "Has prohibited field Resource", "policy.field", ""},
		{"trust policy with NotResource", stmt(trustBase + `,"NotResource":"*"`), Trust, "Has prohibited field NotResource", "policy.field", ""},
		{"Principal and NotPrincipal", stmt(trustBase + `,"NotPrincipal":"*"`), Trust,
			"A statement cannot contain both Principal and NotPrincipal.", "policy.principal", ""},
		{"no Action", stmt(`"Effect":"Allow","Resource":"*"`), Identity, "Policy statement must contain actions.", "policy.action", ""},
		{"empty Action", stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), Identity, "Policy statement must contain actions.", "policy.action", ""},
		{"Action and NotAction", stmt(allowAll + `,"NotAction":"iam:*"`), Identity, "A statement cannot contain both Action and NotAction.", "policy.action", ""},
		{"Action not a string", stmt(`"Effect":"Allow","Action":{"s3":"*"},"Resource":"*"`), Identity,
			"Syntax errors in policy: Action must be a string or an array of strings.", "policy.syntax", "Statement[0].Action"},
		{"Action without vendor", stmt(`"Effect":"Allow","Action":"GetItem","Resource":"*"`), Identity,
			"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "policy.action", ""},
		{"Action with two colons", stmt(`"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"`), Identity,
			"Actions/Condition can contain only one colon.", "policy.action", ""},
		{"Action vendor wildcard", stmt(`"Effect":"Allow","Action":"*:Untag*","Resource":"*"`), Identity,
			"Action vendors (e.g., aws, ec2, etc.) must not contain wildcards: *:Untag*", "policy.action", ""},
		{"no Resource", stmt(`"Effect":"Allow","Action":"s3:*"`), Identity, "Policy statement must contain resources.", "policy.resource", ""},
		{"empty Resource", stmt(`"Effect":"Allow","Action":"s3:*","Resource":[]`), Identity, "Policy statement must contain resources.", "policy.resource", ""},
		{"Resource and NotResource", stmt(allowAll + `,"NotResource":"*"`), Identity, "A statement cannot contain both Resource and NotResource.", "policy.resource", ""},
		{"Resource not an ARN", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"my-bucket"`), Identity,
			`Resource my-bucket must be in ARN format or "*".`, "policy.resource", ""},
		{"Resource empty string", stmt(`"Effect":"Allow","Action":"s3:*","Resource":""`), Identity,
			`Resource  must be in ARN format or "*".`, "policy.resource", ""},
		{"Sid with a dash", stmt(`"Sid":"allow-all",` + allowAll), Identity,
			"Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*", "policy.sid", ""},
		{"duplicate Sid", `{"Version":"2012-10-17","Statement":[{"Sid":"A",` + allowAll + `},{"Sid":"A",` + allowAll + `}]}`, Identity,
			"Statement IDs (SID) in a single policy must be unique.", "policy.sid", "Statement[1]"},
		{"Principal string", stmt(`"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"sts:AssumeRole"`), Trust,
			`Invalid principal in policy: "arn:aws:iam::111122223333:root"`, "policy.principal", ""},
		{"Principal bad account", stmt(`"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"sts:AssumeRole"`), Trust,
			`Invalid principal in policy: "AWS":"12345"`, "policy.principal", "Statement[0].Principal.AWS"},
		{"Principal wildcard ARN", stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"sts:AssumeRole"`), Trust,
			`Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*"`, "policy.principal", ""},
		{"Principal unknown type", stmt(`"Effect":"Allow","Principal":{"CanonicalUser":"79a59df9"},"Action":"sts:AssumeRole"`), Trust,
			`Invalid principal in policy: "CanonicalUser":"79a59df9"`, "policy.principal", ""},
		{"Principal empty object", stmt(`"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"`), Trust,
			"Invalid principal in policy: the principal element is empty", "policy.principal", ""},
		{"Principal empty list", stmt(`"Effect":"Allow","Principal":{"Service":[]},"Action":"sts:AssumeRole"`), Trust,
			`Invalid principal in policy: "Service" has no values`, "policy.principal", ""},
		{"Principal number", stmt(`"Effect":"Allow","Principal":{"AWS":111122223333},"Action":"sts:AssumeRole"`), Trust,
			"Syntax errors in policy: AWS must be a string or an array of strings.", "policy.syntax", ""},
		{"unknown operator", stmt(allowAll + `,"Condition":{"StringEqualz":{"aws:username":"x"}}`), Identity,
			"Invalid Condition type : StringEqualz", "policy.condition", "Statement[0].Condition"},
		{"unknown qualifier", stmt(allowAll + `,"Condition":{"ForSomeValues:StringLike":{"aws:TagKeys":"x"}}`), Identity,
			"Invalid Condition type : ForSomeValues:StringLike", "policy.condition", ""},
		{"NullIfExists", stmt(allowAll + `,"Condition":{"NullIfExists":{"aws:username":"true"}}`), Identity,
			"Invalid Condition type : NullIfExists", "policy.condition", ""},
		{"condition key without vendor", stmt(allowAll + `,"Condition":{"StringEquals":{"username":"x"}}`), Identity,
			"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "policy.condition", "Condition.StringEquals.username"},
		{"condition block not an object", stmt(allowAll + `,"Condition":{"StringEquals":"x"}`), Identity,
			"Syntax errors in policy: the StringEquals block must be an object of condition keys.", "policy.syntax", ""},
		{"condition value object", stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":{"a":"b"}}}`), Identity,
			"Syntax errors in policy: condition values must be strings, numbers, booleans or an array of them.", "policy.syntax", ""},
		{"condition value null", stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":null}}`), Identity,
			"Syntax errors in policy: condition values must be strings, numbers, booleans or an array of them.", "policy.syntax", ""},
		{"condition no values", stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":[]}}`), Identity,
			"Condition StringEquals on aws:username has no values.", "policy.condition", ""},
		{"bad number", stmt(allowAll + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}`), Identity,
			`Condition NumericLessThan on s3:max-keys has an invalid value "ten": not a number.`, "policy.condition", ""},
		{"variable in Numeric", stmt(allowAll + `,"Condition":{"NumericEquals":{"s3:max-keys":"${aws:PrincipalTag/max}"}}`), Identity,
			`Condition NumericEquals on s3:max-keys has an invalid value "${aws:PrincipalTag/max}": not a number.`, "policy.condition", ""},
		{"bad date", stmt(allowAll + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), Identity,
			`Condition DateLessThan on aws:CurrentTime has an invalid value "tomorrow": not an ISO 8601 date or epoch time.`, "policy.condition", ""},
		{"bad bool", stmt(allowAll + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}`), Identity,
			`Condition Bool on aws:SecureTransport has an invalid value "yes": not true or false.`, "policy.condition", ""},
		{"bad null", stmt(allowAll + `,"Condition":{"Null":{"aws:TokenIssueTime":"1"}}`), Identity,
			`Condition Null on aws:TokenIssueTime has an invalid value "1": not true or false.`, "policy.condition", ""},
		{"bad CIDR", stmt(allowAll + `,"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}`), Identity,
			`Condition IpAddress on aws:SourceIp has an invalid value "203.0.113.0/33": not an IP address or CIDR range.`, "policy.condition", ""},
		{"bad base64", stmt(allowAll + `,"Condition":{"BinaryEquals":{"key:key":"%%%"}}`), Identity,
			`Condition BinaryEquals on key:key has an invalid value "%%%": not base64.`, "policy.condition", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.doc, c.kind)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			var e *awserr.Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *awserr.Error: %T %v", err, err)
			}
			if e.Code != "MalformedPolicyDocument" || e.Status != 400 {
				t.Fatalf("code %s status %d", e.Code, e.Status)
			}
			if e.Message != c.msg {
				t.Fatalf("message\n got %q\nwant %q", e.Message, c.msg)
			}
			if e.Reason != c.reason {
				t.Fatalf("reason %q, want %q", e.Reason, c.reason)
			}
			if !strings.Contains(e.Detail, c.detail) {
				t.Fatalf("detail %q does not contain %q", e.Detail, c.detail)
			}
		})
	}
	if _, err := Parse(stmt(allowAll), Kind(9)); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

// TestParseAccepts checks documents IAM accepts: every example of the
// User Guide quoted in these tests, and the forms IAM allows.
func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		kind Kind
	}{
		{"StringEquals", docStringEquals, Identity},
		{"StringLike home", docStringLikeHome, Identity},
		{"Numeric", docNumeric, Identity},
		{"Date", docDate, Identity},
		{"Bool", docBool, Identity},
		{"Binary", docBinary, Identity},
		{"IP", docIP, Identity},
		{"ArnEquals", docArnEquals, ResourceBased},
		{"IfExists", docIfExists, Identity},
		{"Null", docNull, Identity},
		{"ForAllValues", docForAllValues, Identity},
		{"ForAnyValue", docForAnyValue, Identity},
		{"SNS variable", docSNSVariable, ResourceBased},
		{"SQS variable", docSQSVariable, Identity},
		{"NotPrincipal", docNotPrincipalRole, ResourceBased},
		{"NotAction", docNotAction, Session},
		{"NotResource", docNotResource, Identity},
		{"EKS hybrid trust", eksHybridTrust, Trust},
		{"EKS SSM trust with empty Sid", eksSSMTrust, Trust},
		{"RA issuer CN", raIssuerCN, Trust},
		{"RA subject CN", raSubjectCN, Trust},
		{"no Version", `{"Statement":{` + allowAll + `}}`, Identity},
		{"2008 with Id", `{"Version":"2008-10-17","Id":"my policy","Statement":{` + allowAll + `}}`, Identity},
		{"numbers and booleans as values", stmt(allowAll + `,"Condition":{"NumericLessThanEquals":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true},"Null":{"aws:x":false}}`), Identity},
		{"operator case", stmt(allowAll + `,"Condition":{"forallvalues:stringlikeifexists":{"aws:TagKeys":"a*"}}`), Identity},
		{"epoch and short dates", stmt(allowAll + `,"Condition":{"DateLessThan":{"aws:CurrentTime":["1700000000","2030","2030-01","2030-01-02","2030-01-02T03:04Z","2030-01-02T03:04:05.123+02:00"]}}`), Identity},
		{"bare IP", stmt(allowAll + `,"Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.1","2001:db8::1"]}}`), Identity},
		{"kms key with colons", stmt(allowAll + `,"Condition":{"StringEquals":{"kms:EncryptionContext:aws:pi":"x"}}`), Identity},
	}
	for _, c := range cases {
		if _, err := Parse(c.doc, c.kind); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	p := mustParse(t, `{"Version":"2008-10-17","Id":"x","Statement":{`+allowAll+`}}`, Session)
	if p.Version() != Version2008 || p.ID() != "x" || p.Kind() != Session || p.Kind().String() != "session" {
		t.Fatalf("accessors: %q %q %v", p.Version(), p.ID(), p.Kind())
	}
}
