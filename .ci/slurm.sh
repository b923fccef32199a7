#!/usr/bin/env bash
# A real SLURM test: start a private single-node SLURM cluster (Debian's slurm-wlm + munge, started by
# hand: no systemd), run the smoke workflow through `--profile profiles/slurm`, check that its jobs
# really went through SLURM, and compare its tables with a local run (identical CSVs).
#
#   bash .ci/slurm.sh                      # needs root (apt-get, daemons); Debian 12 / Ubuntu
#   LOCAL_RESULTS=results/smoke bash .ci/slurm.sh   # compare with an existing local smoke run
#
# The cluster is private to this run: its own munge key and socket, ports, spool, state and logs under
# one temporary folder; only slurm.conf and gres.conf sit in /etc/slurm (see below), written only
# where none exists and removed on exit. Every wait is bounded; the daemons are stopped by PID on
# exit, whatever happens. Without SLURM accounting (slurmdbd) the plugin's default status
# check (sacct) never sees jobs finish: the profile uses `slurm-status-command: squeue`, which needs
# MinJobAge >= 3 x the first status-check interval (the plugin falls back to sacct otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
SNAKEMAKE=${SNAKEMAKE:-$REPO/.venv/bin/snakemake}
CONFIGFILE=${CONFIGFILE:-config/smoke.yaml}
WORKFLOW_TIMEOUT=${WORKFLOW_TIMEOUT:-1500}   # seconds for the SLURM run of the smoke workflow
start=$SECONDS
say() { echo "== slurm [$((SECONDS - start)) s]: $*"; }
fail() { echo "slurm.sh: FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    exec sudo -n --preserve-env=LOCAL_RESULTS,CONFIGFILE,WORKFLOW_TIMEOUT,KEEP_SLURM_WORK bash "$0" "$@"
  fi
  fail "needs root (apt-get, the SLURM and munge daemons, /etc/slurm) and sudo is not available"
fi

# --- 1. packages ---------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

# --- 2. a private cluster configuration ------------------------------------------------------------
WORK=$(mktemp -d /tmp/mdmsched-slurm.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK"/{munge,spool,state,log,out}
chown munge:munge "$WORK/munge"
chmod 755 "$WORK/munge"   # munged: the socket folder must be searchable by all
MUNGE_SOCKET=$WORK/munge/munge.socket
PIDS=()

cleanup() {
  local status=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -f "${SLURM_CONF}" ]; then
    timeout 10 scancel --user root >/dev/null 2>&1
  fi
  # reverse order: slurmd, slurmctld, munged
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [ -n "${CONF_WRITTEN:-}" ]; then
    for file in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
      grep -qF "$MARKER" "$file" 2>/dev/null && cp "$file" "$WORK/" && rm -f "$file"
    done
  fi
  if [ "$status" != 0 ]; then
    echo "--- slurmctld log (tail)"; tail -n 30 "$WORK/log/slurmctld.log" 2>/dev/null
    echo "--- slurmd log (tail)"; tail -n 30 "$WORK/log/slurmd.log" 2>/dev/null
    echo "slurm.sh: logs kept in $WORK"
  elif [ -z "${KEEP_SLURM_WORK:-}" ]; then
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install -o munge -g munge -m 400 /dev/null "$WORK/munge/munge.key"
dd if=/dev/urandom bs=1 count=1024 2>/dev/null >"$WORK/munge/munge.key"

# The node as slurmd sees it (CPUs, memory), less a margin for the OS and the snakemake process.
cpus=$(timeout 30 slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -n1)
memory=$(timeout 30 slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
memory=$((memory > 4096 ? memory - 2048 : memory * 3 / 4))
port=$((20000 + RANDOM % 20000))

# The configuration must sit at SLURM's compiled-in path: the plugin's job step strips SLURM_CONF from
# the environment of the `srun` it runs inside each job. We never overwrite a configuration we did
# not write (a real cluster's), and remove ours on exit.
MARKER="# written by mdmsched .ci/slurm.sh"
export SLURM_CONF=/etc/slurm/slurm.conf
for file in "$SLURM_CONF" /etc/slurm/gres.conf; do
  if [ -e "$file" ] && ! grep -qF "$MARKER" "$file"; then
    fail "$file exists and is not ours: this machine has its own SLURM configuration"
  fi
done
mkdir -p /etc/slurm
CONF_WRITTEN=1
cat >"$SLURM_CONF" <<EOF
$MARKER
ClusterName=mdmsched-ci
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
# One fake GPU (no device file): lets the profile's GPU requests for training rules be scheduled
# here; torch then finds no CUDA device and trains on the CPU.
printf '%s\n%s\n' "$MARKER" "NodeName=localhost Name=gpu File=/dev/null" >/etc/slurm/gres.conf

# --- 3. start munged, slurmctld, slurmd ------------------------------------------------------------
say "starting munged, slurmctld, slurmd (cluster in $WORK, port $port, $cpus CPUs, ${memory} MB)"
timeout 30 runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_SOCKET" --key-file="$WORK/munge/munge.key" \
  --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munged.seed"
for _ in $(seq 100); do [ -s "$WORK/munge/munged.pid" ] && break; sleep 0.1; done
[ -s "$WORK/munge/munged.pid" ] || fail "munged did not start"
PIDS+=("$(cat "$WORK/munge/munged.pid")")
timeout 10 munge --socket="$MUNGE_SOCKET" -n | timeout 10 unmunge --socket="$MUNGE_SOCKET" >/dev/null ||
  fail "munge does not work"

slurmctld -D -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 &
PIDS+=("$!")
slurmd -D -f "$SLURM_CONF" -N localhost >"$WORK/log/slurmd.out" 2>&1 &
PIDS+=("$!")

state=""
for _ in $(seq 120); do
  state=$(timeout 5 sinfo -h -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  case "$state" in *drain* | *inval* | *down*) fail "the node is $state: $(sinfo -h -R -o %E)" ;; esac
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a daemon exited (PID $pid)"; done
  sleep 0.5
done
[ "$state" = idle ] || fail "the node is not idle after 60 s (state: '${state}')"
say "cluster up: $(timeout 10 sinfo -h -o '%P %D %T %c CPUs %m MB %G')"

# --- 4. the smoke workflow through SLURM -----------------------------------------------------------
OUT=$WORK/out
dirs() { echo "results_dir=$1/results" "reports_dir=$1/reports" "figures_dir=$1/figures"; }
# The profile's first status check waits 40 s (sensible on a shared cluster); a few seconds here.
# --jobs equals the node's CPUs; every rule asks for 1 CPU (threads).
# A second profile keeps the profile's set-resources, capped to this node (a request larger than any
# node is rejected by sbatch), and adds one GPU request: the index job asks for a GPU exactly as the
# training rules do, so the plugin's --gpus path is exercised on the fake GPU.
mkdir -p "$WORK/ci-profile"
"$REPO/.venv/bin/python" - "$REPO/profiles/slurm/config.yaml" "$WORK/ci-profile/config.yaml" "$cpus" "$memory" <<'PY'
import sys, yaml
profile = yaml.safe_load(open(sys.argv[1]))
capacity = {"cpus_per_gpu": int(sys.argv[3]), "cpus_per_task": int(sys.argv[3]), "mem_mb": int(sys.argv[4]) // 2}
resources = {}
for rule, values in (profile.get("set-resources") or {}).items():
    resources[rule] = {key: min(value, capacity[key]) if key in capacity and isinstance(value, int) else value
                       for key, value in values.items()}
resources["index"] = {**resources.get("index", {}), "gpu": 1}
yaml.safe_dump({"set-resources": resources}, open(sys.argv[2], "w"))
PY
SLURM_ARGS=(--profile profiles/slurm --profile "$WORK/ci-profile" --configfile "$CONFIGFILE"
  --slurm-init-seconds-before-status-checks 2 --slurm-logdir "$OUT/slurm_logs" --slurm-keep-successful-logs
  --jobs "$cpus" --max-threads "$cpus" --latency-wait 10)
# shellcheck disable=SC2046
expected=$("$SNAKEMAKE" "${SLURM_ARGS[@]}" --config $(dirs "$OUT/slurm") --dry-run --quiet rules 2>/dev/null |
  awk '$1 == "total" {print $2; exit}')
[ -n "$expected" ] || fail "could not count the jobs of the smoke DAG"
say "running $CONFIGFILE through SLURM ($expected jobs, including the local 'all')"
t0=$SECONDS
# shellcheck disable=SC2046
timeout --kill-after=30 "$WORKFLOW_TIMEOUT" "$SNAKEMAKE" "${SLURM_ARGS[@]}" --config $(dirs "$OUT/slurm") \
  >"$OUT/snakemake-slurm.log" 2>&1 || {
  tail -n 60 "$OUT/snakemake-slurm.log"
  fail "the SLURM run failed or timed out (${WORKFLOW_TIMEOUT} s); log: $OUT/snakemake-slurm.log"
}
slurm_seconds=$((SECONDS - t0))
say "SLURM run finished in ${slurm_seconds} s"

# --- 5. did the jobs really go through SLURM? -----------------------------------------------------
submitted=$(grep -oE "submitted with SLURM jobid [0-9]+" "$OUT/snakemake-slurm.log" | awk '{print $5}' | sort -u)
n_submitted=$(echo "$submitted" | grep -c . || true)
completed=$(timeout 10 squeue -h --states=all -o "%i %T" | awk '$2 == "COMPLETED" {print $1}' | sort -u)
n_completed=$(echo "$completed" | grep -c . || true)
n_ctld=$(grep -cE "_slurm_rpc_submit_batch_job: JobId=[0-9]+" "$WORK/log/slurmctld.log" || true)
local_jobs=$(grep -cE "^localrule " "$OUT/snakemake-slurm.log" || true)
echo "snakemake: $n_submitted SLURM job ids; squeue: $n_completed COMPLETED; slurmctld log: $n_ctld submissions;" \
  "$local_jobs local job(s) of $expected"
[ "$n_submitted" -ge 1 ] || fail "snakemake reports no SLURM job ids"
[ "$n_submitted" = "$n_completed" ] || fail "snakemake submitted $n_submitted jobs but SLURM completed $n_completed"
[ "$submitted" = "$completed" ] || fail "the job ids snakemake reports differ from those SLURM completed"
[ "$n_ctld" = "$n_submitted" ] || fail "slurmctld logged $n_ctld submissions, snakemake $n_submitted"
[ $((n_submitted + local_jobs)) = "$expected" ] ||
  fail "$n_submitted SLURM + $local_jobs local jobs, but the DAG has $expected"
index_job=$(grep -oE "submitted with SLURM jobid [0-9]+ \(log: [^)]*rule_index/" "$OUT/snakemake-slurm.log" | awk '{print $5}')
[ -n "$index_job" ] || fail "no SLURM job for the index rule"
# what the job asked SLURM for (finished jobs no longer show allocations; the node has exactly one GPU,
# so a job asking for one either got it or would never have started)
has_gpu() { timeout 10 scontrol show job "$1" | grep -qE "TresPer(Job|Node|Task)=.*gpu(:[^ ,]*)?:1"; }
n_gpu=0
for job in $submitted; do
  if has_gpu "$job"; then n_gpu=$((n_gpu + 1)); fi
done
has_gpu "$index_job" || {
  timeout 10 scontrol show job "$index_job"
  fail "the index job ($index_job) did not get the GPU its set-resources asked for"
}
echo "GPU requests through the profile: $n_gpu job(s) asked for and ran with a GPU (the index job $index_job among them)"

# --- 6. identical tables to a local run -----------------------------------------------------------
if [ -n "${LOCAL_RESULTS:-}" ]; then
  local_tables=$LOCAL_RESULTS/tables
  say "comparing with the local run in $LOCAL_RESULTS"
else
  say "running $CONFIGFILE locally for comparison"
  t0=$SECONDS
  # shellcheck disable=SC2046
  timeout --kill-after=30 "$WORKFLOW_TIMEOUT" "$SNAKEMAKE" --cores "$cpus" --configfile "$CONFIGFILE" \
    --config $(dirs "$OUT/local") >"$OUT/snakemake-local.log" 2>&1 || {
    tail -n 60 "$OUT/snakemake-local.log"
    fail "the local run failed"
  }
  say "local run finished in $((SECONDS - t0)) s"
  local_tables=$OUT/local/results/tables
fi
n_tables=0
for table in "$OUT"/slurm/results/tables/*.csv; do
  [ -f "$table" ] || fail "the SLURM run wrote no tables"
  cmp -s "$table" "$local_tables/$(basename "$table")" ||
    fail "$(basename "$table") differs between the SLURM and the local run"
  n_tables=$((n_tables + 1))
done
for figure in "$OUT"/slurm/figures/*.png; do [ -s "$figure" ] || fail "no figures from the SLURM run"; done
[ -s "$OUT/slurm/reports/index.html" ] || fail "no reports/index.html from the SLURM run"
say "OK: $n_submitted SLURM jobs, $n_tables identical tables, SLURM run ${slurm_seconds} s"
