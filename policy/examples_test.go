package policy

import (
	"strings"
	"testing"
)

// The policies below are quoted from the IAM User Guide (awsdocs
// iam-user-guide, doc_source/*.md), the IAM Roles Anywhere User Guide and
// the Amazon EKS User Guide; the page is named above each. Placeholders
// such as account-id are kept where they do not affect the test.

// reference_policies_elements_condition_operators.md, "String condition operators".
const docStringEquals = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "iam:*AccessKey*",
    "Resource": "arn:aws:iam::account-id:user/*",
    "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}
  }
}`

// Same page: StringLike with a policy variable (S3 home directories).
const docStringLikeHome = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::BUCKET-NAME",
      "Condition": {"StringLike": {"s3:prefix": [
        "",
        "home/",
        "home/${aws:username}/"
      ]}}
    },
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::BUCKET-NAME/home/${aws:username}",
        "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"
      ]
    }
  ]
}`

// Same page, "Numeric condition operators".
const docNumeric = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": "arn:aws:s3:::example_bucket",
    "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}
  }
}`

// Same page, "Date condition operators".
const docDate = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "iam:*AccessKey*",
    "Resource": "arn:aws:iam::account-id:user/*",
    "Condition": {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
  }
}`

// Same page, "Boolean condition operators".
const docBool = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "BooleanExample",
      "Action": "s3:*",
      "Effect": "Deny",
      "Resource": [
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET",
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    }
  ]
}`

// Same page, "Binary condition operators" (the condition block, in a
// statement of ours).
const docBinary = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow", "Action": "someservice:*", "Resource": "*",
    "Condition" : {
      "BinaryEquals": {
        "key:key" : "QmluYXJ5VmFsdWVJbkJhc2U2NA=="
      }
    }
  }
}`

// Same page, "IP address condition operators" (mixed IPv4 and IPv6).
const docIP = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "someservice:*",
    "Resource": "*",
    "Condition": {
      "IpAddress": {
        "aws:SourceIp": [
          "203.0.113.0/24",
          "2001:DB8:1234:5678::/64"
        ]
      }
    }
  }
}`

// Same page, "Amazon Resource Name (ARN) condition operators": a
// resource-based policy on an SQS queue.
const docArnEquals = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {"AWS": "123456789012"},
    "Action": "SQS:SendMessage",
    "Resource": "arn:aws:sqs:REGION:123456789012:QUEUE-ID",
    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"}}
  }
}`

// Same page, "...IfExists condition operators".
const docIfExists = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "RunInstance",
            "Effect": "Allow",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {
                "StringLikeIfExists": {
                    "ec2:InstanceType": [
                        "t1.*",
                        "t2.*",
                        "m3.*"
             ]}}
        },
        {
            "Sid": "DescribeActions",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeVpcs",
                "ec2:DescribeKeyPairs",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups"
            ],
            "Resource": "*"
        }]
}`

// The same statement without IfExists, which the page titles
// THISPOLICYDOESNOTWORK.
const docNoIfExists = `{
  "Version": "2012-10-17",
  "Statement": {
    "Sid": "THISPOLICYDOESNOTWORK",
    "Effect": "Allow",
    "Action": "ec2:RunInstances",
    "Resource": "*",
    "Condition": {"StringLike": {"ec2:InstanceType": [
      "t1.*",
      "t2.*",
      "m3.*"
    ]}}
  }
}`

// Same page, "Condition operator to check existence of condition keys".
const docNull = `{
  "Version": "2012-10-17",
  "Statement":{
      "Action":"ec2:*",
      "Effect":"Allow",
      "Resource":"*",
      "Condition":{"Null":{"aws:TokenIssueTime":"true"}}
  }
}`

// reference_policies_multi-value-conditions.md: ForAllValues and ForAnyValue.
const docForAllValues = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": "dynamodb:GetItem",
    "Resource": "arn:aws:dynamodb:REGION:ACCOUNT-ID-WITHOUT-HYPHENS:table/Thread",
    "Condition": {"ForAllValues:StringLike": {"dynamodb:requestedAttributes": [
      "PostDateTime",
      "Message",
      "Tags"
    ]}}
  }]
}`

