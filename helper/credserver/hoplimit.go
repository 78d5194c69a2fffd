package credserver

import (
	"fmt"
	"log/slog"
	"net"
	"syscall"
)

// hopLimitListener sets the IP TTL (IPv6 hop limit) of every accepted
// connection, as the official helper's --hop-limit does. A connection whose
// limit cannot be set is closed rather than served: with hop limit 1 the
// limit is what keeps credentials from crossing a router.
type hopLimitListener struct {
	net.Listener
	hops int
	log  *slog.Logger
}

func (l *hopLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if err := setHopLimit(c, l.hops); err != nil {
			l.log.Warn("closing connection: cannot set hop limit", "remote", c.RemoteAddr().String(), "error", err)
			c.Close()
			continue
		}
		return c, nil
	}
}

// setHopLimit sets the TTL for IPv4 peers, the hop limit for IPv6 ones.
// Connections that are not TCP (Unix sockets) have no hops.
func setHopLimit(c net.Conn, hops int) error {
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	local, _ := tcp.LocalAddr().(*net.TCPAddr)
	v4 := local != nil && local.IP.To4() != nil
	raw, err := tcp.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		if !v4 {
			serr = setsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS, hops)
			return
		}
		serr = setsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_TTL, hops)
		// An IPv4 peer of a dual-stack IPv6 socket may need the IPv6 option.
		if serr != nil && setsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS, hops) == nil {
			serr = nil
		}
	})
	if cerr != nil {
		return cerr
	}
	if serr != nil {
		return fmt.Errorf("setting hop limit %d: %w", hops, serr)
	}
	return nil
}
