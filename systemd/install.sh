#!/usr/bin/env bash
# Installs sensord as a systemd service: the sensord user and group, its
# directories, /etc/sensord/sensord.toml (from the commented example, only if
# absent) and the unit, then enables and starts it. Safe to run again: what
# is already in place is left alone. Run as root after installing the package
# (`npm install -g`), so that `sensord` is on root's PATH.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: sudo systemd/install.sh [--dry-run] [--root DIR] [--bin PATH] [--no-start]

  --dry-run    print every action, change nothing
  --root DIR   install the files under DIR (an image being built, or a test);
               accounts, file ownership and systemctl are left to the target
  --bin PATH   the sensord executable for ExecStart= (default: `command -v sensord`)
  --no-start   enable the service but do not start it (edit the config first)
EOF
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DRY_RUN=0
ROOT=""
BIN=""
START=1
while (($# > 0)); do
  case "$1" in
  --dry-run) DRY_RUN=1 ;;
  --root)
    [[ $# -ge 2 && -n $2 ]] || { echo "install.sh: --root needs a directory" >&2; exit 2; }
    ROOT="$(realpath -m "$2")"
    shift
    ;;
  --bin)
    [[ $# -ge 2 && -n $2 ]] || { echo "install.sh: --bin needs a path" >&2; exit 2; }
    BIN="$2"
    shift
    ;;
  --no-start) START=0 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=systemd/lib.sh
source "$HERE/lib.sh"
CONFIG=$CONFIG_DIR/sensord.toml
# Groups that own /dev/i2c-* and the serial ports on Raspberry Pi OS.
DEVICE_GROUPS=(i2c dialout)
# The PATH systemd gives a service: node must be found there, not in a login shell's.
SERVICE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
  echo "install.sh: $*" >&2
  exit 1
}

group_exists() {
  if [[ -n $ROOT ]]; then
    grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null
  else
    getent group "$1" >/dev/null
  fi
}

# install(1) ownership options; none under --root, where the accounts may not exist yet.
owner() {
  [[ -n $ROOT ]] || printf '%s\n' -o "$1" -g "$2"
}

# Creates DIR with MODE (and OWNER:GROUP) unless it is already exactly so.
ensure_dir() {
  local dir=$1 mode=$2 user=$3 group=$4 path="$ROOT$1"
  if [[ -d $path && $(stat -c %a "$path") == "${mode#0}" ]] &&
    { [[ -n $ROOT ]] || [[ $(stat -c %U:%G "$path") == "$user:$group" ]]; }; then
    ok "$dir: present, mode $mode"
    return
  fi
  local -a ownership
  mapfile -t ownership < <(owner "$user" "$group")
  run install -d -m "$mode" "${ownership[@]}" "$path"
}

if ((!DRY_RUN)) && [[ -z $ROOT && $EUID -ne 0 ]]; then
  die "run as root: sudo $0 (or preview with --dry-run)"
fi

if [[ -z $BIN ]]; then
  BIN="$(command -v sensord || true)"
  [[ -n $BIN ]] || die "sensord is not on the PATH. Install the package first:
  npm pack && sudo npm install -g ./sensord-*.tgz
or name the executable with --bin /path/to/sensord"
fi
# It goes into ExecStart= (and through sed): plain path characters only.
[[ $BIN =~ ^/[A-Za-z0-9._/+-]+$ ]] ||
  die "--bin must be an absolute path of letters, digits and ._/+- only, got '$BIN'"
if [[ -z $ROOT ]]; then
  [[ -x $BIN ]] || die "$BIN is not executable"
  [[ $(realpath "$BIN") != /home/* ]] ||
    die "$BIN lives under /home, which the service cannot see (ProtectHome=yes); install the package globally with a system-wide Node.js"
  node_path="$(PATH=$SERVICE_PATH command -v node || true)"
  [[ -n $node_path && $(realpath "$node_path") != /home/* ]] ||
    die "no system-wide node in $SERVICE_PATH (a Node.js from nvm under /home is invisible to the service); install Node.js 20+ system-wide, e.g. NodeSource's nodejs package"
fi

((DRY_RUN)) && echo "# dry run: printing what would be done, changing nothing"
[[ -n $ROOT ]] && echo "# installing under $ROOT: accounts, ownership and systemctl are left to the target system"

# 1. The service's account: a system user without a shell or a home of its own.
if [[ -z $ROOT ]] && getent group "$USER_NAME" >/dev/null; then
  ok "group $USER_NAME: present"
else
  host groupadd --system "$USER_NAME"
fi
if [[ -z $ROOT ]] && getent passwd "$USER_NAME" >/dev/null; then
  ok "user $USER_NAME: present"
else
  host useradd --system --gid "$USER_NAME" --home-dir "$STATE_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "sensord gas-sensor daemon" "$USER_NAME"
fi
present_groups=()
for group in "${DEVICE_GROUPS[@]}"; do
  if ! group_exists "$group"; then
    ok "group $group: absent on this system, not used"
    continue
  fi
  present_groups+=("$group")
  if [[ -z $ROOT ]] && id -nG "$USER_NAME" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
    ok "user $USER_NAME: in group $group"
  else
    host usermod --append --groups "$group" "$USER_NAME"
  fi
done

# 2. Directories. systemd also creates these at start (ConfigurationDirectory=,
# StateDirectory=); creating them now lets the config go in before the first start.
ensure_dir "$CONFIG_DIR" 0750 root "$USER_NAME"
ensure_dir "$STATE_DIR" 0750 "$USER_NAME" "$USER_NAME"
ensure_dir "$UNIT_DIR" 0755 root root

# 3. The config: never overwrite one that is there, it is the operator's.
if [[ -e $ROOT$CONFIG ]]; then
  ok "$CONFIG: present, kept as it is"
else
  mapfile -t ownership < <(owner root "$USER_NAME")
  run install -m 0640 "${ownership[@]}" "$HERE/sensord.example.toml" "$ROOT$CONFIG"
fi

# 4. The unit, with this machine's sensord path and device groups.
rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
supplementary="SupplementaryGroups=${present_groups[*]}"
((${#present_groups[@]} > 0)) || supplementary="# SupplementaryGroups=: none of ${DEVICE_GROUPS[*]} exist here"
sed -e "s|^ExecStart=[^ ]*|ExecStart=$BIN|" -e "s|^SupplementaryGroups=.*|$supplementary|" \
  "$HERE/sensord.service" >"$rendered"
ok "unit rendered from systemd/sensord.service: ExecStart=$BIN, $supplementary"
unit_changed=0
if [[ -f $ROOT$UNIT ]] && cmp -s "$rendered" "$ROOT$UNIT"; then
  ok "$UNIT: up to date"
else
  unit_changed=1
  run install -m 0644 "$rendered" "$ROOT$UNIT"
fi

# 5. Enable (and start) it.
((unit_changed)) && host systemctl daemon-reload
if ((START)); then
  host systemctl enable --now sensord.service
else
  host systemctl enable sensord.service
fi

cat <<EOF
# done. Next:
#   edit $CONFIG (then: sensorctl config check $CONFIG && sudo systemctl reload sensord)
#   systemctl status sensord      journalctl -u sensord -f
#   sudo usermod -aG $USER_NAME \$USER   (to use sensorctl without sudo; log in again)
EOF
((unit_changed == 0)) || echo "#   after upgrading sensord: sudo systemctl restart sensord"
