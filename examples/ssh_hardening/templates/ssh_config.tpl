${head}

# This is the ssh client system-wide configuration file.
# See ssh_config(5) for more information on any settings used.

%{ if length(v.ssh_custom_options) > 0 }# Custom configuration that overwrites default configuration
# ==========================================================
%{ for line in v.ssh_custom_options }${line}
%{ endfor }%{ endif }
# Basic configuration
# ===================

# Address family should always be limited to the active network configuration.
AddressFamily ${v.network_ipv6_enable ? "any" : "inet"}

%{ for i, host in v.ssh_remote_hosts }%{ if i == 0 }# Host-specific configuration
%{ endif }Host ${join(" ", host.names)}
  ${indent(2, join("\n", host.options))}

%{ endfor }# Global defaults for all Hosts
Host *

# The port at the destination should be defined
Port ${v.ssh_client_port}

# Identity file configuration. You may restrict available identity files.
# Otherwise ssh will search for a pattern and use any that matches.
#IdentityFile ~/.ssh/identity
#IdentityFile ~/.ssh/id_rsa
#IdentityFile ~/.ssh/id_dsa


# Security configuration
# ======================

# Make sure passphrase querying is enabled
BatchMode no

# Prevent IP spoofing by checking to host IP against the `known_hosts` file.
CheckHostIP yes

# Always ask before adding keys to the `known_hosts` file. Do not set to `yes`.
StrictHostKeyChecking ask

# **Ciphers** -- If your clients don't support CTR (eg older versions), cbc will be added
# CBC: is true if you want to connect with OpenSSL-base libraries
# eg ruby Net::SSH::Transport::CipherFactory requires cbc-versions of the given openssh ciphers to work
# -- see: (http://net-ssh.github.com/net-ssh/classes/Net/SSH/Transport/CipherFactory.html)
#
${length(c.ciphers) > 0 ? "Ciphers ${join(",", c.ciphers)}" : "#\n# Ciphers\n#"}

# **Hash algorithms** -- Make sure not to use SHA1 for hashing, unless it is really necessary.
# Weak HMAC is sometimes required if older package versions are used
# eg Ruby's Net::SSH at around 2.2.* doesn't support sha2 for hmac, so this will have to be set true in this case.
#
${length(c.macs) > 0 ? "MACs ${join(",", c.macs)}" : "#\n# MACs\n#"}

# **Key Exchange Algorithms** -- Make sure not to use SHA1 for kex, unless it is really necessary
# Weak kex is sometimes required if older package versions are used
# eg ruby's Net::SSH at around 2.2.* doesn't support sha2 for kex, so this will have to be set true in this case.
# based on: https://bettercrypto.org/static/applied-crypto-hardening.pdf
#
${length(c.kex) > 0 ? "KexAlgorithms ${join(",", c.kex)}" : "#\n# KexAlgorithms\n#"}

# Specifies the host key algorithms that the client wants to use in order of preference.
${length(v.ssh_client_host_key_algorithms) > 0 ? "HostKeyAlgorithms ${join(",", v.ssh_client_host_key_algorithms)}" : "#\n# HostKeyAlgorithms\n#"}

# Disable agent forwarding, since local agent could be accessed through forwarded connection.

ForwardAgent ${v.ssh_forward_agent}


# Disable X11 forwarding, since local X11 display could be accessed through forwarded connection.
ForwardX11 no

# Never use host-based authentication. It can be exploited.
HostbasedAuthentication no

# Disable password-based authentication, it can allow for potentially easier brute-force attacks.
PasswordAuthentication ${v.ssh_client_password_login ? "yes" : "no"}

# Only use GSSAPIAuthentication if implemented on the network.
GSSAPIAuthentication ${v.ssh_gssapi_support ? "yes" : "no"}
GSSAPIDelegateCredentials ${v.ssh_gssapi_delegation ? "yes" : "no"}

# Disable tunneling
Tunnel no

# Disable local command execution.
PermitLocalCommand no


# Misc. configuration
# ===================

Compression ${v.ssh_client_compression ? "yes" : "no"}

#EscapeChar ~
#VisualHostKey yes

