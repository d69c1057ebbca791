package kind

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"trail/stepfmt"
)

// A plan's view gives back each predicted image as it was given, nil and
// empty attribute lists apart.
func TestPlanViewKeepsImages(t *testing.T) {
	v := NewPlanView(nil)
	imgs := map[string]Image{
		"/a": {State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: "k1"}, {Key: "mode", Value: "0644"}}},
		"/b": {State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: "k2"}, {Key: "mode", Value: "0644"}}},
		"/c": {State: "dir", Attrs: []stepfmt.Attr{{Key: "mode", Value: "0755"}}},
		"/d": {State: "absent"},
		"/e": {State: "dir", Attrs: []stepfmt.Attr{}},
	}
	for p, img := range imgs {
		v.Predict("path", p, img)
	}
	imgs["/a"].Attrs[1].Value = "0600" // the caller's list is not the view's
	imgs["/a"].Attrs[1].Value = "0644"
	for p, want := range imgs {
		got, ok := v.Predicted("path", p)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Predicted(%s) = %#v, %v; want %#v", p, got, ok, want)
		}
		got, err := v.Lookup("path", p, func() (Image, error) { return Image{}, fmt.Errorf("read %s", p) })
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Lookup(%s) = %#v, %v; want %#v", p, got, err, want)
		}
		got.Attrs = append(got.Attrs[:0], stepfmt.Attr{Key: "x", Value: "y"})
	}
	if got, _ := v.Predicted("path", "/b"); got.Attrs[1].Value != "0644" {
		t.Errorf("a changed lookup changed the view: %v", got)
	}
}

// A plan of many added files holds little for each: their images share
// what they have alike (before, each kept a 128-byte attribute list of
// its own besides its entry, about 230 bytes in all).
func TestPlanViewHoldsLittlePerFile(t *testing.T) {
	const n = 20000
	targets := make([]string, n)
	keys := make([]string, n)
	for i := range targets {
		targets[i] = fmt.Sprintf("/srv/d%d/f%d", i%100, i)
		keys[i] = fmt.Sprintf("%064x", i)
	}
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	before := m.HeapAlloc
	v := NewPlanView(nil)
	for i, p := range targets {
		v.Predict("path", p, Image{State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: keys[i]},
			{Key: "mode", Value: "0644"}, {Key: "uid", Value: "0"}, {Key: "gid", Value: "0"}}})
	}
	runtime.GC()
	runtime.ReadMemStats(&m)
	per := (int64(m.HeapAlloc) - int64(before)) / n
	runtime.KeepAlive(v)
	if per > 160 {
		t.Errorf("the view holds %d bytes per predicted file, want at most 160", per)
	}
	t.Logf("%d bytes per predicted file", per)
}

// A path MarkFresh marked stays marked when a later change predicts it
// again, and marks what lies under it as replaced; one without a
// prediction is marked too; its image is given back unchanged.
func TestPlanViewFresh(t *testing.T) {
	v := NewPlanView(nil)
	file := Image{State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: "k1"}, {Key: "mode", Value: "0644"}}}
	v.Predict(pathNS, "/a", Image{State: "dir", Attrs: []stepfmt.Attr{{Key: "mode", Value: "0755"}}})
	v.Predict(pathNS, "/a/b", file)
	v.MarkFresh("/a")
	v.MarkFresh("/x") // no prediction
	v.Predict(pathNS, "/a", Image{State: "dir", Attrs: []stepfmt.Attr{{Key: "mode", Value: "0700"}}})
	v.Predict("user", "/a/b", file) // another namespace's is not a path
	for _, tc := range []struct {
		p    string
		want bool
	}{{"/a", true}, {"/a/b", true}, {"/a/b/c", true}, {"/x", true}, {"/x/y", true}, {"/b", false}, {"/ab", false}} {
		if got := v.Replaced(tc.p); got != tc.want {
			t.Errorf("Replaced(%s) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got, _ := v.Predicted(pathNS, "/a"); got.State != "dir" || len(got.Attrs) != 1 || got.Attrs[0].Value != "0700" {
		t.Errorf("/a predicted as %#v", got)
	}
	if got, _ := v.Predicted(pathNS, "/a/b"); !reflect.DeepEqual(got, file) {
		t.Errorf("/a/b predicted as %#v, want %#v", got, file)
	}
	v.MarkFresh("/a/b")
	if got, _ := v.Predicted(pathNS, "/a/b"); !reflect.DeepEqual(got, file) {
		t.Errorf("/a/b marked fresh predicted as %#v, want %#v", got, file)
	}
	if !v.Replaced("/a/b") || v.fresh["/a/b"] {
		t.Errorf("/a/b marked fresh: replaced %v, in the fallback set %v", v.Replaced("/a/b"), v.fresh["/a/b"])
	}
}

// Predicting an image of a shape the view holds, and marking a predicted
// path fresh once a path of its shape was, allocate nothing but the
// overlay's own entries: a plan of 100,000 files did both for each.
func TestPlanViewKeepsWithoutAllocating(t *testing.T) {
	v := NewPlanView(nil)
	img := func(i int) Image {
		return Image{State: "file", Attrs: []stepfmt.Attr{{Key: "content", Value: fmt.Sprint("k", i)}, {Key: "mode", Value: "0644"}, {Key: "uid", Value: "0"}}}
	}
	const n = 1000
	imgs := make([]Image, n)
	paths := make([]string, n)
	for i := range imgs {
		imgs[i], paths[i] = img(i), fmt.Sprint("/f", i)
	}
	v.Predict("path", "/first", img(-1))
	v.MarkFresh("/first")
	v.Predict("path", "/second", img(-2))
	v.MarkFresh("/second")
	for i := range n { // the map grows to hold them all
		v.Predict("path", paths[i], imgs[i])
	}
	i := 0
	if a := testing.AllocsPerRun(n-1, func() { v.Predict("path", paths[i], imgs[i]); v.MarkFresh(paths[i]); i++ }); a != 0 {
		t.Errorf("Predict and MarkFresh allocate %v times a path, want 0", a)
	}
	for _, p := range []string{"/first", "/f3"} {
		got, ok := v.Predicted("path", p)
		if !ok || !v.isFresh(p) || got.Value("mode") != "0644" || got.Value("content") == "" {
			t.Errorf("%s: predicted %v, fresh %v", p, got, v.isFresh(p))
		}
	}
}

// PredictedState is the state of the predicted image, made or not.
func TestPlanViewPredictedState(t *testing.T) {
	v := NewPlanView(nil)
	v.Predict("path", "/d", Image{State: "dir", Attrs: []stepfmt.Attr{{Key: "mode", Value: "0755"}}})
	v.Predict("path", "/gone", Absent())
	for p, want := range map[string]string{"/d": "dir", "/gone": StateAbsent, "/none": ""} {
		got, ok := v.PredictedState("path", p)
		if got != want || ok != (want != "") {
			t.Errorf("PredictedState(%s) = %q, %v; want %q", p, got, ok, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { v.PredictedState("path", "/d") }); n != 0 {
		t.Errorf("PredictedState allocates %v times, want 0", n)
	}
}
