#!/usr/bin/env bash
# A real single-node SLURM cluster on this host (controller + compute + accounting), for the
# ve-slurm integration tests, the HPC end-to-end tests and local development.
#
#   bash scripts/slurm.sh setup    install Debian packages (slurm-wlm, munge, slurmdbd, mariadb-server)
#                                  and write /etc/slurm/slurm.conf + slurmdbd.conf for this host
#   bash scripts/slurm.sh start    start mariadb, munged, slurmdbd, slurmctld, slurmd (no systemd needed)
#                                  and wait until `sinfo` shows the node idle; a no-op when already up
#   bash scripts/slurm.sh stop     stop the daemons this script started
#   bash scripts/slurm.sh status   daemons, partition and node state
# Verbs can be chained: `bash scripts/slurm.sh setup start`.
#
# Accounting: slurmdbd backed by a local MariaDB, so `sacct` reports elapsed time, CPU time, MaxRSS and
# allocated TRES of finished jobs. Process tracking is cgroup-free (proctrack/linuxproc, task/none) so
# the cluster also runs inside containers and VMs without a writable cgroup hierarchy.
# Time limits are enforced without grace (OverTimeLimit=0, KillWait=2) so a job over its limit ends
# TIMEOUT as soon as slurmctld's periodic check sees it.
# Must run as root (or with sudo available). Env: SLURM_CLUSTER_NAME (default virtengine).
set -euo pipefail

CLUSTER_NAME="${SLURM_CLUSTER_NAME:-virtengine}"
APT_PACKAGES=(slurm-wlm slurm-client munge slurmdbd mariadb-server)
CONF_DIR=/etc/slurm
SLURM_CONF="$CONF_DIR/slurm.conf"
DBD_CONF="$CONF_DIR/slurmdbd.conf"
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
STATE_DIR=/var/lib/slurm
DB_NAME=slurm_acct_db
DB_USER=slurm
DB_PASS_FILE="$CONF_DIR/.dbpass"
MYSQL_SOCK=/run/mysqld/mysqld.sock
MYSQL_LOG="$LOG_DIR/mariadb.log"
# Hash of the configuration the running daemons were started with (restart when it changes).
STARTED_STAMP="$RUN_DIR/config.sha256"

