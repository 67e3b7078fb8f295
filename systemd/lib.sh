# Shared by install.sh and uninstall.sh (sourced, not run): where sensord
# lives on the system, and how an action is printed and (unless --dry-run)
# carried out. Expects DRY_RUN and ROOT to be set by the caller.

USER_NAME=sensord
CONFIG_DIR=/etc/sensord
STATE_DIR=/var/lib/sensord
UNIT_DIR=/etc/systemd/system
UNIT=$UNIT_DIR/sensord.service

# Prints a command as it would be typed, then runs it (not under --dry-run).
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  ((DRY_RUN)) || "$@"
}

# Accounts and systemctl act on this machine: under --root they are only printed.
host() {
  if [[ -n $ROOT ]]; then
    printf '+'
    printf ' %q' "$@"
    printf '   # skipped: --root\n'
  else
    run "$@"
  fi
}

ok() { printf '= %s\n' "$*"; }
