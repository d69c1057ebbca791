package fsx

import (
	"errors"
	"io"
)

// Background makes Create hand the writing of each new file (its create,
// write and close, the kernel's work) to goroutines of their own, so that
// the caller goes on to its next change meanwhile: a first apply of many
// small files spends more than half its time there, and a second core is
// otherwise idle. Create then returns once the content is read; a write's
// failure is Flush's error, naming the path as Create's would, and the
// writes queued after it in the same directory are not made. Everything
// that depends on the writes waits for them: Flush, Abort, Close, and
// whatever closes a directory descriptor they use (Forget, Rmdir), and
// Settle, before a program that may read them. The
// caller may not look at a file it created before the next Flush, as it
// would not count on it being whole before then either. Background(false)
// waits for the writes and stops the goroutines; an error they met is
// still Flush's.
func (r *Root) Background(on bool) {
	if on && r.bg == nil {
		r.bg = newWriter()
		return
	}
	if !on && r.bg != nil {
		r.wait()
		r.bg.stop()
		r.bg = nil
	}
}

// wait waits for the background writes: see Background. Their error is
// kept for Flush, the stats of the files they wrote for CreatedStat.
func (r *Root) wait() {
	if r.bg != nil {
		r.bg.wait()
		r.bgErr = errors.Join(r.bgErr, r.bg.err())
		for i := range r.bg.done {
			for _, d := range r.bg.done[i] {
				r.keepStat(d.p, d.st)
			}
			clear(r.bg.done[i])
			r.bg.done[i] = r.bg.done[i][:0]
		}
	}
}

// Settle waits for the background writes, so that a program the caller
// runs next (a validate command reading a file the batch created) finds
// them whole at their names; their error is still Flush's.
func (r *Root) Settle() { r.wait() }

// written waits for the background writes and returns their error, once.
func (r *Root) written() error {
	r.wait()
	err := r.bgErr
	r.bgErr = nil
	return err
}

// The bounds of one hand-over to a writer: a content larger than
// chunkData is written at once by Create itself.
const (
	chunkFiles = 64
	chunkData  = 64 << 10
	chunks     = 8 // handed over or filling: the writers' memory is chunks*chunkData
	lanes      = 2
)

// writer is what Background starts: two goroutines (lanes), each handed
// the files of every other directory in turn, so that the two do not
// wait for each other's lock on one directory. A machine of two cores
// runs both and the caller: the caller's work per file is about half a
// writer's.
type writer struct {
	lanes [lanes]chan *chunk // to write, in order
	free  chan *chunk        // written (or skipped), to be filled again
	cur   *chunk             // being filled by Create, for lanes[lane]
	lane  int
	dfd   int // the directory of the files of cur
	// errs holds each lane's first failed write, for Flush; a lane skips
	// what it is handed after it. Each lane sets its own, read only once
	// every chunk is back.
	errs [lanes]error
	// done holds each lane's files written, with their stats, read as
	// errs is.
	done [lanes][]written
}

// written is a file a lane wrote and its stat once written.
type written struct {
	p  string
	st Stat
}

// chunk is a run of new files in one directory: where and what to write.
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
	w := &writer{free: make(chan *chunk, chunks), dfd: -1}
	for range chunks {
		w.free <- &chunk{files: make([]newFile, 0, chunkFiles), data: make([]byte, 0, chunkData)}
	}
	w.cur = <-w.free
	for i := range w.lanes {
		w.lanes[i] = make(chan *chunk, chunks)
		go w.run(w.lanes[i], &w.errs[i], &w.done[i])
	}
	return w
}

// stop ends the lanes, once they are waited for.
func (w *writer) stop() {
	for _, l := range w.lanes {
		close(l)
	}
}

// err returns the lanes' errors and forgets them; only once waited for.
func (w *writer) err() error {
	err := errors.Join(w.errs[:]...)
	clear(w.errs[:])
	return err
}

// run writes the chunks of one lane, in order, until it is closed.
func (w *writer) run(lane chan *chunk, failed *error, done *[]written) {
	for c := range lane {
		for _, f := range c.files {
			if *failed != nil {
				break
			}
			st, err := writeNewBytes(f.dfd, f.name, c.data[f.at:f.end], f.mode, f.uid, f.gid)
			if err != nil {
				*failed = pathErr(opOf(err), f.p, unwrapPath(err))
				break
			}
			*done = append(*done, written{f.p, st})
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
	if dfd != w.dfd {
		w.handOver()
		w.lane, w.dfd = (w.lane+1)%lanes, dfd
	}
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
	w.lanes[w.lane] <- w.cur
	w.cur = <-w.free
}

// wait hands over what is queued and waits until the writer has written
// all of it: until every chunk is back.
func (w *writer) wait() {
	w.handOver()
	var back [chunks - 1]*chunk // all but cur
	for i := range back {
		back[i] = <-w.free
	}
	for _, c := range back {
		w.free <- c
	}
}
