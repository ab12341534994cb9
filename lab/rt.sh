#!/usr/bin/env bash
# hotline lab: a real Request Tracker 5 (Debian's request-tracker5 + rt5-db-sqlite) on loopback.
#
#   lab/rt.sh install   # packages (no Apache, no mail server), SQLite DB, API user, queues, CFs
#   lab/rt.sh start     # rt-server (Starlet) in the background on 127.0.0.1:$HOTLINE_RT_PORT
#   lab/rt.sh stop      # stops the pid that `start` wrote, and nothing else
#   lab/rt.sh status    # exit 0 when running and answering REST2, 3 when stopped
#
# Environment:
#   HOTLINE_RT_DIR            state dir (config, database, log, pid, rt.env)   [/var/lib/hotline/rt]
#   HOTLINE_RT_PORT           TCP port on 127.0.0.1                             [8480]
#   HOTLINE_RT_START_TIMEOUT  seconds to wait for the first HTTP answer         [120]
#
# Everything RT-specific lives in the state dir: RT is pointed at it with RT_SITE_CONFIG and
# RT_SITE_CONFIG_DIR, so /etc/request-tracker5 (Debian's debconf config) is never used or edited.
# Credentials for tests and the service: $HOTLINE_RT_DIR/rt.env (mode 0600):
#   HOTLINE_RT_URL=http://127.0.0.1:8480  HOTLINE_RT_USER=hotline  HOTLINE_RT_PASSWORD=...
#   HOTLINE_RT_TOKEN=...   (for `Authorization: token ...`, RT::Authen::Token)
# w3m is RT's HTML-to-text converter (a Recommends; silences a warning on every start).
# Both subcommands are idempotent: a second install/start changes nothing and takes seconds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${HOTLINE_RT_DIR:-/var/lib/hotline/rt}"
PORT="${HOTLINE_RT_PORT:-8480}"
HOST=127.0.0.1
START_TIMEOUT_S="${HOTLINE_RT_START_TIMEOUT:-120}"
API_USER=hotline

RT_LIB=/usr/share/request-tracker5
RT_SERVER="$RT_LIB/libexec/rt-server"
SETUP_DB=/usr/sbin/rt-setup-database-5
PACKAGES=(request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-no-thanks w3m)

CONF="$STATE/RT_SiteConfig.pm"
CONF_DIR="$STATE/RT_SiteConfig.d"
DB="$STATE/rt5.db"
LOG="$STATE/rt.log"
SETUP_LOG="$STATE/install.log"
PIDFILE="$STATE/rt.pid"
ENVFILE="$STATE/rt.env"
TOKENFILE="$STATE/token"
BOOTSTAMP="$STATE/bootstrap.stamp"
URL="http://$HOST:$PORT"

export RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$CONF_DIR"

STEP="(none)"
step() { STEP="$1"; echo "rt.sh: $1"; }

# fail MESSAGE [LOGFILE]: name the failing step, show the tail of its log, exit 1.
fail() {
    echo "rt.sh: FAILED in step '$STEP': $1" >&2
    if [[ -n "${2:-}" && -s "$2" ]]; then
        echo "rt.sh: --- last 40 lines of $2 ---" >&2
        tail -n 40 "$2" >&2
    fi
    exit 1
}

# run LOGFILE CMD...: run a command with its output appended to LOGFILE; fail with its tail.
run() {
    local log="$1"; shift
    echo "+ $*" >>"$log"
    "$@" >>"$log" 2>&1 || fail "command failed (exit $?): $*" "$log"
}

need_root() { [[ $EUID -eq 0 ]] || fail "must run as root (apt-get, $STATE)"; }

# ---------------------------------------------------------------------------------------------
packages_installed() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || return 1
    done
}

mta_installed() {
    dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null \
        | grep '^install ok installed|' | grep -q 'mail-transport-agent'
}

