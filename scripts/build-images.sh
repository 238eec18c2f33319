#!/usr/bin/env bash
# Builds the local directory images the process back end (crates/backend, docs/backend.md)
# runs workloads from. An image is a directory: a root file system plus `.ve-entrypoint`
# (the default command, one argument per line; `${PORT}` is the lease's host port).
#
#   scripts/build-images.sh [IMAGES_DIR]      (default: $VE_IMAGES_DIR or /var/lib/virtengine/images)
#
# Images: busybox — Debian's busybox-static with every applet linked and a default page in
# /www, serving it with `httpd` on ${PORT}. Fast and idempotent: an image whose stamp matches
# is left alone; a new one is built next to it and swapped in with one rename.
set -euo pipefail

IMAGES_DIR="${1:-${VE_IMAGES_DIR:-/var/lib/virtengine/images}}"
IMAGE_FORMAT=1 # bump when the layout below changes
say() { echo "==> $*"; }
die() { echo "build-images.sh: error: $*" >&2; exit 1; }

# --- busybox ------------------------------------------------------------------------------
ensure_busybox_static() {
  if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
    return
  fi
  command -v apt-get >/dev/null || die "busybox-static is not installed and there is no apt-get"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing Debian package busybox-static"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null \
    || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
         && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null; } \
    || die "apt-get install busybox-static failed"
}

build_busybox() {
  ensure_busybox_static
  local bb=/bin/busybox
  [ -x "$bb" ] || die "$bb missing after installing busybox-static"
  local version stamp dest tmp
  version="$(dpkg-query -W -f='${Version}' busybox-static)"
  stamp="format=$IMAGE_FORMAT busybox-static=$version"
  dest="$IMAGES_DIR/busybox"
  if [ -f "$dest/.ve-image" ] && [ "$(cat "$dest/.ve-image")" = "$stamp" ]; then
    say "image busybox up to date ($dest)"
    return
  fi
  say "building image busybox ($stamp) in $dest"
  mkdir -p "$IMAGES_DIR"
  tmp="$(mktemp -d "$IMAGES_DIR/.busybox.XXXXXX")"
  mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,www,tmp,proc,dev,data}
  chmod 1777 "$tmp/tmp"
  cp "$bb" "$tmp/bin/busybox"
  # Link every applet where busybox expects it (bin/sh, usr/bin/wc, sbin/ifconfig, ...).
  "$bb" --list-full | while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    ln -sf /bin/busybox "$tmp/$applet"
  done
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/data:/bin/sh\n' >"$tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
  printf '<!doctype html>\n<title>VirtEngine</title>\n<h1>Served by a VirtEngine lease</h1>\n' >"$tmp/www/index.html"
  printf '%s\n' httpd -f -v -p '${PORT}' -h /www >"$tmp/.ve-entrypoint"
  echo "$stamp" >"$tmp/.ve-image"
  chmod 755 "$tmp"
  if [ -d "$dest" ]; then
    local old="$IMAGES_DIR/.busybox.old.$$"
    mv "$dest" "$old"
    mv "$tmp" "$dest"
    rm -rf "$old"
  else
    mv "$tmp" "$dest"
  fi
  say "image busybox ready ($("$dest/bin/busybox" | head -1))"
}

build_busybox
