package p2p

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// watchInterfaces signals on the returned channel when a network interface
// or one of its addresses changes, from the kernel's netlink notifications
// (no polling), until ctx ends.
func watchInterfaces(ctx context.Context) (<-chan struct{}, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("failed to open netlink socket: %w", err)
	}
	sa := &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("failed to listen to netlink: %w", err)
	}
	// A non-blocking descriptor joins Go's poller, so Close ends a Read.
	f := os.NewFile(uintptr(fd), "netlink")
	out := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			_, err := f.Read(buf)
			if err != nil && !errors.Is(err, unix.ENOBUFS) {
				return // closed; ENOBUFS: events were dropped, still a change
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, nil
}
