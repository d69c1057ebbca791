${head}

# This is the sshd server system-wide configuration file.
# See sshd_config(5) for more information.

%{ if length(v.sshd_custom_options) > 0 }# Custom configuration that overwrites default configuration
# ==========================================================
%{ for line in v.sshd_custom_options }${line}
%{ endfor }%{ endif }
# Basic configuration
# ===================

# Either disable or only allow root login via certificates.
PermitRootLogin ${v.ssh_permit_root_login}

# TCP port sshd should listen on. Default is 22.
%{ for port in v.ssh_server_ports }Port ${port}
%{ endfor }
# Address family should always be limited to the active network configuration.
AddressFamily ${v.network_ipv6_enable ? "any" : "inet"}

# Addresses sshd listens on. Default is 0.0.0.0.
# Specify desired address here if you don't want sshd to listen on all available addresses.
%{ for address in v.ssh_listen_to }ListenAddress ${address}
%{ endfor }
# HostKeys are listed here.
%{ for key in c.host_key_files }HostKey ${key}
%{ endfor }
# HostCertificates are listed here.
%{ for certificate in v.ssh_host_certificates }HostCertificate ${certificate}
%{ endfor }
# Host key algorithms that the server offers.
${length(v.ssh_host_key_algorithms) > 0 ? "HostKeyAlgorithms ${join(",", v.ssh_host_key_algorithms)}" : "#\n# HostKeyAlgorithms\n#"}

# Security configuration
# ======================

# Make sure sshd checks file modes and ownership before accepting logins. This prevents accidental misconfiguration.
StrictModes ${v.sshd_strict_modes ? "yes" : "no"}

# Logging, obsoletes QuietMode and FascistLogging
SyslogFacility ${v.sshd_syslog_facility}
LogLevel ${v.sshd_log_level}

# Cryptography
# ------------

# **Ciphers** -- If your clients don't support CTR (eg older versions), cbc will be added
# CBC: is true if you want to connect with OpenSSL-base libraries
# eg ruby Net::SSH::Transport::CipherFactory requires cbc-versions of the given openssh ciphers to work
# -- see: (http://net-ssh.github.com/net-ssh/classes/Net/SSH/Transport/CipherFactory.html)
#
${length(c.ciphers) > 0 ? "Ciphers ${join(",", c.ciphers)}" : "#\n# Ciphers\n#"}

# **Hash algorithms** -- SHA-1 is formally deprecated by NIST in 2011 because of security issues.
# Weak HMAC is sometimes required if older package versions are used
# eg Ruby's Net::SSH at around 2.2.* doesn't support sha2 for hmac, so this will have to be set true in this case.
#
${length(c.macs) > 0 ? "MACs ${join(",", c.macs)}" : "#\n# MACs\n#"}

# **Key Exchange Algorithms** -- SHA-1 is formally deprecated by NIST in 2011 because of security issues.
# Weak kex is sometimes required if older package versions are used
# eg ruby's Net::SSH at around 2.2.* doesn't support sha2 for kex, so this will have to be set true in this case.
# based on: https://bettercrypto.org/static/applied-crypto-hardening.pdf
#
${length(c.kex) > 0 ? "KexAlgorithms ${join(",", c.kex)}" : "#\n# KexAlgorithms\n#"}

# Authentication
# --------------

# Secure Login directives.

LoginGraceTime ${v.ssh_login_grace_time}
MaxAuthTries ${v.ssh_max_auth_retries}
MaxSessions ${v.ssh_max_sessions}
MaxStartups ${v.ssh_max_startups}

# Enable public key authentication
PubkeyAuthentication ${v.ssh_pubkey_authentication ? "yes" : "no"}

# Never use host-based authentication. It can be exploited.
IgnoreRhosts yes
IgnoreUserKnownHosts yes
HostbasedAuthentication no

%{ if v.ssh_pam_support }# Enable PAM to enforce system wide rules.
UsePAM ${v.ssh_use_pam ? "yes" : "no"}

%{ endif }AuthenticationMethods ${v.sshd_authenticationmethods}

# Disable password-based authentication, it can allow for potentially easier brute-force attacks.
PasswordAuthentication ${v.ssh_server_password_login ? "yes" : "no"}
PermitEmptyPasswords no
ChallengeResponseAuthentication ${v.ssh_challengeresponseauthentication ? "yes" : "no"}

%{ if v.ssh_kerberos_support }# Only enable Kerberos authentication if it is configured.
KerberosAuthentication no
KerberosOrLocalPasswd no
KerberosTicketCleanup yes
#KerberosGetAFSToken no
%{ endif }
# Only enable GSSAPI authentication if it is configured.
GSSAPIAuthentication ${v.ssh_gssapi_support ? "yes" : "no"}
GSSAPICleanupCredentials yes

%{ if v.ssh_deny_users != "" }# In case you don't use PAM (`UsePAM no`), you can alternatively restrict users and groups here.
# For key-based authentication this is not necessary, since all keys must be explicitly enabled.
DenyUsers ${v.ssh_deny_users}

%{ endif }%{ if v.ssh_allow_users != "" }AllowUsers ${v.ssh_allow_users}

%{ endif }%{ if v.ssh_deny_groups != "" }DenyGroups ${v.ssh_deny_groups}

