# Sourced by .ci/run: installs and starts what attnlab's tests need on a
# fresh Debian machine — a throwaway PostgreSQL server on loopback, a
# one-node Slurm cluster, and headless Chromium — and stops what it started.
# Each function is idempotent: it installs a package only when missing and
# reuses a service that is already up. Recipes: ../shared/cluster-crib.md.

ci_log() { echo "ci: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# ensure_packages PKG... installs the Debian packages that are not installed.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  ci_log "installing ${missing[*]}"
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}" >/dev/null
}

# start_postgres starts a private PostgreSQL server (its own data directory
# under a temp dir, loopback only, a free port) and exports
# ATTNLAB_TEST_POSTGRES, the URL of an empty database for the tests.
start_postgres() {
  ensure_packages postgresql
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  CI_PG_DIR=$(mktemp -d /tmp/attnlab-ci-pg.XXXXXX)
  chmod 755 "$CI_PG_DIR"
  as_root chown postgres:postgres "$CI_PG_DIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  as_root su postgres -s /bin/sh -c "$bin/initdb -D $CI_PG_DIR/data -A trust -U postgres >/dev/null"
  as_root su postgres -s /bin/sh -c "$bin/pg_ctl -D $CI_PG_DIR/data -l $CI_PG_DIR/log -w start \
      -o '-c listen_addresses=127.0.0.1 -p $port -k $CI_PG_DIR -c max_connections=200 -c fsync=off'" >/dev/null
  CI_PG_BIN=$bin
  psql -q "postgres://postgres@127.0.0.1:$port/postgres" -c "create database attnlab_test" >/dev/null
  export ATTNLAB_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/attnlab_test?sslmode=disable"
  ci_log "PostgreSQL on 127.0.0.1:$port"
}

stop_postgres() {
  [ -n "${CI_PG_DIR:-}" ] || return 0
  as_root su postgres -s /bin/sh -c "$CI_PG_BIN/pg_ctl -D $CI_PG_DIR/data -w -m fast stop" >/dev/null 2>&1 || true
  as_root rm -rf "$CI_PG_DIR"
}

# start_slurm brings up a one-node Slurm cluster (munge, slurmctld, slurmd)
# unless one answers already, and exports ATTNLAB_TEST_SLURM=1.
start_slurm() {
  ensure_packages slurm-wlm munge
  if ! timeout 5 sinfo -h >/dev/null 2>&1; then
    as_root mkdir -p /run/munge /var/spool/slurmctld /var/spool/slurmd /etc/slurm
    as_root chown munge:munge /run/munge
    if [ ! -f /etc/munge/munge.key ]; then as_root mungekey -c; fi
    as_root chown munge:munge /etc/munge/munge.key
    pgrep -x munged >/dev/null || as_root su -s /bin/sh munge -c /usr/sbin/munged
    local h cpus
    h=$(hostname -s)
    cpus=$(nproc)
    as_root tee /etc/slurm/slurm.conf >/dev/null <<CONF
ClusterName=attnlab-ci
SlurmctldHost=$h
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
KillWait=10
NodeName=$h CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$h Default=YES MaxTime=INFINITE State=UP
CONF
    as_root slurmctld
    as_root slurmd
    CI_SLURM_STARTED=1
    local i
    for i in $(seq 1 30); do
      sinfo -h -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)' && break
      sleep 1
    done
  fi
  sinfo -h -o "%P %t %c" >&2
  export ATTNLAB_TEST_SLURM=1
}

stop_slurm() {
  [ -n "${CI_SLURM_STARTED:-}" ] || return 0
  as_root kill "$(cat /run/slurmd.pid 2>/dev/null)" "$(cat /run/slurmctld.pid 2>/dev/null)" 2>/dev/null || true
}

# ensure_latex installs pdflatex and booktabs, which the test of compare's
# LaTeX output compiles its tables with.
ensure_latex() {
  ensure_packages texlive-latex-base texlive-latex-recommended
}

# ensure_chromium installs Debian's Chromium for the browser tests and
# exports ATTNLAB_TEST_CHROMIUM, its path.
ensure_chromium() {
  ensure_packages chromium
  export ATTNLAB_TEST_CHROMIUM=/usr/bin/chromium
}
