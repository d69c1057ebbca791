package compile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"trail/stepfmt"
)

// The blocks of this file are shorthands: each expands to ordinary FILE
// and CMD steps, as a tree does, and adds no step kind. What each writes
// is documented in docs/language.md.

var (
	// cron reads only files of /etc/cron.d named as run-parts(8) wants.
	cronName      = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	cronField     = regexp.MustCompile(`^[A-Za-z0-9*/,-]+$`)
	cronSpecial   = map[string]bool{"@reboot": true, "@yearly": true, "@annually": true, "@monthly": true, "@weekly": true, "@daily": true, "@midnight": true, "@hourly": true}
	sysctlKey     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	kernelModName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// cronPath is the PATH of Debian's /etc/crontab, which a cron.d file does
// not inherit.
const cronPath = "/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin"

// expandCron writes one cron job as /etc/cron.d/NAME (root, 0644, as cron
// insists): SHELL and PATH, the environment, then the job line. A % in the
// command is escaped, so that it reaches the shell as a %.
func expandCron(r *resource) {
	name, nrng := r.target()
	if !cronName.MatchString(name) {
		r.diag(errorf(&nrng, "Invalid cron name",
			"cron %q: cron reads only files of /etc/cron.d named with letters, digits, _ and - (no dot); name the job with those, such as \"backup-db\".", name))
		return
	}
	sched, srng, ok := r.str("schedule")
	if !ok {
		return
	}
	fields := strings.Fields(sched)
	switch {
	case len(fields) == 1 && cronSpecial[fields[0]]:
	case len(fields) == 5:
		for _, f := range fields {
			if !cronField.MatchString(f) {
				r.diag(errorf(&srng, "Invalid schedule", "%q is not a cron field: fields use digits, names, * / , and -.", f))
				return
			}
		}
	default:
		r.diag(errorf(&srng, "Invalid schedule",
			"schedule %q: want five fields (minute hour day-of-month month day-of-week, such as \"30 2 * * *\") or one of @reboot @hourly @daily @weekly @monthly @yearly.", sched))
		return
	}
	command, crng, ok := r.str("command")
	if !ok {
		return
	}
	if strings.TrimSpace(command) == "" || strings.ContainsAny(command, "\n\r") {
		r.diag(errorf(&crng, "Invalid command", "A cron command is one non-empty line; put a longer script in a file and run that."))
		return
	}
	user := "root"
	if u, urng, ok := r.str("user"); ok {
		if u == "" || strings.ContainsAny(u, " \t\n") {
			r.diag(errorf(&urng, "Invalid user", "user %q: a user name, without blanks.", u))
			return
		}
		user = u
	}
	env := map[string]string{"SHELL": "/bin/sh", "PATH": cronPath}
	if a, ok := r.attrs["environment"]; ok {
		v, diags := r.evalAttr(a)
		r.sc.c.diags = append(r.sc.c.diags, diags...)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return
		}
		if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
			r.diag(errorf(a.Expr.Range().Ptr(), "Invalid environment", "environment takes an object, such as { MAILTO = \"ops@example.org\" }."))
			return
		}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			s, ok := primitiveString(e)
			if !ok || !hclsyntax.ValidIdentifier(k.AsString()) || strings.Contains(k.AsString(), "-") || strings.ContainsAny(s, "\n\r") {
				r.diag(errorf(a.Expr.Range().Ptr(), "Invalid environment",
					"%s: environment names are letters, digits and _, and values one line of text.", k.AsString()))
				return
			}
			env[k.AsString()] = s
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# cron %q, written by trail\n", name)
	fmt.Fprintf(&b, "SHELL=%s\nPATH=%s\n", env["SHELL"], env["PATH"])
	var keys []string
	for k := range env {
		if k != "SHELL" && k != "PATH" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	fmt.Fprintf(&b, "%s %s %s\n", strings.Join(fields, " "), user, strings.ReplaceAll(command, "%", `\%`))
	r.rootFile("/etc/cron.d/"+name, nrng, b.String())
}

// expandSysctl sets a kernel parameter now and at every boot: a CMD that
// sets it in the running kernel (sysctl -w), then
// /etc/sysctl.d/99-trail-KEY.conf, which systemd-sysctl reads at boot.
// The command comes first so that, when the block goes, the file is gone
// before its undo, which puts back the value it saved (in /run, so for
// the current boot), or else applies what is left in sysctl.d
// (sysctl --system). A running kernel belongs to "/" only: under any other
// root the command says so and changes nothing.
func expandSysctl(r *resource) {
	key, krng := r.target()
	if !sysctlKey.MatchString(key) || strings.Contains(key, "..") {
		r.diag(errorf(&krng, "Invalid sysctl key",
			"sysctl %q: a key is dotted words of letters, digits, _ and -, such as \"net.ipv4.ip_forward\".", key))
		return
	}
	value, vrng, ok := r.str("value")
	if !ok {
		return
	}
	if strings.ContainsAny(value, "\n\r") || strings.TrimSpace(value) == "" {
		r.diag(errorf(&vrng, "Invalid value", "A sysctl value is one non-empty line, such as \"1\" or \"32768 60999\"."))
		return
	}
	value = strings.Join(strings.Fields(value), " ")
	saved := "/run/trail/sysctl/" + key
	run := onlyRealRoot("sysctl "+key+" is set in the config only") +
		fmt.Sprintf("mkdir -p /run/trail/sysctl && { [ -e %[1]s ] || { v=$(sysctl -n %[2]s) && printf '%%s\\n' \"$v\" > %[1]s; }; } && sysctl -w %[3]s",
			saved, key, shQuote(key+"="+value))
	undo := onlyRealRoot("") +
		fmt.Sprintf("if [ -e %[1]s ]; then sysctl -w \"%[2]s=$(cat %[1]s)\" && rm -f %[1]s; else sysctl -q --system || echo 'sysctl --system did not set every key'; fi", saved, key)
	r.command("sysctl:"+key, krng, run, undo)
	r.rootFile("/etc/sysctl.d/99-trail-"+key+".conf", krng, key+" = "+value+"\n")
}

// expandKernelModule loads a module at every boot, from
// /etc/modules-load.d/NAME.conf (with options, /etc/modprobe.d/NAME.conf
// first), and now: a CMD that loads it with modprobe unless it is loaded
// (or built in) already, or the system may not load modules
// (CAP_SYS_MODULE, which a container lacks: systemd-modules-load skips
// it there too). Its undo unloads only what it loaded, this boot (a mark
// in /run), and leaves a module in use loaded, saying so. As with sysctl,
// only "/" has a running kernel.
func expandKernelModule(r *resource) {
	name, nrng := r.target()
	if !kernelModName.MatchString(name) {
		r.diag(errorf(&nrng, "Invalid module name",
			"kernel_module %q: a module name is letters, digits, _ and -, such as \"br_netfilter\".", name))
		return
	}
	if opts, orng, ok := r.str("options"); ok {
		opts = strings.Join(strings.Fields(opts), " ")
		if opts == "" {
			r.diag(errorf(&orng, "Invalid options", "options are the module's parameters, such as \"hashsize=65536\"; leave options out for none."))
			return
		}
		r.rootFile("/etc/modprobe.d/"+name+".conf", nrng, "options "+name+" "+opts+"\n")
	}
	r.rootFile("/etc/modules-load.d/"+name+".conf", nrng, name+"\n")
	mark := "/run/trail/modules/" + name
	sys := "/sys/module/" + strings.ReplaceAll(name, "-", "_")
	run := onlyRealRoot("module "+name+" is loaded at boot only") +
		fmt.Sprintf("[ -d %s ] && exit 0; ", sys) +
		fmt.Sprintf(`if [ $((0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 16 & 1)) = 0 ]; then echo %s; exit 0; fi; `,
			shQuote("module "+name+" is not loaded: this system may not load modules (a container)")) +
		fmt.Sprintf("modprobe %s && mkdir -p /run/trail/modules && touch %s", name, mark)
	undo := onlyRealRoot("") +
		fmt.Sprintf("if [ -e %[1]s ]; then modprobe -r %[2]s || echo \"%[2]s stays loaded: it is in use\"; rm -f %[1]s; fi", mark, name)
	r.command("modprobe:"+name, nrng, run, undo)
}

// onlyRealRoot starts a script that runs only when the root is "/": a
// sandbox or image root has no running kernel of its own. what, when not
// empty, is said (into the journal) when it does not run.
func onlyRealRoot(what string) string {
	say := ""
	if what != "" {
		say = fmt.Sprintf("echo %s; ", shQuote(what+": the root is not /"))
	}
	return fmt.Sprintf(`if [ "$TRAIL_ROOT" != / ]; then %sexit 0; fi; `, say)
}

// shQuote quotes s for /bin/sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// rootFile adds a FILE step of content, root-owned and world-readable.
func (r *resource) rootFile(p string, rng hcl.Range, content string) {
	st := r.newStep(stepfmt.KindFile, p, rng)
	aptFileAttrs(st, r.sc.c.blob([]byte(content)))
	r.add(st, "")
}

// command adds a CMD step.
func (r *resource) command(name string, rng hcl.Range, run, undo string) {
	st := r.newStep(stepfmt.KindCommand, name, rng)
	st.Set("run", run)
	st.Set("undo", undo)
	st.Set("timeout", "1m0s")
	r.add(st, "")
}
