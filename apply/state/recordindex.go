package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
)

// The applied record's index (FileAppliedIndex) keeps what LoadApplied
// would otherwise build from the whole record on every apply (each line
// parsed and checked, its identity hashed, the entries sorted: a tenth of
// a CPU second at 100,000 targets): the sorted entries, with the size and
// CRC-32C of the record they index. It is a cache, never trusted blindly:
// it is used only when its own checksum holds and the record has the size
// and checksum it names (one read of the record, no parse), and a record
// that is not what it indexes, because it was restored or edited, or the
// index was torn, is read whole and indexed afresh.
//
// Its form, little-endian: the magic "TRAILAX1", then the generation, the
// record's size, where its first line after the header starts (8 bytes
// each), the record's CRC-32C and the number of entries (4 bytes each),
// then per entry the identity's hash and its line's offset (8 bytes each,
// sorted by hash, then offset), and last the CRC-32C of all before it.
const aidxMagic = "TRAILAX1"

const aidxHead = len(aidxMagic) + 3*8 + 2*4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FileAppliedIndex is the index of FileApplied, beside it.
const FileAppliedIndex = FileApplied + ".idx"

// appliedIndexFile is where the index of the record at file is kept.
func appliedIndexFile(file string) string { return file + ".idx" }

// encodeAppliedIndex renders a's index for a record of checksum sum.
func encodeAppliedIndex(a *Applied, sum uint32) []byte {
	b := make([]byte, 0, aidxHead+16*len(a.ents)+4)
	b = append(b, aidxMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(a.Generation))
	b = binary.LittleEndian.AppendUint64(b, uint64(a.size))
	b = binary.LittleEndian.AppendUint64(b, uint64(a.body))
	b = binary.LittleEndian.AppendUint32(b, sum)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(a.ents)))
	for _, e := range a.ents {
		b = binary.LittleEndian.AppendUint64(b, e.hash)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.off))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// appliedIndex is a decoded index: the record it names and its entries.
type appliedIndex struct {
	gen        int
	size, body int64
	sum        uint32
	ents       []recordEnt
}

// decodeAppliedIndex reads an index, rejecting it whole for any damage:
// a wrong length or checksum, entries out of order or outside the record.
func decodeAppliedIndex(data []byte) (*appliedIndex, error) {
	le := binary.LittleEndian
	if len(data) < aidxHead+4 || string(data[:len(aidxMagic)]) != aidxMagic {
		return nil, errors.New("not an index of the applied record")
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != le.Uint32(data[len(body):]) {
		return nil, errors.New("the index's checksum does not match: torn or damaged")
	}
	h := body[len(aidxMagic):]
	x := &appliedIndex{gen: int(le.Uint64(h)), size: int64(le.Uint64(h[8:])), body: int64(le.Uint64(h[16:])), sum: le.Uint32(h[24:])}
	n := int(le.Uint32(h[28:]))
	rest := body[aidxHead:]
	if x.gen < 0 || x.size < 0 || x.body <= 0 || x.body > x.size || len(rest) != 16*n {
		return nil, errors.New("the index's header does not fit its entries")
	}
	x.ents = make([]recordEnt, n)
	for i := range x.ents {
		e := recordEnt{hash: le.Uint64(rest[16*i:]), off: int64(le.Uint64(rest[16*i+8:]))}
		if e.off < x.body || e.off >= x.size || i > 0 && compareEnt(x.ents[i-1], e) >= 0 {
			return nil, fmt.Errorf("entry %d is out of order or outside the record", i)
		}
		x.ents[i] = e
	}
	return x, nil
}

// checksumRecord returns the CRC-32C of src's first size bytes and its
// header line (up to 64 bytes of it).
func checksumRecord(src io.ReaderAt, size int64) (uint32, []byte, error) {
	buf := make([]byte, 256<<10)
	var sum uint32
	var head []byte
	for off := int64(0); off < size; {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n == 0 && err != nil {
			return 0, nil, err
		}
		if off == 0 {
			head, _, _ = bytes.Cut(buf[:min(n, 64)], []byte("\n"))
			head = slices.Clone(head)
		}
		sum = crc32.Update(sum, castagnoli, buf[:n])
		off += int64(n)
	}
	return sum, head, nil
}

// indexedApplied returns the record at file, open as src, through its
// index, or nil when there is none or it is not this record's.
func indexedApplied(file string, src io.ReaderAt, size int64) *Applied {
	data, err := os.ReadFile(appliedIndexFile(file))
	if err != nil {
		return nil
	}
	x, err := decodeAppliedIndex(data)
	if err != nil || x.size != size {
		return nil
	}
	sum, head, err := checksumRecord(src, size)
	if err != nil || sum != x.sum {
		return nil
	}
	if g, ok := appliedGeneration(string(head)); !ok || g != x.gen || int64(len(head))+1 != x.body {
		return nil
	}
	a := &Applied{Generation: x.gen, src: src, size: size, body: x.body, ents: x.ents}
	if !distinctHashes(a.ents) && a.twice(file) != nil {
		return nil
	}
	a.unique = true
	return a
}

// saveAppliedIndex writes a's index for a record of checksum sum, not
// durably: a lost or torn index costs one read of the record whole.
func saveAppliedIndex(file string, a *Applied, sum uint32) {
	WriteAtomic(appliedIndexFile(file), encodeAppliedIndex(a, sum), false)
}

// moveAppliedIndex rewrites the index of a record of size bytes, its
// lines from body, of checksum sum, for the record that copies those
// lines under the header of generation gen (CopyApplied): every line's
// offset moves by the headers' change in length, which keeps the
// entries' order. An index that was not the old record's is left as it
// is, stale: the next load reads the record whole.
func moveAppliedIndex(file string, size, body int64, sum uint32, gen int, newBody int64, newSum uint32) {
	data, err := os.ReadFile(appliedIndexFile(file))
	if err != nil {
		return
	}
	x, err := decodeAppliedIndex(data)
	if err != nil || x.size != size || x.body != body || x.sum != sum {
		return
	}
	d := newBody - body
	for i := range x.ents {
		x.ents[i].off += d
	}
	saveAppliedIndex(file, &Applied{Generation: gen, size: size + d, body: newBody, ents: x.ents}, newSum)
}

// CheckAppliedIndex compares the index of the record at file, read whole
// and checked line by line as a (LoadAppliedWhole), with a's own
// entries: an index that names this record by its size and checksum must
// hold exactly them. One that is missing, torn or names another record
// is no problem: the next load indexes the record afresh.
func CheckAppliedIndex(file string, a *Applied) error {
	data, err := os.ReadFile(appliedIndexFile(file))
	if err != nil || a.src == nil {
		return nil
	}
	x, err := decodeAppliedIndex(data)
	if err != nil || x.size != a.size {
		return nil
	}
	if sum, _, err := checksumRecord(a.src, a.size); err != nil || x.sum != sum {
		return nil
	}
	if x.gen != a.Generation || x.body != a.body || !slices.Equal(x.ents, a.ents) {
		return fmt.Errorf("%s names the record by its size and checksum, but its entries are not the record's", appliedIndexFile(file))
	}
	return nil
}