const docForAnyValue = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "Action": "dynamodb:PutItem",
    "Resource": "arn:aws:dynamodb:REGION:ACCOUNT-ID-WITHOUT-HYPHENS:table/Thread",
    "Condition": {"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": [
      "ID",
      "PostDateTime"
    ]}}
  }]
}`

// reference_policies_variables.md, "Condition element": an SNS topic
// policy whose StringLike value holds a variable.
const docSNSVariable = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Principal": {
        "AWS": "999999999999"
      },
      "Effect": "Allow",
      "Action": "sns:*",
      "Resource": "arn:aws:sns:us-east-1:999999999999:topic",
      "Condition": {
        "StringLike": {
          "sns:endpoint": "https://example.com/${aws:username}/"
        },
        "StringEquals": {
          "sns:Protocol": "https"
        }
      }
    }
  ]
}`

// reference_policies_variables.md, "Resource element": SQS queues named
// after the user.
const docSQSVariable = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ListForConsole",
            "Effect": "Allow",
            "Action": "sqs:ListQueues",
            "Resource": "*"
        },
        {
            "Sid": "AllQueueActions",
            "Effect": "Allow",
            "Action": "sqs:*",
            "Resource": "arn:aws:sqs:us-east-2:*:${aws:username}-queue"
        }
    ]
}`

// IAM Roles Anywhere User Guide, "Attribute mapping and trust policy": the
// positive and the negated issuer-CN conditions.
const raIssuerCN = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "rolesanywhere.amazonaws.com"
      },
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession",
        "sts:SetSourceIdentity"
      ],
      "Condition": {
        "StringEquals": {
          "aws:PrincipalTag/x509Issuer/CN": "Bob"
        },
        "ArnEquals": {
          "aws:SourceArn": [
            "TRUST_ANCHOR_ARN"
          ]
        }
      }
    }
  ]
}`

