# admin.sh: what the scenarios do and read on the machine again and
# again, as its admin would: commit the config, ask which commit trail
# applied, a package's dpkg state, a unit's main PID. Sourced after
# scenario.sh; every function runs inside the machine and prints its
# answer.
#
#   git_commit DIR MESSAGE   commits everything in DIR as e2e, prints the commit
#   applied                  the commit trail status reports applied in /srv/config
#   pkg_state NAME           "STATUS VERSION" (install ok installed 1.0), or
#                            absent when dpkg has no record of NAME or only
#                            that of a purged package, which dpkg -l does
#                            not list either
#   pkg_status NAME          the same without the version
#   main_pid UNIT            the unit's main PID (0 when it runs none)

git_commit() {
	run "cd $1 && git add -A && git -c user.name=e2e -c user.email=e2e@localhost commit -q -m '$2' && git rev-parse HEAD"
}

applied() {
	run 'cd /srv/config && trail status --json' | tr -d ' \n' | sed -n 's/.*"applied":{[^}]*"commit":"\([0-9a-f]*\)".*/\1/p'
}

pkg_state() {
	run "s=\$(dpkg-query -W -f '\${Status} \${Version}' $1 2>/dev/null); case \$s in ''|*' not-installed'*) echo absent ;; *) echo \$s ;; esac"
}

pkg_status() {
	run "s=\$(dpkg-query -W -f '\${Status}' $1 2>/dev/null); case \$s in ''|*' not-installed') echo absent ;; *) echo \$s ;; esac"
}

main_pid() {
	run systemctl show -p MainPID --value "$1"
}
