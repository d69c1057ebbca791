# nginx the way a common Ansible nginx role sets it up: the Debian package,
# one site in sites-available enabled by a link in sites-enabled, its web
# root, the service enabled and running and reloaded when the site changes,
# and health checks that undo the apply when nginx is not well.

variable "port" {
  type        = number
  default     = 8080
  description = "The site's port (the package's default site keeps 80)."
}

locals {
  site = "example"
  root = "/var/www/${local.site}"
  # Sent in the X-Release header; change it to see nginx reload.
  release = "one"
}

# What the package ships that this config writes into: steps under these
# come after the package, and plan with it in the same commit.
package "nginx" {
  owns = ["/etc/nginx", "/var/www"]
}

# The HTTP check's client.
package "curl" {}

file "site" {
  path     = "/etc/nginx/sites-available/${local.site}"
  template = "templates/site.conf.tpl"
  vars     = { port = var.port, root = local.root, release = local.release }
}

symlink "site_enabled" {
  path = "/etc/nginx/sites-enabled/${local.site}"
  to   = "/etc/nginx/sites-available/${local.site}"
}

tree "www" {
  path   = local.root
  source = "www"
}

unit "nginx.service" {
  reload_on = [file.site, symlink.site_enabled]
}

# The role's "validate: nginx -t" of the config it wrote.
check "nginx_config" {
  run = "/usr/sbin/nginx -t -q"
}

check "http" {
  run      = "curl -fsS http://localhost:${var.port}/ | grep -q 'served by trail'"
  retries  = 5
  interval = "1s"
  timeout  = "10s"
}
