package packages

// Closure and Closures let the tests outside the package compare the
// closure of each name, asked alone, with those of one call.
func (t Tools) Closure(name string, recommends bool) ([]string, error) {
	return t.closure(name, recommends)
}

func (t Tools) Closures(names []string, recommends bool) (map[string][]string, error) {
	return t.closures(names, recommends)
}

// Archives is archives for installing refs without recommends.
func (t Tools) Archives(refs ...string) ([]string, error) {
	return t.archives(installArgs(refs, false))
}