say() { echo "==> slurm: $*"; }
die() { echo "slurm.sh: error: $*" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
as_root() { $SUDO "$@"; }

# ---------------------------------------------------------------------------------------------
# setup
# ---------------------------------------------------------------------------------------------
install_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages present (${APT_PACKAGES[*]})"
    return
  fi
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get (need Debian/Ubuntu)"
  say "installing ${missing[*]} (apt-get, ~30 s)"
  # Other tools may hold the dpkg lock for a while; wait for it instead of failing.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq \
    || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# Writes $2 to file $1 (mode $3) only when the content differs, so `setup` is idempotent.
write_if_changed() {
  local path="$1" content="$2" mode="$3"
  if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then return; fi
  printf '%s\n' "$content" | as_root tee "$path" >/dev/null
  as_root chmod "$mode" "$path"
  say "wrote $path"
}

write_config() {
  as_root mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd"
  local host node_line
  host="$(hostname -s)"
  # `slurmd -C` reports this host's real CPUs, sockets/cores/threads and memory.
  node_line="$(slurmd -C 2>/dev/null | head -n1)" || true
  [[ "$node_line" == NodeName=* ]] || die "slurmd -C did not print a NodeName line (is slurmd installed?)"
  node_line="${node_line/NodeName=* CPUs=/NodeName=$host NodeAddr=127.0.0.1 CPUs=}"

  write_if_changed "$SLURM_CONF" "# Written by scripts/slurm.sh: single-node cluster for VirtEngine tests.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# cgroup-free: works in containers/VMs without a delegated cgroup hierarchy.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
# Time limits without grace: a job over its limit ends TIMEOUT at slurmctld's next check.
OverTimeLimit=0
KillWait=2
InactiveLimit=0
MinJobAge=300
# Accounting: slurmdbd (MariaDB) for sacct; per-task usage sampled every 5 s by /proc.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=5
JobCompType=jobcomp/none
$node_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP" 644

  if [ ! -f "$DB_PASS_FILE" ]; then
    head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | as_root tee "$DB_PASS_FILE" >/dev/null
    as_root chmod 600 "$DB_PASS_FILE"
  fi
  write_if_changed "$DBD_CONF" "# Written by scripts/slurm.sh: accounting daemon backed by the local MariaDB.
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$RUN_DIR/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=$DB_USER
StoragePass=$(as_root cat "$DB_PASS_FILE")
StorageLoc=$DB_NAME" 600

  [ -s /etc/munge/munge.key ] || { as_root mungekey --create >/dev/null 2>&1 || as_root create-munge-key -f >/dev/null; }
}

cmd_setup() {
  install_packages
  write_config
}

# ---------------------------------------------------------------------------------------------
# start / stop / status
# ---------------------------------------------------------------------------------------------
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for SECONDS DESCRIPTION LOGFILE COMMAND...: poll COMMAND every 0.5 s.
wait_for() {
  local secs="$1" what="$2" log="$3"; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "slurm.sh: error: $what not ready after ${secs}s; last lines of $log:" >&2
      as_root tail -n 20 "$log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
}

mysql_root() { as_root mysql --protocol=socket -S "$MYSQL_SOCK" -uroot "$@"; }

start_mariadb() {
  if mysql_root -e 'SELECT 1' >/dev/null 2>&1; then return; fi
  say "starting mariadb (log $MYSQL_LOG)"
  as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$MYSQL_LOG" 2>&1 \
      || die "mariadb-install-db failed; see $MYSQL_LOG"
  fi
  # Forked into the background on its own; small buffer pool so it stays light on a test box.
  as_root setsid mariadbd --user=mysql --datadir=/var/lib/mysql --socket="$MYSQL_SOCK" \
    --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid --log-error="$MYSQL_LOG" \
    --innodb-buffer-pool-size=64M --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1 &
  wait_for 60 mariadb "$MYSQL_LOG" mysql_root -e 'SELECT 1'
}

ensure_db_user() {
  local pass
  pass="$(as_root cat "$DB_PASS_FILE")"
  mysql_root -e "CREATE DATABASE IF NOT EXISTS $DB_NAME;
    CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$pass';
    ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$pass';
    GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';" \
    || die "could not create the slurm accounting database user; see $MYSQL_LOG"
}

start_munge() {
  if pid_alive /run/munge/munged.pid; then return; fi
  say "starting munged (log /var/log/munge/munged.log)"
  as_root mkdir -p /run/munge /var/log/munge && as_root chown munge:munge /run/munge /var/log/munge
  as_root su -s /bin/sh munge -c 'munged' || as_root munged --force \
    || die "munged failed to start; see /var/log/munge/munged.log"
  wait_for 15 munged /var/log/munge/munged.log sh -c 'munge -n | unmunge'
}

config_hash() { as_root cat "$SLURM_CONF" "$DBD_CONF" | sha256sum | cut -d' ' -f1; }

node_state() { sinfo --noheader --Node --format='%T' 2>/dev/null | head -n1; }
node_idle() { case "$(node_state)" in idle|mixed|allocated) return 0 ;; *) return 1 ;; esac; }

