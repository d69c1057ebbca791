package examples

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"

	"trail/compile"
	"trail/stepfmt"
)

// The sha256 of the files dev-sec's ssh_hardening role renders
// (ansible-collection-hardening at c3822fca2d101ab93a40a614d9618f69fbbb52e9,
// roles/ssh_hardening/templates) for OpenSSH 9.2 on Debian 12, rendered
// with Jinja2 as Ansible's template module renders (the templates'
// "#jinja2:" overrides, trim_blocks otherwise, Ansible's comment filter,
// bool filter and version test, its trailing-newline rule), from the
// role's defaults/main.yml, vars/Debian.yml, the lists its crypto tasks set
// for that version, ansible_managed "Ansible managed" and ansible_role_name
// "devsec.hardening.ssh_hardening" (examples/ssh_hardening/README.md).
var sshRoleDefaults = map[string]string{
	"/etc/ssh/sshd_config":  "8c309f3410eafb3401d165cae2e2c1c55b94fa287eba32bfc6bb4009e2125bce",
	"/etc/ssh/ssh_config":   "22354cd97483ac582693a4383e3ad963129fb01540ecbed1e32a30dffd5bd6b9",
	"/etc/ssh/revoked_keys": "ced29d4808fa1cb542a5973575a61ee3cbaf48f0827681f58b3d8e23d47f4450",
}

// sshRoleVars is a second set of the role's variables, one that takes
// every branch the defaults leave out (custom options, several ports and
// addresses, certificates, empty crypto lists, user and group lists, CA
// keys, match blocks, remote hosts, revoked keys, a multi-line
// ansible_managed), and the sha256 the role renders for it, as above.
var sshRoleVars = map[string]string{
	"sshd_custom_options":            `["Include /etc/ssh/sshd_config.d/*.conf", "X11DisplayOffset 10"]`,
	"ssh_custom_options":             `["Include /etc/ssh/ssh_config.d/*.conf"]`,
	"ssh_server_ports":               `["22", "2222"]`,
	"ssh_listen_to":                  `["0.0.0.0", "::"]`,
	"ssh_host_certificates":          `["/etc/ssh/ssh_host_ed25519_key-cert.pub"]`,
	"ssh_host_key_algorithms":        `["ssh-ed25519", "rsa-sha2-512"]`,
	"ssh_client_host_key_algorithms": `["ssh-ed25519"]`,
	"network_ipv6_enable":            "false",
	"ssh_ciphers":                    "[]",
	"ssh_macs":                       "[]",
	"ssh_kex":                        "[]",
	"ssh_deny_users":                 "bob eve",
	"ssh_allow_users":                "alice",
	"ssh_deny_groups":                "nossh",
	"ssh_allow_groups":               "sshusers",
	"ssh_authorized_keys_file":       ".ssh/authorized_keys",
	"ssh_trusted_user_ca_keys_file":  "/etc/ssh/ca.pub",
	"ssh_authorized_principals_file": "/etc/ssh/auth_principals/%u",
	"ssh_trusted_user_ca_keys":       `["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICA ca@example", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB ca2@example"]`,
	"ssh_authorized_principals":      `[{path = "/etc/ssh/auth_principals/alice", principals = ["alice", "admins"]}]`,
	"ssh_allow_tcp_forwarding":       "local",
	"ssh_gateway_ports":              "clientspecified",
	"ssh_server_accept_env_vars":     "LANG LC_*",
	"ssh_banner":                     "true",
	"ssh_print_debian_banner":        "true",
	"sftp_chroot":                    "false",
	"ssh_use_pam":                    "false",
	"ssh_kerberos_support":           "false",
	"ssh_server_match_user":          `[{user = "backup", rules = ["AllowTcpForwarding yes", "ForceCommand /usr/bin/rsync"]}]`,
	"ssh_server_match_address":       `[{address = "10.0.0.0/8", rules = ["PasswordAuthentication yes"]}, {address = "192.168.0.0/16", rules = ["MaxAuthTries 4"]}]`,
	"ssh_server_match_local_port":    `[{port = "2222", rules = ["AllowUsers git"]}]`,
	"ssh_remote_hosts":               `[{names = ["example.com", "example2.com"], options = ["Port 2222", "ForwardAgent yes"]}, {names = ["gw"], options = ["User jump"]}]`,
	"ssh_server_revoked_keys":        `["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2 old@laptop", "ssh-rsa AAAAB3Nza lost@phone"]`,
	"ansible_managed":                "Managed by trail\n\nDo not edit",
}

