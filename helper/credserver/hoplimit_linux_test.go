package credserver

import (
	"log/slog"
	"net"
	"syscall"
	"testing"
)

// The listener sets the TTL (IPv4) or hop limit (IPv6) on the accepted
// socket itself, read back from the kernel.
func TestHopLimitListener(t *testing.T) {
	for _, tc := range []struct {
		addr       string
		level, opt int
	}{
		{"127.0.0.1:0", syscall.IPPROTO_IP, syscall.IP_TTL},
		{"[::1]:0", syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS},
	} {
		for _, hops := range []int{1, 64, 255} {
			ln, err := net.Listen("tcp", tc.addr)
			if err != nil {
				t.Logf("%s: %v (no IPv6 loopback?)", tc.addr, err)
				continue
			}
			hl := &hopLimitListener{Listener: ln, hops: hops, log: slog.New(slog.DiscardHandler)}
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c, err := hl.Accept()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := c.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got int
			var gerr error
			raw.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), tc.level, tc.opt) })
			c.Close()
			client.Close()
			ln.Close()
			if gerr != nil || got != hops {
				t.Fatalf("%s: hop limit %d, read back %d (%v)", tc.addr, hops, got, gerr)
			}
		}
	}
}
