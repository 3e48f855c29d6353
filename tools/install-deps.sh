#!/bin/sh
# Installs the Debian 12 packages Convscope builds, runs and tests with.
# Run as root, or as a user who may sudo. The second group runs the
# application's tests: validators for the desktop file and the metainfo, and
# a virtual X server, an accessibility bus and pointer events for the 'gui'
# suite (imagemagick's import takes the screenshots in docs/). gettext
# compiles and checks the translations (po/); fonts-wqy-microhei draws
# Chinese; shared-mime-info checks the session files' type and gives
# gettext its rules for the type's name.
set -e

packages="gcc libc6-dev meson ninja-build pkg-config libglib2.0-dev libjson-glib-dev
          libgdk-pixbuf-2.0-dev libopenblas-dev dataset-fashion-mnist libgtk-4-dev
          libglib2.0-bin dconf-gsettings-backend desktop-file-utils appstream
          xvfb xauth xdotool dbus at-spi2-core python3 python3-pyatspi fonts-dejavu-core
          imagemagick gettext fonts-wqy-microhei shared-mime-info"

missing=
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