install_packages() {
    step "packages"
    if packages_installed; then
        echo "rt.sh: packages already installed"
        return
    fi
    need_root
    mkdir -p "$STATE"
    local log="$STATE/apt.log" debs=()
    : >"$log"
    # request-tracker5 Depends on default-mta | mail-transport-agent. The lab sends no mail
    # (MailCommand=testfile), so satisfy it with an empty local package rather than a mail server.
    if ! mta_installed; then
        local pkgdir="$STATE/no-mta"
        mkdir -p "$pkgdir/DEBIAN"
        cat >"$pkgdir/DEBIAN/control" <<'EOF'
Package: hotline-lab-no-mta
Version: 1.0
Architecture: all
Maintainer: hotline lab <lab@localhost>
Provides: mail-transport-agent
Conflicts: mail-transport-agent
Section: misc
Priority: optional
Description: hotline lab: satisfies mail-transport-agent without a mail server
 The hotline lab runs Request Tracker with MailCommand=testfile: no mail leaves the machine.
EOF
        run "$log" dpkg-deb --build "$pkgdir" "$STATE/hotline-lab-no-mta.deb"
        debs+=("$STATE/hotline-lab-no-mta.deb")
    fi
    # Preseed so nothing prompts: RT's own questions (unused: the lab config replaces them) and
    # no dbconfig-common database (dbconfig-no-thanks; we initialise our own SQLite file).
    debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/rtname string hotline.lab
request-tracker5 request-tracker5/organization string hotline.lab
request-tracker5 request-tracker5/correspondaddress string rt@hotline.lab
request-tracker5 request-tracker5/commentaddress string rt-comment@hotline.lab
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1
request-tracker5 request-tracker5/webpath string /rt
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/dbconfig-install boolean false
EOF
    if ! apt-cache policy request-tracker5 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        run "$log" apt-get update -q
    fi
    run "$log" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confold "${debs[@]}" "${PACKAGES[@]}"
    packages_installed || fail "packages still missing after apt-get install" "$log"
}

# write_if_changed PATH: stdin -> PATH, only when the content differs (keeps mtimes on re-runs).
write_if_changed() {
    local path="$1" tmp
    tmp="$(mktemp "$path.XXXXXX")"
    cat >"$tmp"
    if [[ -f "$path" ]] && cmp -s "$tmp" "$path"; then
        rm -f "$tmp"
    else
        mv "$tmp" "$path"
        echo "rt.sh: wrote $path"
    fi
}

write_config() {
    step "config"
    mkdir -p "$STATE" "$CONF_DIR"
    chmod 0700 "$STATE"
    write_if_changed "$CONF" <<EOF
# hotline lab RT config (written by lab/rt.sh; loaded through RT_SITE_CONFIG). Do not edit.
Set(\$rtname, 'hotline.lab');
Set(\$Organization, 'hotline.lab');
Set(\$CorrespondAddress, 'rt@hotline.lab');
Set(\$CommentAddress, 'rt-comment@hotline.lab');
Set(\$WebDomain, '$HOST');
Set(\$WebPort, $PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, '$URL');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$DB');
# Server and users on UTC: REST2 date strings are read and written as naive UTC.
Set(\$Timezone, 'UTC');
Set(\$MailCommand, 'testfile');
Set(\$LogToSTDERR, 'warning');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);
Set(\$DisableGraphViz, 1);
Set(%GnuPG, Enable => 0);
Set(%SMIME, Enable => 0);
1;
EOF
}

db_initialised() {
    [[ -s "$DB" ]] && [[ "$(sqlite3 "$DB" "select count(*) from sqlite_master where name='Tickets'" 2>/dev/null)" == 1 ]]
}

init_database() {
    step "database"
    if db_initialised; then
        echo "rt.sh: database $DB already initialised"
        return
    fi
    rm -f "$DB" "$BOOTSTAMP"  # a new database needs the bootstrap again
    : >"$SETUP_LOG"
    if ! "$SETUP_DB" --action init --skip-create >>"$SETUP_LOG" 2>&1 </dev/null; then
        rm -f "$DB"
        fail "rt-setup-database --action init failed" "$SETUP_LOG"
    fi
    db_initialised || fail "no Tickets table in $DB after init" "$SETUP_LOG"
}

# read_env KEY: value of KEY from rt.env, or empty.
read_env() {
    [[ -f "$ENVFILE" ]] || return 0
    sed -n "s/^$1=//p" "$ENVFILE" | tail -n 1
}

# bootstrap_stamp: what the bootstrap's result depends on (the scripts, the RT package, the user).
bootstrap_stamp() {
    { cat "$HERE/rt-bootstrap.pl" "$HERE/rt.sh"; dpkg-query -W -f='${Version}\n' request-tracker5;
      echo "$API_USER"; } | sha256sum | cut -d' ' -f1
}

