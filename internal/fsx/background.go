package fsx

import (
	"errors"
	"io"
)

// Background makes Create hand the writing of each new file (its create,
// write and close, the kernel's work) to a goroutine of its own, so that
// the caller goes on to its next change meanwhile: a first apply of many
// small files spends about half its time there, and a second core is
// otherwise idle. Create then returns once the content is read; a write's
// failure is Flush's error, naming the path as Create's would, and the
// writes after it are not made. Everything that depends on the writes
// waits for them: Flush, Abort, Close, and whatever closes a directory
// descriptor they use (Forget, Rmdir). The caller may not look at a file
// it created before the next Flush, as it would not count on it being
// whole before then either. Background(false) waits for the writes and
// stops the goroutine; an error they met is still Flush's.
func (r *Root) Background(on bool) {
	if on && r.bg == nil {
		r.bg = newWriter()
		return
	}
	if !on && r.bg != nil {
		r.bg.wait()
		close(r.bg.todo)
		r.bgErr = errors.Join(r.bgErr, r.bg.err)
		r.bg = nil
	}
}

// wait waits for the background writes: see Background. Their error is
// kept for Flush.
func (r *Root) wait() {
	if r.bg != nil {
		r.bg.wait()
		r.bgErr = errors.Join(r.bgErr, r.bg.err)
		r.bg.err = nil
	}
}

// written waits for the background writes and returns their error, once.
func (r *Root) written() error {
	r.wait()
	err := r.bgErr
	r.bgErr = nil
	return err
}

// The bounds of one hand-over to the writer: a content larger than
// chunkData is written at once by Create itself.
const (
	chunkFiles = 64
	chunkData  = 256 << 10
	chunks     = 4 // handed over or filling: the writer's memory is chunks*chunkData
)

// writer is the goroutine Background starts and what it is handed.
type writer struct {
	todo chan *chunk // to write, in order
	free chan *chunk // written (or skipped), to be filled again
	cur  *chunk      // being filled by Create
	// err is the first write that failed, for Flush; the writer skips
	// what it is handed after it. The writer sets it, and it is read
	// only once every chunk is back.
	err error
}

// chunk is a run of new files: where and what to write.
type chunk struct {
	files []newFile
	data  []byte
}

type newFile struct {
	dfd            int
	name, p        string
	at, end        int // its content in the chunk's data
	mode, uid, gid uint32
}

func newWriter() *writer {
	w := &writer{todo: make(chan *chunk, chunks), free: make(chan *chunk, chunks)}
	for range chunks {
		w.free <- &chunk{files: make([]newFile, 0, chunkFiles), data: make([]byte, 0, chunkData)}
	}
	w.cur = <-w.free
	go w.run()
	return w
}

// run writes the chunks it is handed, in order, until todo is closed.
func (w *writer) run() {
	for c := range w.todo {
		for _, f := range c.files {
			if w.err != nil {
				break
			}
			if err := writeNewBytes(f.dfd, f.name, c.data[f.at:f.end], f.mode, f.uid, f.gid); err != nil {
				w.err = pathErr(opOf(err), f.p, unwrapPath(err))
			}
		}
		c.files, c.data = c.files[:0], c.data[:0]
		w.free <- c
	}
}

// queue reads data into the chunk being filled, for the writer to make
// p (name in the directory dfd). A content that does not fit in a chunk
// is not queued: what was read of it is returned, for Create to write it
// and the rest of data itself.
func (w *writer) queue(dfd int, name, p string, data io.Reader, mode, uid, gid uint32) (head []byte, queued bool, err error) {
	at := len(w.cur.data)
	n, full, err := fill(&w.cur.data, data)
	if full && at > 0 {
		// It may fit in an empty chunk: hand this one over (without
		// it), and read on into the next.
		part := w.cur.data[at:]
		w.cur.data = w.cur.data[:at]
		w.handOver()
		w.cur.data = append(w.cur.data, part...)
		var m int
		m, full, err = fill(&w.cur.data, data)
		n, at = n+m, 0
	}
	c := w.cur
	if err != nil || full {
		// The chunk is not handed over before Create is done with head.
		head, c.data = c.data[at:at+n], c.data[:at]
		return head, false, err
	}
	c.files = append(c.files, newFile{dfd: dfd, name: name, p: p, at: at, end: at + n, mode: mode, uid: uid, gid: gid})
	if len(c.files) == chunkFiles || len(c.data) == cap(c.data) {
		w.handOver()
	}
	return nil, true, nil
}

// fill reads data into the room left in *b until its end, or until
// *b is full (full set, the end maybe not reached).
func fill(b *[]byte, data io.Reader) (n int, full bool, err error) {
	buf := *b
	defer func() { *b = buf }()
	for {
		if len(buf) == cap(buf) {
			return n, true, nil
		}
		m, err := data.Read(buf[len(buf):cap(buf)])
		buf, n = buf[:len(buf)+m], n+m
		if err == io.EOF {
			return n, false, nil
		}
		if err != nil {
			return n, false, err
		}
	}
}

// handOver gives the chunk being filled to the writer and takes a free
// one, waiting for the writer when all are handed over.
func (w *writer) handOver() {
	if len(w.cur.files) == 0 {
		return
	}
	w.todo <- w.cur
	w.cur = <-w.free
}

// wait hands over what is queued and waits until the writer has written
// all of it: until every chunk is back.
func (w *writer) wait() {
	w.handOver()
	var back [chunks - 1]*chunk
	for i := range back {
		back[i] = <-w.free
	}
	for _, c := range back {
		w.free <- c
	}
}
