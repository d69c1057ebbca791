package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listen binds a unixgram socket, as journald or systemd would, at a
// fresh path or, for names starting with "@", in the abstract namespace.
func listen(t testing.TB, name string) (*net.UnixConn, string) {
	t.Helper()
	addr := name
	if !strings.HasPrefix(name, "@") {
		addr = filepath.Join(t.TempDir(), name)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatalf("bind %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, addr
}

// datagram is one received message: its bytes, or the contents of the
// file descriptor passed with it.
type datagram struct {
	data  []byte
	viaFD bool
	seals int
}

// receive reads one datagram, failing the test if none comes within a
// minute (a hang guard, not a speed check).
func receive(t testing.TB, conn *net.UnixConn) datagram {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 4<<20)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	d := datagram{data: buf[:n]}
	if oobn == 0 {
		return d
	}
	fds := passedFDs(t, oob[:oobn])
	if len(fds) != 1 || n != 0 {
		t.Fatalf("received %d bytes with %d descriptors, want an empty datagram with one", n, len(fds))
	}
	f := os.NewFile(uintptr(fds[0]), "passed")
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatalf("F_GET_SEALS on passed descriptor: %v", err)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<40))
	if err != nil {
		t.Fatalf("read passed descriptor: %v", err)
	}
	return datagram{data: data, viaFD: true, seals: seals}
}

func passedFDs(t testing.TB, oob []byte) []int {
	t.Helper()
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		t.Fatalf("parse control message: %v", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			t.Fatalf("parse SCM_RIGHTS: %v", err)
		}
		fds = append(fds, got...)
	}
	return fds
}

// parseNative decodes the journald native protocol the way journald does:
// NAME=value\n, or NAME\n<le64 size><value>\n.
func parseNative(b []byte) ([]Field, error) {
	var fs []Field
	for len(b) > 0 {
		nl := strings.IndexByte(string(b), '\n')
		if nl < 0 {
			return nil, errors.New("field without final newline")
		}
		line := string(b[:nl])
		if name, value, ok := strings.Cut(line, "="); ok {
			fs = append(fs, Field{name, value})
			b = b[nl+1:]
			continue
		}
		b = b[nl+1:]
		if len(b) < 8 {
			return nil, fmt.Errorf("%s: missing size", line)
		}
		size := binary.LittleEndian.Uint64(b)
		b = b[8:]
		if uint64(len(b)) < size+1 || b[size] != '\n' {
			return nil, fmt.Errorf("%s: size %d does not match the data", line, size)
		}
		fs = append(fs, Field{line, string(b[:size])})
		b = b[size+1:]
	}
	return fs, nil
}
