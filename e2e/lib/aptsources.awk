# aptsources.awk: prints "URI<TAB>SUITE" for every enabled binary ("deb")
# source in apt source files. Files ending in .sources are read as deb822
# stanzas, every other file as one-line sources.list entries. Malformed
# lines are skipped: this only looks for a mirror, apt itself validates.
# Written for POSIX awk (Debian's default is mawk).

function reset() {
	types = ""; uris = ""; suites = ""; enabled = ""; field = ""
}

function flush(   nt, nu, ns, t, u, s, tl, ul, sl, isdeb) {
	nt = split(types, tl, /[ \t]+/)
	isdeb = 0
	for (t = 1; t <= nt; t++)
		if (tl[t] == "deb")
			isdeb = 1
	if (isdeb && tolower(enabled) != "no") {
		nu = split(uris, ul, /[ \t]+/)
		ns = split(suites, sl, /[ \t]+/)
		for (u = 1; u <= nu; u++)
			for (s = 1; s <= ns; s++)
				if (ul[u] != "" && sl[s] != "")
					printf "%s\t%s\n", ul[u], sl[s]
	}
	reset()
}

# words splits line into w[1..n] as apt does: whitespace separates words,
# except inside [ ] or " ", so "[arch=amd64 trusted=yes]" and
# "cdrom:[Debian GNU/Linux 12]/" are one word each.
function words(line, w,   n, i, c, cur, inb, inq) {
	n = 0; cur = ""; inb = 0; inq = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (!inb && !inq && (c == " " || c == "\t")) {
			if (cur != "")
				w[++n] = cur
			cur = ""
			continue
		}
		if (c == "[" && !inq) inb = 1
		else if (c == "]" && !inq) inb = 0
		else if (c == "\"" && !inb) inq = !inq
		cur = cur c
	}
	if (cur != "")
		w[++n] = cur
	return n
}

function oneline(line,   n, w, i) {
	sub(/#.*/, "", line)
	n = words(line, w)
	if (n < 1 || w[1] != "deb")
		return
	i = 2
	if (substr(w[i], 1, 1) == "[")
		i++
	# A tab inside [ ] would break the output's two columns; no mirror
	# URI holds one.
	if (i + 1 > n || w[i] ~ /\t/)
		return
	printf "%s\t%s\n", w[i], w[i + 1]
}

function deb822(line,   name, rest) {
	if (line ~ /^#/)
		return
	if (line ~ /^[ \t]*$/) {
		flush()
		return
	}
	if (line ~ /^[ \t]/) {
		if (field == "types") types = types " " line
		else if (field == "uris") uris = uris " " line
		else if (field == "suites") suites = suites " " line
		else if (field == "enabled") enabled = enabled line
		return
	}
	if (line !~ /^[A-Za-z0-9-]+:/) {
		field = ""
		return
	}
	name = tolower(substr(line, 1, index(line, ":") - 1))
	rest = substr(line, index(line, ":") + 1)
	gsub(/^[ \t]+|[ \t]+$/, "", rest)
	field = name
	if (name == "types") types = rest
	else if (name == "uris") uris = rest
	else if (name == "suites") suites = rest
	else if (name == "enabled") enabled = rest
}

FNR == 1 {
	if (prev ~ /\.sources$/)
		flush()
	reset()
	prev = FILENAME
}

{
	sub(/\r$/, "")
	if (FILENAME ~ /\.sources$/)
		deb822($0)
	else
		oneline($0)
}

END {
	if (prev ~ /\.sources$/)
		flush()
}
