package compile

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions is the function table of the language: go-cty's stdlib under
// the names people know from Terraform, HCL's try and can, and the few
// that stdlib lacks (encodings, hashes, string tests and repository
// access). Repository functions read the commit being compiled.
func (c *compiler) functions() map[string]function.Function {
	f := map[string]function.Function{
		// numbers
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"log": stdlib.LogFunc, "max": stdlib.MaxFunc, "min": stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc, "signum": stdlib.SignumFunc,
		// strings
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "regexreplace": stdlib.RegexReplaceFunc,
		"replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc,
		"strlen": stdlib.StrlenFunc, "substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc,
		"trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "upper": stdlib.UpperFunc,
		"startswith": stringTest(strings.HasPrefix), "endswith": stringTest(strings.HasSuffix),
		"strcontains": stringTest(strings.Contains),
		// collections
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "keys": stdlib.KeysFunc,
		"length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc, "merge": stdlib.MergeFunc,
		"range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc,
		"zipmap": stdlib.ZipmapFunc,
		// encodings and hashes
		"base64encode": base64EncodeFunc, "base64decode": base64DecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "md5": hashFunc(md5.New), "sha1": hashFunc(sha1.New),
		"sha256": hashFunc(sha256.New), "sha512": hashFunc(sha512.New),
		// types
		"tobool": stdlib.MakeToFunc(cty.Bool), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)), "tonumber": stdlib.MakeToFunc(cty.Number),
		"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "tostring": stdlib.MakeToFunc(cty.String),
		"try": tryfunc.TryFunc, "can": tryfunc.CanFunc,
		// dates (formatting only: nothing reads the clock, so compiles repeat)
		"formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		// paths
		"basename": pathFunc(path.Base), "dirname": pathFunc(path.Dir),
		// versions
		"debvercmp": versionCmpFunc(debVerCmp), "semvercmp": versionCmpFunc(semVerCmp),
	}
	f["file"] = c.fileFunc()
	f["fileexists"] = c.fileExistsFunc()
	f["fileset"] = c.fileSetFunc()
	f["templatefile"] = c.templateFileFunc()
	f["include"] = c.includeFunc()
	return f
}

func stringTest(test func(s, sub string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "substr", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

func stringFunc(impl func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s, err := impl(args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), err
			}
			return cty.StringVal(s), nil
		},
	})
}

var base64EncodeFunc = stringFunc(func(s string) (string, error) {
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
})

var base64DecodeFunc = stringFunc(func(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("not valid base64: %w", err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("the decoded bytes are not UTF-8 text; use a file with source = for binary content")
	}
	return string(b), nil
})

func hashFunc(h func() hash.Hash) function.Function {
	return stringFunc(func(s string) (string, error) {
		sum := h()
		sum.Write([]byte(s))
		return hex.EncodeToString(sum.Sum(nil)), nil
	})
}

func pathFunc(fn func(string) string) function.Function {
	return stringFunc(func(s string) (string, error) { return fn(s), nil })
}

// repoArg checks a repository path argument.
func repoArg(v cty.Value) (string, error) {
	return repoPath(v.AsString())
}

// fileFunc is file(path): a repository file's content as text.
func (c *compiler) fileFunc() function.Function {
	return stringFunc(func(s string) (string, error) {
		p, err := repoPath(s)
		if err != nil {
			return "", err
		}
		data, err := c.readRepoFile(p)
		if err != nil {
			return "", err
		}
		if !utf8.Valid(data) {
			return "", fmt.Errorf("%s is not UTF-8 text; give binary files to a file block with source = %q", p, p)
		}
		return string(data), nil
	})
}

// fileExistsFunc is fileexists(path): whether a repository file exists.
func (c *compiler) fileExistsFunc() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, err := repoArg(args[0])
			if err != nil {
				return cty.UnknownVal(cty.Bool), err
			}
			info, err := fs.Stat(c.fsys, p)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				// A link out of the repository is not "no such file".
				return cty.UnknownVal(cty.Bool), fmt.Errorf("%s: %s", p, errText(err))
			}
			return cty.BoolVal(err == nil && !info.IsDir()), nil
		},
	})
}

// fileSetFunc is fileset(dir, pattern): the files under a repository
// directory matching a glob (with **), relative to dir, as a set.
func (c *compiler) fileSetFunc() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "dir", Type: cty.String}, {Name: "pattern", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			dir, err := repoArg(args[0])
			if err != nil {
				return cty.UnknownVal(cty.Set(cty.String)), err
			}
			g, err := compileGlob("/" + strings.TrimPrefix(args[1].AsString(), "/"))
			if err != nil {
				return cty.UnknownVal(cty.Set(cty.String)), err
			}
			var out []string
			err = fs.WalkDir(c.fsys, dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() || p == dir {
					return nil
				}
				rel := p
				if dir != "." {
					rel = p[len(dir)+1:]
				}
				if g.match(rel) {
					out = append(out, rel)
				}
				return nil
			})
			if err != nil {
				return cty.UnknownVal(cty.Set(cty.String)), fmt.Errorf("fileset %s: %s", dir, errText(err))
			}
			if len(out) == 0 {
				return cty.SetValEmpty(cty.String), nil
			}
			sort.Strings(out)
			vals := make([]cty.Value, len(out))
			for i, s := range out {
				vals[i] = cty.StringVal(s)
			}
			return cty.SetVal(vals), nil
		},
	})
}

// templateFileFunc is templatefile(path, vars): a template rendered with
// vars (and host).
func (c *compiler) templateFileFunc() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType, AllowNull: true},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, err := repoArg(args[0])
			if err != nil {
				return cty.UnknownVal(cty.String), err
			}
			return c.renderNested(p, args[1])
		},
	})
}