bootstrap() {
    step "bootstrap (user $API_USER, queues, custom fields, token)"
    local password log="$STATE/bootstrap.log" stamp
    stamp="$(bootstrap_stamp)"
    # Skipped when nothing it depends on changed since it last passed on this database (it takes
    # from seconds to minutes on a busy machine, and every `hotline lab up` calls install).
    if [[ -s "$TOKENFILE" && -s "$ENVFILE" && -f "$BOOTSTAMP" && "$(cat "$BOOTSTAMP")" == "$stamp" ]]; then
        echo "rt.sh: bootstrap up to date (user, queues, custom fields, token)"
        return
    fi
    password="$(read_env HOTLINE_RT_PASSWORD)"
    if [[ -z "$password" ]]; then
        password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)"
    fi
    : >"$log"
    run "$log" perl "$HERE/rt-bootstrap.pl" "$API_USER" "$password" "$TOKENFILE"
    grep -v '^+ ' "$log" | sed 's/^/rt.sh:   /' || true
    local token
    token="$(head -n 1 "$TOKENFILE")"
    (umask 077; write_if_changed "$ENVFILE" <<EOF
HOTLINE_RT_URL=$URL
HOTLINE_RT_USER=$API_USER
HOTLINE_RT_PASSWORD=$password
HOTLINE_RT_TOKEN=$token
EOF
    )
    echo "$stamp" >"$BOOTSTAMP"
}

cmd_install() {
    install_packages
    write_config
    init_database
    bootstrap
    echo "rt.sh: installed; credentials in $ENVFILE"
}

# ---------------------------------------------------------------------------------------------
# our_pid: the pid from the pid file if that process is alive and is an rt-server; else empty.
our_pid() {
    [[ -f "$PIDFILE" ]] || return 0
    local pid
    pid="$(cat "$PIDFILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'rt-server'; then
        echo "$pid"
    fi
}

answers() {
    local user password
    user="$(read_env HOTLINE_RT_USER)"; password="$(read_env HOTLINE_RT_PASSWORD)"
    curl -fsS -o /dev/null --max-time 5 -u "$user:$password" "$URL/REST/2.0/queues/all" 2>/dev/null
}

cmd_start() {
    step "start"
    if [[ ! -f "$ENVFILE" ]] || ! db_initialised; then
        fail "not installed in $STATE: run '$0 install' first"
    fi
    local pid
    pid="$(our_pid)"
    if [[ -n "$pid" ]]; then
        if answers; then
            echo "rt.sh: already running (pid $pid) at $URL"
            return
        fi
        echo "rt.sh: pid $pid is starting; waiting for it"
    else
        if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
            fail "port $HOST:$PORT is taken by another process (set HOTLINE_RT_PORT)"
        fi
        echo "---- $(date -u +%FT%TZ) rt.sh start" >>"$LOG"
        # nice 10: a work order may wait, Asterisk, Redis and the service may not (RT's Perl workers
        # took a whole core at times in the demo on 2 cores)
        setsid nice -n 10 "$RT_SERVER" --host "$HOST" --port "$PORT" --max-workers 4 \
            >>"$LOG" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$PIDFILE"
    fi
    step "wait for HTTP on $URL (up to ${START_TIMEOUT_S}s)"
    local deadline=$((SECONDS + START_TIMEOUT_S))
    until answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            fail "rt-server (pid $pid) exited during start" "$LOG"
        fi
        ((SECONDS < deadline)) || fail "no answer from $URL/REST/2.0 after ${START_TIMEOUT_S}s (pid $pid still running)" "$LOG"
        sleep 0.5
    done
    echo "rt.sh: running (pid $pid) at $URL"
}

cmd_stop() {
    step "stop"
    local pid
    pid="$(our_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$PIDFILE"
        echo "rt.sh: not running"
        return
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "rt.sh: pid $pid ignored TERM for 20s; sending KILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    echo "rt.sh: stopped (pid $pid)"
}

cmd_status() {
    local pid
    pid="$(our_pid)"
    if [[ -n "$pid" ]] && answers; then
        echo "running pid=$pid url=$URL env=$ENVFILE"
    elif [[ -n "$pid" ]]; then
        echo "starting-or-unhealthy pid=$pid url=$URL (log: $LOG)"
        exit 3
    else
        echo "stopped (state $STATE)"
        exit 3
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