var sshRoleVarsRendered = map[string]string{
	"/etc/ssh/sshd_config":           "941351ecd9286b28d4a179bcb827c04720472973da05bf8550abc6e6594316eb",
	"/etc/ssh/ssh_config":            "4d19a08276a1879a91cbf9308c6ccb02442f0f6af8c5d2f45f37b509409f6f53",
	"/etc/ssh/revoked_keys":          "13de1a58987ca352071f9172f2e045a034ea05b0b66b16233b25caef86e374a3",
	"/etc/ssh/ca.pub":                "020aad2d6f36f1c73d56cec78e662e617829b73c85c146c88f46e10fe3322c96",
	"/etc/ssh/auth_principals/alice": "741bbfdeaa0500d6ae44898912590d173d4152e9524082c67872c7e9f4b6ce56",
}

// bookworm is a Debian 12 host without OpenSSH yet.
var bookworm = compile.Facts{Hostname: "bastion", FQDN: "bastion", DebianCodename: "bookworm", Packages: map[string]string{}}

func compileSSH(t *testing.T, facts compile.Facts, vars map[string]string) *compile.Result {
	t.Helper()
	res, diags := compile.Compile(os.DirFS("ssh_hardening"), facts, compile.Options{Vars: vars})
	if diags.HasErrors() {
		t.Fatalf("examples/ssh_hardening does not compile: %s", diags.Error())
	}
	return res
}