cmd_start() {
  [ -f "$SLURM_CONF" ] && [ -f "$DBD_CONF" ] || die "no $SLURM_CONF; run: bash scripts/slurm.sh setup"
  local want
  want="$(config_hash)"
  if pid_alive "$RUN_DIR/slurmctld.pid" && pid_alive "$RUN_DIR/slurmd.pid" && pid_alive "$RUN_DIR/slurmdbd.pid" \
    && [ "$(cat "$STARTED_STAMP" 2>/dev/null)" = "$want" ] && node_idle; then
    say "running (node $(hostname -s) $(node_state))"
    return
  fi
  cmd_stop quiet
  as_root mkdir -p "$RUN_DIR" "$LOG_DIR"
  start_mariadb
  ensure_db_user
  start_munge

  say "starting slurmdbd (log $LOG_DIR/slurmdbd.log)"
  as_root slurmdbd || die "slurmdbd failed to start; see $LOG_DIR/slurmdbd.log"
  wait_for 30 slurmdbd "$LOG_DIR/slurmdbd.log" sacctmgr --noheader list cluster
  # Register the cluster before slurmctld connects, so accounting records are kept from the first job.
  if [ -z "$(sacctmgr --noheader --parsable2 list cluster "$CLUSTER_NAME" format=Cluster)" ]; then
    as_root sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null || die "sacctmgr add cluster $CLUSTER_NAME failed"
  fi

  say "starting slurmctld (log $LOG_DIR/slurmctld.log)"
  as_root slurmctld || die "slurmctld failed to start; see $LOG_DIR/slurmctld.log"
  wait_for 30 slurmctld "$LOG_DIR/slurmctld.log" scontrol ping
  say "starting slurmd (log $LOG_DIR/slurmd.log)"
  as_root slurmd || die "slurmd failed to start; see $LOG_DIR/slurmd.log"

  local deadline=$((SECONDS + 60))
  until node_idle; do
    case "$(node_state)" in
      down*|drain*|fail*)
        # e.g. "Node unexpectedly rebooted" after a restart of the machine: the node is fine.
        as_root scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "slurm.sh: error: node $(hostname -s) is '$(node_state)', not idle, after 60s." >&2
      echo "  sinfo: $(sinfo --noheader --Node --format='%N %T %E' 2>&1)" >&2
      echo "  logs: $LOG_DIR/slurmctld.log, $LOG_DIR/slurmd.log; last slurmd lines:" >&2
      as_root tail -n 15 "$LOG_DIR/slurmd.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "$want" | as_root tee "$STARTED_STAMP" >/dev/null
  say "ready: partition debug, node $(hostname -s) $(node_state) ($(sinfo --noheader --Node --format='%c CPUs, %m MB'))"
}

# Stops by pid file only (never by process name), slurmd first.
stop_pidfile() {
  local name="$1" pidfile="$2" i
  pid_alive "$pidfile" || return 0
  local pid; pid="$(cat "$pidfile")"
  as_root kill "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  echo "slurm.sh: warning: $name ($pid) did not stop within 10s; sending SIGKILL" >&2
  as_root kill -9 "$pid" 2>/dev/null || true
}

cmd_stop() {
  [ "${1:-}" = quiet ] || say "stopping slurmd, slurmctld, slurmdbd"
  stop_pidfile slurmd "$RUN_DIR/slurmd.pid"
  stop_pidfile slurmctld "$RUN_DIR/slurmctld.pid"
  stop_pidfile slurmdbd "$RUN_DIR/slurmdbd.pid"
  as_root rm -f "$STARTED_STAMP"
  # munged and mariadb are left running: cheap, and shared with anything else on the host.
}

cmd_status() {
  local name pidfile rc=0
  for name in slurmdbd slurmctld slurmd; do
    pidfile="$RUN_DIR/$name.pid"
    if pid_alive "$pidfile"; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: stopped"; rc=1; fi
  done
  if pid_alive /run/munge/munged.pid; then echo "munged: running"; else echo "munged: stopped"; rc=1; fi
  if mysql_root -e 'SELECT 1' >/dev/null 2>&1; then echo "mariadb: running"; else echo "mariadb: stopped"; rc=1; fi
  sinfo 2>&1 || rc=1
  return $rc
}

[ $# -gt 0 ] || { sed -n '2,17p' "$0"; exit 2; }
for verb in "$@"; do
  case "$verb" in
    setup) cmd_setup ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) die "unknown command '$verb' (use setup|start|stop|status)" ;;
  esac
done
