# ${host.hostname}: written by trail, edits are reported as drift
server_name ${host.fqdn}
listen      ${port}
root        /etc/web/docroot
%{ for a in host.addresses ~}
allow       ${a}
%{ endfor ~}