// checkRendered holds the files of res to the sha256 the role renders.
func checkRendered(t *testing.T, res *compile.Result, want map[string]string) {
	t.Helper()
	seen := 0
	for _, s := range res.List.Steps {
		w, ok := want[s.Target]
		if s.Kind != stepfmt.KindFile || !ok {
			continue
		}
		seen++
		data := res.Blobs[s.Value("content")]
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != w {
			t.Errorf("%s renders to sha256 %s, the role's is %s:\n%s", s.Target, got, w, data)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the role's %d files are written", seen, len(want))
	}
}

// TestSSHHardeningExample compiles examples/ssh_hardening, which the e2e
// scenario ssh_hardening deploys: sshd_config, ssh_config and
// revoked_keys byte for byte as the role renders them, for its defaults
// and for a set of variables that takes the other branches; the packages
// before what they ship, the commands and files before the service that
// restarts when they change, the check last.
func TestSSHHardeningExample(t *testing.T) {
	res := compileSSH(t, bookworm, nil)
	checkRendered(t, res, sshRoleDefaults)
	vres := compileSSH(t, bookworm, sshRoleVars)
	checkRendered(t, vres, sshRoleVarsRendered)
	vsteps := map[string]*stepfmt.Step{}
	for _, s := range vres.List.Steps {
		vsteps[s.Target] = s
	}
	if d := vsteps["/etc/ssh/auth_principals"]; d == nil || d.Kind != stepfmt.KindDir || d.Value("mode") != "0700" {
		t.Errorf("the principals' directory is %v, want DIR mode=0700 as the role makes it", d)
	}
	if v := vsteps["ssh.service"].Value("restart-on"); !strings.Contains(v, "/etc/ssh/ca.pub") {
		t.Errorf("sshd does not restart for its CA keys: %s", v)
	}

	var got []string
	for _, s := range res.List.Steps {
		got = append(got, string(s.Kind)+" "+s.Target)
	}
	want := []string{
		"PKG openssh-server",
		"PKG openssh-client",
		"UNIT ssh.socket",
		"FILE /etc/systemd/system/sockets.target.wants/ssh.socket",
		"FILE /etc/systemd/system/ssh.service.requires/ssh.socket",
		"DIR /run/sshd",
		"CMD rsa_hostkey",
		"ATTRS /etc/ssh/ssh_host_ecdsa_key",
		"ATTRS /etc/ssh/ssh_host_ed25519_key",
		"ATTRS /etc/ssh/ssh_host_rsa_key",
		"CMD moduli",
		"FILE /etc/ssh/revoked_keys",
		"FILE /etc/ssh/sshd_config",
		"EDIT /etc/pam.d/sshd",
		"FILE /etc/ssh/ssh_config",
		"UNIT ssh.service",
		"FILE /etc/systemd/system/ssh.service.d/00-socket.conf",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	byTarget := map[string]*stepfmt.Step{}
	for _, s := range res.List.Steps {
		byTarget[s.Target] = s
	}
	if v := byTarget["ssh.service"].Value("restart-on"); v != "/etc/ssh/revoked_keys,/etc/ssh/sshd_config,command:moduli,command:rsa_hostkey" {
		t.Errorf("ssh.service restarts on %s", v)
	}
	if v := byTarget["ssh.socket"].Value("masked"); v != "true" {
		t.Errorf("ssh.socket is not masked: %s", byTarget["ssh.socket"].Attrs)
	}
	for _, f := range []string{"/etc/ssh/sshd_config", "/etc/ssh/revoked_keys"} {
		if m := byTarget[f].Value("mode"); m != "0600" {
			t.Errorf("%s has mode %s, the role's is 0600", f, m)
		}
	}
	if v := byTarget["/etc/ssh/sshd_config"].Value("validate"); !strings.HasPrefix(v, "/usr/sbin/sshd -T ") || !strings.HasSuffix(v, " -f %s") {
		t.Errorf("sshd_config is not validated as the role does: %q", v)
	}
	for _, f := range []string{"/etc/systemd/system/ssh.service.d/00-socket.conf", "/etc/systemd/system/sockets.target.wants/ssh.socket"} {
		if byTarget[f].Value("absent") != "true" {
			t.Errorf("%s is not absent: %s", f, byTarget[f].Attrs)
		}
	}
}

// The key exchange algorithms follow the OpenSSH version as the role's
// tasks/crypto_kex.yml does: from the installed openssh-client when there
// is one, else from the Debian release; an explicit ssh_kex wins.
func TestSSHHardeningVersions(t *testing.T) {
	kex := func(facts compile.Facts, vars map[string]string) string {
		res := compileSSH(t, facts, vars)
		for _, s := range res.List.Steps {
			if s.Target == "/etc/ssh/sshd_config" {
				for _, line := range strings.Split(string(res.Blobs[s.Value("content")]), "\n") {
					if strings.HasPrefix(line, "KexAlgorithms ") || line == "# KexAlgorithms" {
						return line
					}
				}
			}
		}
		t.Fatal("sshd_config has no KexAlgorithms line")
		return ""
	}
	bullseye := bookworm
	bullseye.DebianCodename = "bullseye"
	installed := bookworm
	installed.Packages = map[string]string{"openssh-client": "1:8.4p1-5+deb11u3"}
	for name, tc := range map[string]struct {
		facts compile.Facts
		vars  map[string]string
		want  string
	}{
		"bookworm":           {bookworm, nil, "KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256"},
		"bullseye":           {bullseye, nil, "KexAlgorithms sntrup4591761x25519-sha512@tinyssh.org,curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256"},
		"8.4 installed":      {installed, nil, "KexAlgorithms sntrup4591761x25519-sha512@tinyssh.org,curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256"},
		"sshd_version given": {installed, map[string]string{"sshd_version": "7.9"}, "KexAlgorithms curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256"},
		"ssh_kex given":      {bookworm, map[string]string{"ssh_kex": `["curve25519-sha256"]`}, "KexAlgorithms curve25519-sha256"},
		"ssh_kex empty":      {bookworm, map[string]string{"ssh_kex": `[]`}, "# KexAlgorithms"},
	} {
		if got := kex(tc.facts, tc.vars); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
