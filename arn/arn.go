// Package arn parses and formats Amazon Resource Names.
//
// ARNs are the identifiers every iamra API speaks in: trust anchors, profiles,
// CRLs and subjects (rolesanywhere), roles and policies (iam), assumed roles
// (sts) and certificate authorities (acm-pca). The partition, region and
// account of the ARNs iamra mints are server settings, so this package never
// assumes "aws" or any region.
package arn

import (
	"errors"
	"strings"
)

// ARN is a parsed Amazon Resource Name:
// arn:partition:service:region:account-id:resource.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	// Resource is everything after the fifth colon, for example
	// "trust-anchor/0b5c…" or "role/path/name".
	Resource string
}

// ErrMalformed is returned by Parse for strings that are not ARNs.
var ErrMalformed = errors.New("arn: malformed ARN")

// Parse splits s into its parts. It checks only the shape, not whether the
// service or resource type is known.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, ErrMalformed
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}, nil
}

// String formats a as an ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// ResourceType is the part of the resource before the first '/', or the
// whole resource when it has none ("trust-anchor", "role", "assumed-role").
func (a ARN) ResourceType() string {
	t, _, _ := strings.Cut(a.Resource, "/")
	return t
}

// ResourceID is the part of the resource after the first '/' ("" if none).
// For IAM roles with paths this includes the path: "path/to/name".
func (a ARN) ResourceID() string {
	_, id, _ := strings.Cut(a.Resource, "/")
	return id
}

// ResourceName is the part after the last '/': the role name of a role ARN
// with a path, the id of a trust anchor.
func (a ARN) ResourceName() string {
	i := strings.LastIndexByte(a.Resource, '/')
	return a.Resource[i+1:]
}

// Scope is where an iamra server mints its resources: one partition,
// region and account, all server settings.
type Scope struct {
	Partition string
	Region    string
	AccountID string
}

// New builds an ARN for service and resource in this scope. Global services
// (iam, sts) have no region in their ARNs; pass regional=false for them.
func (s Scope) New(service, resource string, regional bool) ARN {
	a := ARN{Partition: s.Partition, Service: service, AccountID: s.AccountID, Resource: resource}
	if regional {
		a.Region = s.Region
	}
	return a
}

// Contains reports whether a belongs to this scope: same partition and
// account, and same region when the ARN has one.
func (s Scope) Contains(a ARN) bool {
	return a.Partition == s.Partition && a.AccountID == s.AccountID && (a.Region == "" || a.Region == s.Region)
}