%{ endif }%{ if v.ssh_allow_groups != "" }AllowGroups ${v.ssh_allow_groups}

%{ endif }%{ if v.ssh_authorized_keys_file != "" }AuthorizedKeysFile ${v.ssh_authorized_keys_file}

%{ endif }%{ if v.ssh_trusted_user_ca_keys_file != "" }TrustedUserCAKeys ${v.ssh_trusted_user_ca_keys_file}
%{ if v.ssh_authorized_principals_file != "" }AuthorizedPrincipalsFile ${v.ssh_authorized_principals_file}
%{ endif }%{ endif }
# Network
# -------

# Disable TCP keep alive since it is spoofable. Use ClientAlive messages instead, they use the encrypted channel
TCPKeepAlive no

# Manage `ClientAlive..` signals via interval and maximum count.
# This will periodically check up to a `..CountMax` number of times within `..Interval` timeframe,
# and abort the connection once these fail.
ClientAliveInterval ${v.ssh_client_alive_interval}
ClientAliveCountMax ${v.ssh_client_alive_count}

# Disable tunneling
PermitTunnel ${v.ssh_permit_tunnel}

# Disable forwarding tcp connections.
# no real advantage without denied shell access
AllowTcpForwarding ${contains(["yes", "no", "local", "all", "remote"], v.ssh_allow_tcp_forwarding) ? v.ssh_allow_tcp_forwarding : (contains(["yes", "on", "1", "true"], lower(v.ssh_allow_tcp_forwarding)) ? "yes" : "no")}

# Disable agent forwarding, since local agent could be accessed through forwarded connection.
# no real advantage without denied shell access
AllowAgentForwarding ${v.ssh_allow_agent_forwarding ? "yes" : "no"}

%{ if contains(["yes", "on", "1", "true"], lower(v.ssh_gateway_ports)) }# Port forwardings are forced to bind to the wildcard address
GatewayPorts yes
%{ else }%{ if v.ssh_gateway_ports == "clientspecified" }# Clients allowed to specify which address to bind port forwardings to
GatewayPorts clientspecified
%{ else }# Do not allow remote port forwardings to bind to non-loopback addresses.
GatewayPorts no
%{ endif }%{ endif }
# Disable X11 forwarding, since local X11 display could be accessed through forwarded connection.
X11Forwarding ${v.ssh_x11_forwarding ? "yes" : "no"}
X11UseLocalhost yes

# User environment configuration
# ==============================

PermitUserEnvironment ${v.ssh_server_permit_environment_vars}

%{ if v.ssh_server_accept_env_vars != "" }AcceptEnv ${v.ssh_server_accept_env_vars}
%{ endif }
# Misc. configuration
# ===================

Compression ${v.ssh_compression ? "yes" : "no"}

UseDNS ${v.ssh_use_dns ? "yes" : "no"}

PrintMotd ${v.ssh_print_motd ? "yes" : "no"}

PrintLastLog ${v.ssh_print_last_log ? "yes" : "no"}

Banner ${v.ssh_banner ? v.ssh_banner_path : "none"}

DebianBanner ${v.ssh_print_debian_banner ? "yes" : "no"}

# Reject keys that are explicitly blacklisted
RevokedKeys /etc/ssh/revoked_keys

%{ if v.sftp_enabled }# SFTP matching configuration
# ===========================
# Configuration, in case SFTP is used
# override default of no subsystems
# Subsystem sftp /opt/app/openssh5/libexec/sftp-server

Subsystem sftp internal-sftp -l INFO -f LOCAL6 -u ${v.sftp_umask}
%{ endif }%{ if length(v.ssh_server_match_address) > 0 }
# Address matching configuration
# ============================

%{ for item in v.ssh_server_match_address }Match Address ${item.address}
%{ for rule in item.rules }    ${indent(4, rule)}
%{ endfor }%{ endfor }%{ endif }%{ if length(v.ssh_server_match_group) > 0 }
# Group matching configuration
# ============================

%{ for item in v.ssh_server_match_group }Match Group ${item.group}
%{ for rule in item.rules }    ${indent(4, rule)}
%{ endfor }%{ endfor }%{ endif }%{ if length(v.ssh_server_match_user) > 0 }
# User matching configuration
# ===========================

%{ for item in v.ssh_server_match_user }Match User ${item.user}
%{ for rule in item.rules }    ${indent(4, rule)}
%{ endfor }%{ endfor }%{ endif }%{ if length(v.ssh_server_match_local_port) > 0 }
# LocalPort matching configuration
# ================================

%{ for item in v.ssh_server_match_local_port }Match LocalPort ${item.port}
%{ for rule in item.rules }    ${indent(4, rule)}
%{ endfor }%{ endfor }%{ endif }
%{ if v.sftp_enabled }# These lines must appear at the *end* of sshd_config
Match Group sftponly
    ForceCommand internal-sftp -l INFO -f LOCAL6 -u ${v.sftp_umask}
%{ if v.sftp_chroot }    ChrootDirectory ${v.sftp_chroot_dir}
%{ endif }    AllowTcpForwarding no
    AllowAgentForwarding no
    PasswordAuthentication ${v.ssh_server_password_login ? "yes" : "no"}
    PermitRootLogin no
    X11Forwarding no
%{ endif ~}
