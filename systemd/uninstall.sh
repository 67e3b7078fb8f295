#!/usr/bin/env bash
# Reverses systemd/install.sh: stops and disables the service and removes the
# unit. The configuration, the database (every reading not yet uploaded) and
# the sensord account stay unless --purge is given.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: sudo systemd/uninstall.sh [--dry-run] [--root DIR] [--purge]

  --dry-run    print every action, change nothing
  --root DIR   remove the files under DIR (as installed with install.sh --root DIR)
  --purge      also delete /etc/sensord, /var/lib/sensord (the database!) and
               the sensord user and group
EOF
}

DRY_RUN=0
ROOT=""
PURGE=0
while (($# > 0)); do
  case "$1" in
  --dry-run) DRY_RUN=1 ;;
  --root)
    [[ $# -ge 2 && -n $2 ]] || { echo "uninstall.sh: --root needs a directory" >&2; exit 2; }
    ROOT="$(realpath -m "$2")"
    shift
    ;;
  --purge) PURGE=1 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "uninstall.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=systemd/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if ((!DRY_RUN)) && [[ -z $ROOT && $EUID -ne 0 ]]; then
  echo "uninstall.sh: run as root: sudo $0 (or preview with --dry-run)" >&2
  exit 1
fi
((DRY_RUN)) && echo "# dry run: printing what would be done, changing nothing"

if [[ -e $ROOT$UNIT ]]; then
  # SIGTERM: sensord commits pending readings before it exits.
  host systemctl disable --now sensord.service
  run rm -f "$ROOT$UNIT"
  host systemctl daemon-reload
else
  ok "$UNIT: absent"
fi

if ((PURGE)); then
  for dir in "$CONFIG_DIR" "$STATE_DIR"; do
    if [[ -e $ROOT$dir ]]; then run rm -rf "$ROOT$dir"; else ok "$dir: absent"; fi
  done
  if [[ -n $ROOT ]] || getent passwd "$USER_NAME" >/dev/null; then
    host userdel "$USER_NAME"
  else
    ok "user $USER_NAME: absent"
  fi
  if [[ -n $ROOT ]] || getent group "$USER_NAME" >/dev/null; then
    host groupdel "$USER_NAME"
  else
    ok "group $USER_NAME: absent"
  fi
else
  ok "kept $CONFIG_DIR (configuration), $STATE_DIR (database) and the $USER_NAME account; --purge deletes them"
fi
