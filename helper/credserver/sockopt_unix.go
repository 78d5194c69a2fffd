//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package credserver

import "syscall"

func setsockoptInt(fd uintptr, level, opt, value int) error {
	return syscall.SetsockoptInt(int(fd), level, opt, value)
}
