package cputime

import "testing"

// Work done on this goroutine shows as CPU time, and the meter divides it
// among the operations.
func TestSelfCountsWork(t *testing.T) {
	m := Start()
	before := Self()
	x := 0
	for i := range 50_000_000 {
		x += i ^ x
	}
	if x == 42 {
		t.Log(x) // keeps the loop
	}
	if Self() <= before {
		t.Fatalf("CPU time did not advance: %v then %v", before, Self())
	}
	wall, cpu := m.Per(10)
	if wall <= 0 || cpu <= 0 {
		t.Fatalf("Per(10) = %v, %v; want both positive", wall, cpu)
	}
}
