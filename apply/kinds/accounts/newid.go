package accounts

// idSet is the ids of an account file, with the lowest and highest of
// each range asked, kept as ids are added (a batch of thousands of users
// asks thousands of times).
type idSet struct {
	used  map[uint64]int
	spans map[[2]uint64]*span
}

// span is the lowest and highest id in use in a range.
type span struct {
	min, max uint64
	any      bool
}

func (sp *span) add(r [2]uint64, id uint64) {
	if id < r[0] || id > r[1] {
		return
	}
	if !sp.any || id < sp.min {
		sp.min = id
	}
	if !sp.any || id > sp.max {
		sp.max = id
	}
	sp.any = true
}

// idSet returns the file's ids; a removed entry drops the spans, which
// are then found again.
func (nf *nfile) idSet() *idSet {
	if nf.spans == nil {
		nf.spans = map[[2]uint64]*span{}
	}
	return &idSet{used: nf.ids, spans: nf.spans}
}

// spanOf returns the span of range [lo, hi].
func (s *idSet) spanOf(lo, hi uint64) span {
	r := [2]uint64{lo, hi}
	if sp, ok := s.spans[r]; ok {
		return *sp
	}
	sp := &span{}
	for id, n := range s.used {
		if n > 0 {
			sp.add(r, id)
		}
	}
	if s.spans != nil {
		s.spans[r] = sp
	}
	return *sp
}

// newID chooses a new uid or gid (kind "UID" or "GID") among ids as
// find_new_uid and find_new_gid do: preferred when free and in range; else
// for a system account the highest free id below the lowest one used in
// the range, for another account the lowest free id above the highest one
// used, each search wrapping around the range once.
func newID(d *toolDefs, kind string, ids *idSet, system bool, preferred *uint64) (uint64, bool) {
	lo, hi, prefMin := d.idRange(kind, system)
	if hi < lo {
		return 0, false
	}
	used := func(id uint64) bool { return ids.used[id] > 0 }
	if preferred != nil && *preferred >= prefMin && *preferred <= hi && !used(*preferred) {
		return *preferred, true
	}
	free := func(id uint64) bool { return id >= lo && id <= hi && !used(id) }
	sp := ids.spanOf(lo, hi)
	if system {
		start := hi
		if sp.any {
			start = sp.min - 1
		}
		if start < lo {
			start = hi
		}
		for id := start; id >= lo && id <= start; id-- {
			if free(id) {
				return id, true
			}
		}
		if start != hi {
			for id := hi; id >= lo && id <= hi; id-- {
				if free(id) {
					return id, true
				}
			}
		}
		return 0, false
	}
	start := lo
	if sp.any {
		start = sp.max + 1
	}
	if start > hi {
		start = lo
	}
	for id := start; id <= hi; id++ {
		if free(id) {
			return id, true
		}
	}
	if start != lo {
		for id := lo; id <= hi; id++ {
			if free(id) {
				return id, true
			}
		}
	}
	return 0, false
}
