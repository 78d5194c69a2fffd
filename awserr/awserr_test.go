package awserr

import (
	"errors"
	"fmt"
	"testing"
)

func TestViolations(t *testing.T) {
	if Violations() != nil {
		t.Fatal("no violations must give nil")
	}
	one := Violations(Violation{Value: "5", Field: "durationSeconds", Constraint: "Member must have value greater than or equal to 900"})
	want := "1 validation error detected: Value '5' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
	if one.Message != want || one.Code != "ValidationException" || one.Status != 400 {
		t.Fatalf("got %+v", one)
	}
	two := Violations(
		Violation{Null: true, Field: "name", Constraint: "Member must not be null"},
		Violation{Value: "x!", Field: "name", Constraint: "Member must satisfy regular expression pattern: ^[ a-zA-Z0-9-_]*$"},
	)
	want = "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value 'x!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ a-zA-Z0-9-_]*$"
	if two.Message != want {
		t.Fatalf("got %q", two.Message)
	}
}

func TestAs(t *testing.T) {
	e := AccessDenied("Invalid signature").Because("sig.skew", "X-Amz-Date %s is %s from server time", "20261122T000000Z", "7m")
	wrapped := fmt.Errorf("create session: %w", e)
	if got := As(wrapped); got != e {
		t.Fatalf("As lost the error: %v", got)
	}
	if got := As(errors.New("disk on fire")); got.Status != 500 || got.Code != "InternalFailure" {
		t.Fatalf("plain error must become InternalFailure, got %+v", got)
	}
	if e.Error() != "AccessDeniedException: Invalid signature [sig.skew] (X-Amz-Date 20261122T000000Z is 7m from server time)" {
		t.Fatalf("Error() = %q", e.Error())
	}
}
