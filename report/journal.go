package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// DefaultJournalSocket is where journald takes native-protocol entries.
const DefaultJournalSocket = "/run/systemd/journal/socket"

// DefaultMaxValue bounds one field's value. journald itself takes values
// up to 768 MiB, but a megabyte of command output is already more than
// anyone reads in a journal, and every byte is kept for months.
const DefaultMaxValue = 1 << 20

// Journal sends records to journald in its native protocol. The zero
// value is not usable; make one with NewJournal. Safe for concurrent use.
type Journal struct {
	// MaxValue bounds each field's value in bytes; longer values are cut
	// and named in TRAIL_TRUNCATED. Zero or less: no bound.
	MaxValue int

	addr *net.UnixAddr
	mu   sync.Mutex
	conn *net.UnixConn
}

// NewJournal sends to the journald socket at path, or to
// DefaultJournalSocket when path is empty.
func NewJournal(path string) *Journal {
	if path == "" {
		path = DefaultJournalSocket
	}
	return &Journal{
		MaxValue: DefaultMaxValue,
		addr:     &net.UnixAddr{Name: path, Net: "unixgram"},
	}
}

// Socket is the path the journal sends to.
func (j *Journal) Socket() string { return j.addr.Name }

// Send sends r as one journal entry: one datagram when it fits, a sealed
// memfd passed along the socket when it does not.
func (j *Journal) Send(r Record) error {
	fs, err := r.Fields()
	if err != nil {
		return err
	}
	entry := appendNative(nil, cut(fs, j.MaxValue))
	conn, err := j.connect()
	if err != nil {
		return err
	}
	_, _, err = conn.WriteMsgUnix(entry, nil, j.addr)
	if isTooLarge(err) {
		err = j.sendMemfd(conn, entry)
	}
	if err != nil {
		return fmt.Errorf("report: journal %s: %w", j.addr.Name, err)
	}
	return nil
}

// Close releases the sending socket; a later Send opens a new one.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.conn == nil {
		return nil
	}
	err := j.conn.Close()
	j.conn = nil
	return err
}

// connect opens the unbound datagram socket all sends go through.
func (j *Journal) connect() (*net.UnixConn, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.conn != nil {
		return j.conn, nil
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("report: open socket for journal: %w", err)
	}
	j.conn = conn
	return conn, nil
}

// sendMemfd hands journald the entry in a sealed memfd, as sd_journal_send
// does for entries larger than the socket's send buffer.
func (j *Journal) sendMemfd(conn *net.UnixConn, entry []byte) error {
	fd, err := unix.MemfdCreate("trail-journal", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fmt.Errorf("entry of %d bytes too large for a datagram, and memfd_create failed: %w", len(entry), err)
	}
	f := os.NewFile(uintptr(fd), "memfd:trail-journal")
	defer f.Close()
	if _, err := f.Write(entry); err != nil {
		return fmt.Errorf("write memfd: %w", err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("seal memfd: %w", err)
	}
	if _, _, err := conn.WriteMsgUnix(nil, unix.UnixRights(int(f.Fd())), j.addr); err != nil {
		return fmt.Errorf("pass memfd of %d bytes: %w", len(entry), err)
	}
	return nil
}

func isTooLarge(err error) bool {
	return errors.Is(err, syscall.EMSGSIZE) || errors.Is(err, syscall.ENOBUFS)
}

// appendNative encodes fields in the journald native protocol:
// NAME=value\n, or NAME\n<le64 length><value>\n when the value holds a
// newline.
func appendNative(dst []byte, fs []Field) []byte {
	for _, f := range fs {
		dst = append(dst, f.Name...)
		if strings.IndexByte(f.Value, '\n') < 0 {
			dst = append(dst, '=')
			dst = append(dst, f.Value...)
		} else {
			dst = append(dst, '\n')
			dst = binary.LittleEndian.AppendUint64(dst, uint64(len(f.Value)))
			dst = append(dst, f.Value...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// cut shortens values longer than max bytes, at a rune boundary, marks
// each cut in its value and lists the cut fields in TRAIL_TRUNCATED.
func cut(fs []Field, max int) []Field {
	if max <= 0 {
		return fs
	}
	var names []string
	for i, f := range fs {
		if len(f.Value) <= max {
			continue
		}
		n := max
		for n > 0 && !utf8.RuneStart(f.Value[n]) {
			n--
		}
		if len(names) == 0 {
			fs = append([]Field(nil), fs...)
		}
		fs[i].Value = f.Value[:n] + "… [" + strconv.Itoa(len(f.Value)-n) + " bytes cut]"
		names = append(names, f.Name)
	}
	if names != nil {
		fs = append(fs, Field{"TRAIL_TRUNCATED", strings.Join(names, ",")})
	}
	return fs
}