// The blog-style CN-scoped trust policy (AWS Security Blog, "Connect your
// on-premises Kubernetes cluster to AWS APIs using IAM Roles Anywhere",
// and the IAM Roles Anywhere trust model page): one workload identity by
// subject CN, pinned to one trust anchor.
const raSubjectCN = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "rolesanywhere.amazonaws.com"
      },
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession",
        "sts:SetSourceIdentity"
      ],
      "Condition": {
        "StringEquals": {
          "aws:PrincipalTag/x509Subject/CN": "app1.default.svc"
        },
        "ArnEquals": {
          "aws:SourceArn": "TRUST_ANCHOR_ARN"
        }
      }
    }
  ]
}`

// Amazon EKS User Guide, hybrid-nodes-creds: the SSM hybrid activation
// trust policy, with its empty Sid and a wildcard ArnEquals.
const eksSSMTrust = `{
   "Version":"2012-10-17",
   "Statement":[
      {
         "Sid":"",
         "Effect":"Allow",
         "Principal":{
            "Service":"ssm.amazonaws.com"
         },
         "Action":"sts:AssumeRole",
         "Condition":{
            "StringEquals":{
               "aws:SourceAccount":"111122223333"
            },
            "ArnEquals":{
               "aws:SourceArn":"arn:aws:ssm:us-east-1:111122223333:*"
            }
         }
      }
   ]
}`

// ctx builds a request context from key, value pairs; a key repeated
// gets several values.
func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

type evalCase struct {
	name   string
	req    Request
	effect Effect
	// why, when set, must appear in the explanation.
	why string
}

func runCases(t *testing.T, doc string, kind Kind, cases []evalCase) {
	t.Helper()
	p := mustParse(t, doc, kind)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Evaluate(c.req)
			if d.Effect != c.effect {
				t.Fatalf("effect %s, want %s (%s)", d.Effect, c.effect, d.Explanation)
			}
			if c.why != "" && !strings.Contains(d.Explanation, c.why) {
				t.Fatalf("explanation %q does not contain %q", d.Explanation, c.why)
			}
		})
	}
}

func idReq(action, resource string, c map[string][]string) Request {
	return Request{Principal: Principal{AWS: "arn:aws:iam::111122223333:user/David"}, Action: action, Resource: resource, Context: c}
}

func TestDocStringOperators(t *testing.T) {
	runCases(t, docStringEquals, Identity, []evalCase{
		{"tagged admin", idReq("iam:CreateAccessKey", "arn:aws:iam::account-id:user/Bob",
			ctx("aws:PrincipalTag/job-category", "iamuser-admin")), Allow, ""},
		{"key case-insensitive", idReq("iam:CreateAccessKey", "arn:aws:iam::account-id:user/Bob",
			ctx("AWS:principaltag/JOB-CATEGORY", "iamuser-admin")), Allow, ""},
		{"value case-sensitive", idReq("iam:CreateAccessKey", "arn:aws:iam::account-id:user/Bob",
			ctx("aws:PrincipalTag/job-category", "IAMUSER-ADMIN")), ImplicitDeny,
			`StringEquals aws:PrincipalTag/job-category: request value "IAMUSER-ADMIN" does not match "iamuser-admin"`},
		{"untagged user", idReq("iam:UpdateAccessKey", "arn:aws:iam::account-id:user/Bob", nil), ImplicitDeny,
			"StringEquals aws:PrincipalTag/job-category: the key is not in the request"},
		{"action wildcard in the middle", idReq("iam:ListAccessKeys", "arn:aws:iam::account-id:user/Bob",
			ctx("aws:PrincipalTag/job-category", "iamuser-admin")), Allow, ""},
		{"action outside wildcard", idReq("iam:CreateUser", "arn:aws:iam::account-id:user/Bob",
			ctx("aws:PrincipalTag/job-category", "iamuser-admin")), ImplicitDeny, "action iam:CreateUser is not in Action"},
		{"action case-insensitive", idReq("IAM:createaccesskey", "arn:aws:iam::account-id:user/Bob",
			ctx("aws:PrincipalTag/job-category", "iamuser-admin")), Allow, ""},
		{"resource case-sensitive", idReq("iam:CreateAccessKey", "arn:aws:iam::account-id:USER/Bob",
			ctx("aws:PrincipalTag/job-category", "iamuser-admin")), ImplicitDeny, "is not in Resource"},
	})

	runCases(t, docStringLikeHome, Identity, []evalCase{
		{"list own home", idReq("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME", ctx("aws:username", "David", "s3:prefix", "home/David/")), Allow, ""},
		{"list root", idReq("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME", ctx("aws:username", "David", "s3:prefix", "")), Allow, ""},
		{"list home", idReq("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME", ctx("aws:username", "David", "s3:prefix", "home/")), Allow, ""},
		{"list other home", idReq("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME", ctx("aws:username", "David", "s3:prefix", "home/Bob/")), ImplicitDeny,
			`StringLike s3:prefix: request value "home/Bob/" does not match any of ["", "home/", "home/${aws:username}/" (= "home/David/")]`},
		{"get own object", idReq("s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt", ctx("aws:username", "David")), Allow, ""},
		{"get own deep object", idReq("s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/David/a/b:c.txt", ctx("aws:username", "David")), Allow, ""},
		{"get other object", idReq("s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/Bob/notes.txt", ctx("aws:username", "David")), ImplicitDeny, ""},
		{"no user name", idReq("s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt", nil), ImplicitDeny, "(${aws:username} has no value)"},
	})
}

func TestDocNumericDateBoolBinaryIP(t *testing.T) {
	list := func(c map[string][]string) Request { return idReq("s3:ListBucket", "arn:aws:s3:::example_bucket", c) }
	runCases(t, docNumeric, Identity, []evalCase{
		{"10 keys", list(ctx("s3:max-keys", "10")), Allow, ""},
		{"2 keys", list(ctx("s3:max-keys", "2")), Allow, ""},
		{"10.0 keys", list(ctx("s3:max-keys", "10.0")), Allow, ""},
		{"11 keys", list(ctx("s3:max-keys", "11")), ImplicitDeny, `NumericLessThanEquals s3:max-keys: request value "11" does not match "10"`},
		{"not a number", list(ctx("s3:max-keys", "ten")), ImplicitDeny, ""},
		{"absent", list(nil), ImplicitDeny, "the key is not in the request"},
	})

	key := func(c map[string][]string) Request {
		return idReq("iam:CreateAccessKey", "arn:aws:iam::account-id:user/Bob", c)
	}
	runCases(t, docDate, Identity, []evalCase{
		{"issued 2020", key(ctx("aws:TokenIssueTime", "2020-06-01T00:00:00Z")), Allow, ""},
		{"issued exactly then", key(ctx("aws:TokenIssueTime", "2020-01-01T00:00:01Z")), ImplicitDeny, ""},
		{"issued a second later", key(ctx("aws:TokenIssueTime", "2020-01-01T00:00:02Z")), Allow, ""},
		{"issued 2019", key(ctx("aws:TokenIssueTime", "2019-12-31T23:59:59Z")), ImplicitDeny, ""},
		{"other zone", key(ctx("aws:TokenIssueTime", "2020-01-01T01:00:02+01:00")), Allow, ""},
		{"epoch", key(ctx("aws:TokenIssueTime", "1577836802")), Allow, ""},
		{"epoch before", key(ctx("aws:TokenIssueTime", "1577836800")), ImplicitDeny, ""},
		{"long-term keys", key(nil), ImplicitDeny, "DateGreaterThan aws:TokenIssueTime: the key is not in the request"},
	})

	s3 := func(c map[string][]string) Request {
		return idReq("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/x", c)
	}
	runCases(t, docBool, Identity, []evalCase{
		{"plain HTTP denied", s3(ctx("aws:SecureTransport", "false")), Deny,
			"explicitly denied by Statement[0] (Sid \"BooleanExample\"): conditions held: Bool aws:SecureTransport"},
		{"case of the value", s3(ctx("aws:SecureTransport", "FALSE")), Deny, ""},
		// The deny does not apply, and nothing allows.
		{"TLS", s3(ctx("aws:SecureTransport", "true")), ImplicitDeny, "there is no applicable Allow statement"},
	})

	any := func(c map[string][]string) Request { return idReq("someservice:Do", "arn:aws:someservice:::x", c) }
	runCases(t, docBinary, Identity, []evalCase{
		{"same bytes", any(ctx("key:key", "BinaryValueInBase64")), Allow, ""},
		{"other bytes", any(ctx("key:key", "BinaryValueInBase65")), ImplicitDeny, ""},
	})
	runCases(t, docIP, Identity, []evalCase{
		{"v4 in range", any(ctx("aws:SourceIp", "203.0.113.77")), Allow, ""},
		{"v4 out of range", any(ctx("aws:SourceIp", "203.0.114.1")), ImplicitDeny,
			`IpAddress aws:SourceIp: request value "203.0.114.1" does not match any of ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]`},
		{"v6 in range", any(ctx("aws:SourceIp", "2001:db8:1234:5678::1")), Allow, ""},
		{"v6 out of range", any(ctx("aws:SourceIp", "2001:db8:1234:5679::1")), ImplicitDeny, ""},
		{"v4-mapped v6", any(ctx("aws:SourceIp", "::ffff:203.0.113.5")), Allow, ""},
		{"garbage", any(ctx("aws:SourceIp", "localhost")), ImplicitDeny, ""},
		{"VPC endpoint, no source IP", any(nil), ImplicitDeny, ""},
	})
}

func TestDocArnOperators(t *testing.T) {
	send := func(p Principal, c map[string][]string) Request {
		return Request{Principal: p, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:REGION:123456789012:QUEUE-ID", Context: c}
	}
	topic := ctx("aws:SourceArn", "arn:aws:sns:REGION:123456789012:TOPIC-ID")
	runCases(t, docArnEquals, ResourceBased, []evalCase{
		{"account principal, topic", send(Principal{AWS: "arn:aws:iam::123456789012:user/sns"}, topic), Allow, ""},
		{"account root", send(Principal{AWS: "arn:aws:iam::123456789012:root"}, topic), Allow, ""},
		{"other topic", send(Principal{AWS: "arn:aws:iam::123456789012:user/sns"},
			ctx("aws:SourceArn", "arn:aws:sns:REGION:123456789012:OTHER")), ImplicitDeny, "ArnEquals aws:SourceArn"},
		{"direct call, no source", send(Principal{AWS: "arn:aws:iam::123456789012:user/sns"}, nil), ImplicitDeny, ""},
		{"other account", send(Principal{AWS: "arn:aws:iam::999999999999:user/sns"}, topic), ImplicitDeny,
			"principal arn:aws:iam::999999999999:user/sns is not named in Principal"},
	})

	// The User Guide's example of StringLike matching where ArnLike does
	// not: ArnLike compares the six components one by one.
	const value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
	for _, c := range []struct {
		op   string
		want Effect
	}{{"StringLike", Allow}, {"ArnLike", ImplicitDeny}, {"ArnEquals", ImplicitDeny}, {"StringNotLike", ImplicitDeny}, {"ArnNotLike", Allow}} {
		doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"` + c.op + `":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}}}`
		d := mustParse(t, doc, Identity).Evaluate(idReq("someservice:Get", "arn:x", ctx("aws:SourceArn", value)))
		if d.Effect != c.want {
			t.Errorf("%s: %s, want %s (%s)", c.op, d.Effect, c.want, d.Explanation)
		}
	}

	runCases(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
		"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::111122223333:role/ci-?","arn:aws:iam::*:role/admin/*"]}}}}`, Identity, []evalCase{
		{"single-character wildcard", idReq("s3:Get", "arn:x", ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:role/ci-7")), Allow, ""},
		{"? is exactly one", idReq("s3:Get", "arn:x", ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:role/ci-77")), ImplicitDeny, ""},
		{"account wildcard, path", idReq("s3:Get", "arn:x", ctx("aws:PrincipalArn", "arn:aws:iam::444455556666:role/admin/ops/root")), Allow, ""},
		{"not an ARN", idReq("s3:Get", "arn:x", ctx("aws:PrincipalArn", "admin")), ImplicitDeny, ""},
		{"ARN case-sensitive", idReq("s3:Get", "arn:x", ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:ROLE/ci-7")), ImplicitDeny, ""},
	})

	// The EKS SSM trust policy: ArnEquals with a trailing wildcard.
	ssm := func(src string) Request {
		return Request{Principal: Principal{Service: "ssm.amazonaws.com"}, Action: assumeRole, Resource: nodeRole,
			Context: ctx("aws:SourceAccount", "111122223333", "aws:SourceArn", src)}
	}
	runCases(t, eksSSMTrust, Trust, []evalCase{
		{"activation in the account", ssm("arn:aws:ssm:us-east-1:111122223333:activation/abc"), Allow, ""},
		{"other region", ssm("arn:aws:ssm:eu-west-1:111122223333:activation/abc"), ImplicitDeny, ""},
	})
}

func TestDocIfExistsAndNull(t *testing.T) {
	run := func(c map[string][]string) Request {
		return idReq("ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*", c)
	}
	runCases(t, docIfExists, Identity, []evalCase{
		{"t2.micro", run(ctx("ec2:InstanceType", "t2.micro")), Allow, ""},
		{"c5.large", run(ctx("ec2:InstanceType", "c5.large")), ImplicitDeny, `StringLikeIfExists ec2:InstanceType: request value "c5.large"`},
		{"image, no instance type", run(nil), Allow, ""},
		{"describe", idReq("ec2:DescribeVpcs", "*", nil), Allow, ""},
	})
	runCases(t, docNoIfExists, Identity, []evalCase{
		{"image, no instance type", run(nil), ImplicitDeny, "StringLike ec2:InstanceType: the key is not in the request"},
	})
	runCases(t, docNull, Identity, []evalCase{
		{"long-term credentials", idReq("ec2:DescribeVpcs", "*", nil), Allow, ""},
		{"temporary credentials", idReq("ec2:DescribeVpcs", "*", ctx("aws:TokenIssueTime", "2026-01-01T00:00:00Z")), ImplicitDeny,
			"Null aws:TokenIssueTime: the key is in the request"},
		{"empty value list is absent", idReq("ec2:DescribeVpcs", "*", map[string][]string{"aws:TokenIssueTime": {}}), Allow, ""},
	})
}

func TestDocSetOperators(t *testing.T) {
	get := func(attrs ...string) Request {
		c := map[string][]string{}
		if attrs != nil {
			c["dynamodb:requestedAttributes"] = attrs
		}
		return idReq("dynamodb:GetItem", "arn:aws:dynamodb:REGION:ACCOUNT-ID-WITHOUT-HYPHENS:table/Thread", c)
	}
	runCases(t, docForAllValues, Identity, []evalCase{
		{"all listed", get("PostDateTime", "Message"), Allow, ""},
		{"one not listed", get("PostDateTime", "UserName"), ImplicitDeny,
			`ForAllValues:StringLike dynamodb:requestedAttributes: request value "UserName" does not match any of ["PostDateTime", "Message", "Tags"]`},
		{"ID not listed", get("ID"), ImplicitDeny, ""},
		// AWS: an empty data set makes ForAllValues true.
		{"no attributes", get(), Allow, ""},
	})
	put := func(attrs ...string) Request {
		c := map[string][]string{}
		if attrs != nil {
			c["dynamodb:requestedAttributes"] = attrs
		}
		return idReq("dynamodb:PutItem", "arn:aws:dynamodb:REGION:ACCOUNT-ID-WITHOUT-HYPHENS:table/Thread", c)
	}
	runCases(t, docForAnyValue, Identity, []evalCase{
		{"updates PostDateTime", put("UserName", "Message", "PostDateTime"), Deny, "ForAnyValue:StringLike dynamodb:requestedAttributes"},
		{"updates UserName only", put("UserName"), ImplicitDeny, ""},
		// AWS: ForAnyValue on an empty data set is false.
		{"no attributes", put(), ImplicitDeny, ""},
	})

	// Negated operators with set qualifiers: ForAnyValue:StringNotEquals
	// is true when some request value equals none of the policy values
	// ("deny any tag key outside the allowed list"); ForAllValues needs
	// every value to equal none.
	tag := func(keys ...string) Request {
		return idReq("ec2:CreateTags", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", map[string][]string{"aws:TagKeys": keys})
	}
	runCases(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*"},
		{"Sid":"OnlyAllowedKeys","Effect":"Deny","Action":"ec2:CreateTags","Resource":"*",
		 "Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["environment","cost-center"]}}}]}`, Identity, []evalCase{
		{"allowed keys", tag("environment", "cost-center"), Allow, ""},
		{"one other key", tag("environment", "owner"), Deny, "OnlyAllowedKeys"},
	})
	runCases(t, `{"Version":"2012-10-17","Statement":
		{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
		 "Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":["reserved","aws-internal"]}}}}`, Identity, []evalCase{
		{"no reserved key", tag("environment", "owner"), Allow, ""},
		{"one reserved key", tag("environment", "reserved"), ImplicitDeny,
			`ForAllValues:StringNotEquals aws:TagKeys: request value "reserved" matches any of ["reserved", "aws-internal"]`},
	})

	// Without a qualifier, a multivalued key satisfies a positive operator
	// when any value matches, and a negated one only when none does.
	runCases(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
		"Condition":{"StringNotEquals":{"aws:TagKeys":"secret"}}}}`, Identity, []evalCase{
		{"none equal", tag("a", "b"), Allow, ""},
		{"one equal", tag("a", "secret"), ImplicitDeny, `StringNotEquals aws:TagKeys: request value "secret" matches "secret"`},
	})
}

func TestDocVariables(t *testing.T) {
	sns := func(user, endpoint string) Request {
		return Request{Principal: Principal{AWS: "arn:aws:iam::999999999999:user/" + user}, Action: "sns:Subscribe",
			Resource: "arn:aws:sns:us-east-1:999999999999:topic",
			Context:  ctx("aws:username", user, "sns:endpoint", endpoint, "sns:Protocol", "https")}
	}
	runCases(t, docSNSVariable, ResourceBased, []evalCase{
		{"own endpoint", sns("David", "https://example.com/David/"), Allow, ""},
		{"other endpoint", sns("David", "https://example.com/Bob/"), ImplicitDeny,
			`StringLike sns:endpoint: request value "https://example.com/Bob/" does not match "https://example.com/${aws:username}/" (= "https://example.com/David/")`},
	})
	q := func(user, res string) Request { return idReq("sqs:SendMessage", res, ctx("aws:username", user)) }
	runCases(t, docSQSVariable, Identity, []evalCase{
		{"own queue", q("David", "arn:aws:sqs:us-east-2:111122223333:David-queue"), Allow, ""},
		{"other queue", q("David", "arn:aws:sqs:us-east-2:111122223333:Bob-queue"), ImplicitDeny, ""},
		{"other region", q("David", "arn:aws:sqs:us-east-1:111122223333:David-queue"), ImplicitDeny, ""},
		// The substituted value is literal: a user named "*" gets no wildcard.
		{"user named *", q("*", "arn:aws:sqs:us-east-2:111122223333:David-queue"), ImplicitDeny, ""},
	})

	// Defaults (", 'default'"), escapes and Version 2008 literal text.
	cases := []struct {
		name, version, op, value string
		c                        map[string][]string
		want                     bool
	}{
		{"default used", "2012-10-17", "StringEquals", "${aws:PrincipalTag/team, 'company-wide'}", ctx("s3:prefix", "company-wide"), true},
		{"default ignored", "2012-10-17", "StringEquals", "${aws:PrincipalTag/team, 'company-wide'}",
			ctx("s3:prefix", "company-wide", "aws:PrincipalTag/team", "red"), false},
		{"value over default", "2012-10-17", "StringEquals", "${aws:PrincipalTag/team, 'company-wide'}",
			ctx("s3:prefix", "red", "aws:PrincipalTag/team", "red"), true},
		{"empty default", "2012-10-17", "StringEquals", "home/${aws:userid, ''}", ctx("s3:prefix", "home/"), true},
		{"multivalued key is no variable", "2012-10-17", "StringEquals", "${aws:TagKeys}", ctx("s3:prefix", "a", "aws:TagKeys", "a", "aws:TagKeys", "b"), false},
		{"escape star", "2012-10-17", "StringLike", "a${*}b", ctx("s3:prefix", "a*b"), true},
		{"escaped star is literal", "2012-10-17", "StringLike", "a${*}b", ctx("s3:prefix", "axyzb"), false},
		{"escape question mark", "2012-10-17", "StringLike", "what${?}", ctx("s3:prefix", "what?"), true},
		{"escaped question mark is literal", "2012-10-17", "StringLike", "what${?}", ctx("s3:prefix", "whats"), false},
		{"escape dollar", "2012-10-17", "StringEquals", "${$}{aws:username}", ctx("s3:prefix", "${aws:username}", "aws:username", "x"), true},
		{"variable value is literal", "2012-10-17", "StringLike", "${aws:username}", ctx("s3:prefix", "David", "aws:username", "D*"), false},
		{"2008 keeps text", "2008-10-17", "StringEquals", "${aws:username}", ctx("s3:prefix", "${aws:username}", "aws:username", "David"), true},
		{"no Version keeps text", "", "StringEquals", "${aws:username}", ctx("s3:prefix", "David", "aws:username", "David"), false},
		{"not a key", "2012-10-17", "StringEquals", "${username}", ctx("s3:prefix", "${username}"), true},
		{"unterminated", "2012-10-17", "StringEquals", "${aws:username", ctx("s3:prefix", "${aws:username", "aws:username", "x"), true},
		{"variable in Bool", "2012-10-17", "Bool", "${aws:PrincipalTag/secure}", ctx("s3:prefix", "true", "aws:PrincipalTag/secure", "TRUE"), true},
		{"variable in ArnEquals", "2012-10-17", "ArnEquals", "arn:aws:iam::111122223333:user/${aws:username}",
			ctx("s3:prefix", "arn:aws:iam::111122223333:user/David", "aws:username", "David"), true},
		{"unresolved makes StringNotEquals hold", "2012-10-17", "StringNotEquals", "${aws:PrincipalTag/team}", ctx("s3:prefix", "x"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			version := ""
			if c.version != "" {
				version = `"Version":"` + c.version + `",`
			}
			doc := `{` + version + `"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
				"Condition":{"` + c.op + `":{"s3:prefix":` + jsonString(c.value) + `}}}}`
			d := mustParse(t, doc, Identity).Evaluate(idReq("s3:ListBucket", "arn:aws:s3:::b", c.c))
			if d.Allowed() != c.want {
				t.Fatalf("allowed %v, want %v: %s", d.Allowed(), c.want, d.Explanation)
			}
		})
	}
}

func TestRolesAnywhereTrustPolicies(t *testing.T) {
	issuer := mustParse(t, strings.ReplaceAll(raIssuerCN, "TRUST_ANCHOR_ARN", taARN), Trust)
	c := createSessionContext("node-1", "node-1", taARN)
	c["aws:PrincipalTag/x509Issuer/CN"] = []string{"Bob"}
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"} {
		if d := issuer.Evaluate(trustRequest(action, c)); !d.Allowed() {
			t.Fatalf("%s: %+v", action, d)
		}
	}
	// A profile whose mapping removes x509Issuer/CN: the tag is an absent
	// key, so StringEquals is false (createsession.md §5.1) ...
	delete(c, "aws:PrincipalTag/x509Issuer/CN")
	d := issuer.Evaluate(trustRequest(assumeRole, c))
	if d.Effect != ImplicitDeny || !strings.Contains(d.Explanation, "StringEquals aws:PrincipalTag/x509Issuer/CN: the key is not in the request") {
		t.Fatalf("removed mapping, StringEquals: %+v", d)
	}
	// ... and StringNotEquals is true (the User Guide's second example).
	negated := mustParse(t, strings.ReplaceAll(strings.ReplaceAll(raIssuerCN, "TRUST_ANCHOR_ARN", taARN), `"StringEquals"`, `"StringNotEquals"`), Trust)
	if d := negated.Evaluate(trustRequest(assumeRole, c)); !d.Allowed() {
		t.Fatalf("removed mapping, StringNotEquals: %+v", d)
	}
	c["aws:PrincipalTag/x509Issuer/CN"] = []string{"Bob"}
	if d := negated.Evaluate(trustRequest(assumeRole, c)); d.Allowed() {
		t.Fatalf("StringNotEquals with the value present: %+v", d)
	}

	subject := mustParse(t, strings.ReplaceAll(raSubjectCN, "TRUST_ANCHOR_ARN", taARN), Trust)
	if d := subject.Evaluate(trustRequest(assumeRole, createSessionContext("app1.default.svc", "0a1b", taARN))); !d.Allowed() {
		t.Fatalf("CN-scoped, right CN: %+v", d)
	}
	d = subject.Evaluate(trustRequest(assumeRole, createSessionContext("app2.default.svc", "0a1b", taARN)))
	if d.Allowed() || d.Statement != "Statement[0]" || !strings.Contains(d.Explanation,
		`StringEquals aws:PrincipalTag/x509Subject/CN: request value "app2.default.svc" does not match "app1.default.svc"`) {
		t.Fatalf("CN-scoped, wrong CN: %+v", d)
	}
}

// jsonString quotes s for embedding in a JSON document.
func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
