# A small web host: the site synced from www/, its config rendered from a
# template with the host's facts, a symlink to the live docroot, and the
# account the site belongs to.

variable "accounts" {
  type        = bool
  default     = false
  description = "Create the web user and group (needs root; the demo turns it on when it runs as root)."
}

variable "port" {
  type    = number
  default = 8080
}

locals {
  owner = var.accounts ? "web" : "root"
}

group "web" {
  when = var.accounts
  gid  = 2080
}

user "web" {
  when   = var.accounts
  uid    = 2080
  group  = "web"
  home   = "/srv/www"
  shell  = "/usr/sbin/nologin"
  system = true
}

directory "/etc/web" {}

file "site_conf" {
  path     = "/etc/web/site.conf"
  template = "templates/site.conf.tpl"
  vars     = { port = var.port }
  mode     = "0640"
  group    = local.owner
}

tree "site" {
  path     = "/srv/www"
  source   = "www"
  owner    = local.owner
  group    = local.owner
  dir_mode = "0755"
  exclude  = ["*.swp"]
}

symlink "/etc/web/docroot" {
  to = "/srv/www"
}

check "site" {
  run     = "test -s srv/www/index.html"
  timeout = "5s"
}
