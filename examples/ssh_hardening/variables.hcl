# The role's variables (roles/ssh_hardening/defaults/main.yml and
# vars/Debian.yml), under the same names and with the same defaults. Give
# any of them on trail's command line (--var ssh_allow_users=alice) or
# change the default here. The role's booleans that it runs through
# Ansible's bool filter are bool here; its match lists (false there) are
# empty lists here.

# Rendered into the head of each file as the role renders
# {{ ansible_managed | comment }} and {{ ansible_role_name }}: these
# defaults give byte for byte what the role writes.
variable "ansible_managed" {
  type    = string
  default = "Ansible managed"
}
variable "ansible_role_name" {
  type    = string
  default = "devsec.hardening.ssh_hardening"
}

variable "network_ipv6_enable" {
  type    = bool
  default = true
}
variable "ssh_server_enabled" {
  type    = bool
  default = true
}
variable "ssh_server_service_enabled" {
  type    = bool
  default = true
}
variable "ssh_use_dns" {
  type    = bool
  default = false
}
variable "ssh_client_compression" {
  type    = bool
  default = false
}
variable "ssh_compression" {
  type    = bool
  default = false
}
variable "ssh_client_password_login" {
  type    = bool
  default = false
}
variable "ssh_server_password_login" {
  type    = bool
  default = false
}
variable "ssh_server_ports" {
  type    = list(string)
  default = ["22"]
}
variable "ssh_client_port" {
  type    = string
  default = "22"
}
variable "ssh_listen_to" {
  type    = list(string)
  default = ["0.0.0.0"]
}
variable "ssh_host_rsa_key_size" {
  type    = number
  default = 4096
}
variable "ssh_host_certificates" {
  type    = list(string)
  default = []
}
variable "ssh_host_key_algorithms" {
  type    = list(string)
  default = []
}
variable "ssh_client_host_key_algorithms" {
  type    = list(string)
  default = []
}
variable "ssh_login_grace_time" {
  type    = string
  default = "30s"
}
variable "ssh_max_auth_retries" {
  type    = number
  default = 2
}
variable "ssh_max_sessions" {
  type    = number
  default = 10
}
variable "ssh_client_alive_interval" {
  type    = number
  default = 300
}
variable "ssh_client_alive_count" {
  type    = number
  default = 3
}
variable "ssh_permit_tunnel" {
  type    = string
  default = "no"
}
variable "ssh_remote_hosts" {
  type    = list(object({ names = list(string), options = list(string) }))
  default = []
}
variable "ssh_permit_root_login" {
  type    = string
  default = "no"
}
variable "ssh_allow_tcp_forwarding" {
  type    = string
  default = "no"
}
# false (the role's default), true, or "clientspecified".
variable "ssh_gateway_ports" {
  type    = string
  default = "false"
}
variable "ssh_allow_agent_forwarding" {
  type    = bool
  default = false
}
variable "ssh_x11_forwarding" {
  type    = bool
  default = false
}
variable "ssh_use_pam" {
  type    = bool
  default = true
}
variable "ssh_pubkey_authentication" {
  type    = bool
  default = true
}
variable "sshd_authenticationmethods" {
  type    = string
  default = "publickey"
}
variable "ssh_gssapi_support" {
  type    = bool
  default = false
}
variable "ssh_gssapi_delegation" {
  type    = bool
  default = false
}
variable "ssh_deny_users" {
  type    = string
  default = ""
}
variable "ssh_allow_users" {
  type    = string
  default = ""
}
variable "ssh_deny_groups" {
  type    = string
  default = ""
}
variable "ssh_allow_groups" {
  type    = string
  default = ""
}
variable "ssh_authorized_keys_file" {
  type    = string
  default = ""
}
variable "ssh_trusted_user_ca_keys_file" {
  type    = string
  default = ""
}
variable "ssh_trusted_user_ca_keys" {
  type    = list(string)
  default = []
}
# Each with the role's defaults for what it leaves out.
variable "ssh_authorized_principals" {
  type = list(object({
    path           = string
    principals     = list(string)
    directorymode  = optional(string, "0700")
    directoryowner = optional(string, "root")
    directorygroup = optional(string, "root")
    filemode       = optional(string, "0600")
    owner          = optional(string, "root")
    group          = optional(string, "root")
  }))
  default = []
}
variable "ssh_authorized_principals_file" {
  type    = string
  default = ""
}
variable "ssh_print_motd" {
  type    = bool
  default = false
}
variable "ssh_print_pam_motd" {
  type    = bool
  default = false
}
variable "ssh_print_last_log" {
  type    = bool
  default = false
}
variable "ssh_banner" {
  type    = bool
  default = false
}
variable "ssh_banner_path" {
  type    = string
  default = "/etc/ssh/banner.txt"
}
variable "ssh_print_debian_banner" {
  type    = bool
  default = false
}
variable "sftp_enabled" {
  type    = bool
  default = true
}
variable "sftp_chroot" {
  type    = bool
  default = true
}
variable "sftp_umask" {
  type    = string
  default = "0027"
}
variable "sftp_chroot_dir" {
  type    = string
  default = "/home/%u"
}
variable "ssh_server_match_user" {
  type    = list(object({ user = string, rules = list(string) }))
  default = []
}
variable "ssh_server_match_group" {
  type    = list(object({ group = string, rules = list(string) }))
  default = []
}
variable "ssh_server_match_address" {
  type    = list(object({ address = string, rules = list(string) }))
  default = []
}
variable "ssh_server_match_local_port" {
  type    = list(object({ port = string, rules = list(string) }))
  default = []
}
variable "ssh_server_permit_environment_vars" {
  type    = string
  default = "no"
}
variable "ssh_server_accept_env_vars" {
  type    = string
  default = ""
}
variable "ssh_max_startups" {
  type    = string
  default = "10:30:60"
}
variable "sshd_moduli_minimum" {
  type    = number
  default = 2048
}
variable "ssh_challengeresponseauthentication" {
  type    = bool
  default = false
}
variable "ssh_server_revoked_keys" {
  type    = list(string)
  default = []
}
variable "ssh_custom_options" {
  type    = list(string)
  default = []
}
variable "sshd_custom_options" {
  type    = list(string)
  default = []
}
variable "sshd_syslog_facility" {
  type    = string
  default = "AUTH"
}
variable "sshd_log_level" {
  type    = string
  default = "VERBOSE"
}
variable "sshd_strict_modes" {
  type    = bool
  default = true
}
# Not among the role's defaults: its client template writes "no" when it
# is not defined.
variable "ssh_forward_agent" {
  type    = string
  default = "no"
}

# vars/Debian.yml
variable "ssh_kerberos_support" {
  type    = bool
  default = true
}
variable "ssh_pam_support" {
  type    = bool
  default = true
}

# The role sets these from `ssh -V` when they are not given (ssh.hcl,
# locals): null here means "as the role would".
variable "sshd_version" {
  type        = string
  default     = null
  description = "OpenSSH's version as the role reads it from ssh -V (\"9.2\"); null: from the installed openssh-client, else from the Debian release."
}
variable "ssh_host_key_files" {
  type    = list(string)
  default = null
}
variable "ssh_macs" {
  type    = list(string)
  default = null
}
variable "ssh_ciphers" {
  type    = list(string)
  default = null
}
variable "ssh_kex" {
  type    = list(string)
  default = null
}
