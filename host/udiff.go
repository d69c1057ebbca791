package host

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// maxDiffCells bounds the line-matching table of the part of two files
// that differs (after their common start and end are set aside): past it,
// the part is shown as removed then added, which is still a correct diff.
const maxDiffCells = 1 << 20

type editOp byte

const (
	opEqual editOp = ' '
	opDel   editOp = '-'
	opIns   editOp = '+'
)

type edit struct {
	op   editOp
	a, b int // line index in old (a) and new (b) the edit is at
}

// splitLines splits text into lines, each keeping its newline; a last
// line without one is marked as git marks it.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] += "\n\\ No newline at end of file\n"
	}
	return lines
}

// edits returns an edit script from a to b: the longest common subsequence
// of the differing middle, by dynamic programming within maxDiffCells.
func edits(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for i := 0; i < pre; i++ {
		out = append(out, edit{opEqual, i, i})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(ma), len(mb)
	if n*m > maxDiffCells {
		for i := range ma {
			out = append(out, edit{opDel, pre + i, pre})
		}
		for j := range mb {
			out = append(out, edit{opIns, pre + n, pre + j})
		}
	} else {
		// lcs[i][j]: the common subsequence length of ma[i:] and mb[j:].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				out = append(out, edit{opEqual, pre + i, pre + j})
				i, j = i+1, j+1
			case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
				// Removals before additions, as diff -u shows them.
				out = append(out, edit{opDel, pre + i, pre + j})
				i++
			default:
				out = append(out, edit{opIns, pre + i, pre + j})
				j++
			}
		}
	}
	for k := 0; k < suf; k++ {
		out = append(out, edit{opEqual, len(a) - suf + k, len(b) - suf + k})
	}
	return out
}

// unifiedDiff renders the change from old to new as diff -u does, without
// the file header; "" when they are equal.
func unifiedDiff(old, new string) string {
	a, b := splitLines(old), splitLines(new)
	es := edits(a, b)
	var sb strings.Builder
	for k := 0; k < len(es); {
		if es[k].op == opEqual {
			k++
			continue
		}
		// A hunk: from diffContext lines before this change to
		// diffContext lines after the last change within reach.
		start := max(k-diffContext, 0)
		end := k
		for end < len(es) {
			if es[end].op != opEqual {
				end++
				continue
			}
			run := end
			for run < len(es) && es[run].op == opEqual {
				run++
			}
			if run == len(es) || run-end > 2*diffContext {
				end = min(end+diffContext, len(es))
				break
			}
			end = run
		}
		var an, bn int
		for _, e := range es[start:end] {
			if e.op != opIns {
				an++
			}
			if e.op != opDel {
				bn++
			}
		}
		as, bs := es[start].a+1, es[start].b+1
		if an == 0 {
			as--
		}
		if bn == 0 {
			bs--
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(as, an), hunkRange(bs, bn))
		for _, e := range es[start:end] {
			line := ""
			switch e.op {
			case opDel:
				line = a[e.a]
			default:
				line = b[e.b]
			}
			sb.WriteByte(byte(e.op))
			sb.WriteString(line)
		}
		k = end
	}
	return sb.String()
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
