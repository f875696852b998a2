#!/usr/bin/env bash
# Runs a real single-node Slurm (slurm-wlm + munge on localhost): a 4-task job array of
# `skillforge build --shard auto`, a dependent `skillforge merge --shards 4`, and compares the merged
# outputs with an unsharded build byte for byte. Needs root. Usage: .ci/slurm-integration.sh [SKILLFORGE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${1:-$root/.build/debug/skillforge}
[ -x "$bin" ] || { echo "build skillforge first (swift build)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")   # the jobs run in another directory

export DEBIAN_FRONTEND=noninteractive
command -v slurmctld >/dev/null || apt-get install -y -qq slurm-wlm munge >/dev/null

work=$(mktemp -d /tmp/skillforge-slurm.XXXXXX)
cleanup() {
  scancel --user=root >/dev/null 2>&1 || true
  for p in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munged.pid; do
    [ -f "$p" ] || continue
    pid=$(cat "$p")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# munge: key, directories, daemon as the munge user.
mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
chown -R munge: /etc/munge /run/munge /var/log/munge /var/lib/munge
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
# Reuse a munged that is already running (a developer's machine); otherwise start one and stop it at the end.
if ! (munge -n 2>/dev/null | unmunge >/dev/null 2>&1); then
  su -s /bin/sh munge -c /usr/sbin/munged
  sleep 1
  pgrep -u munge -n munged > "$work/munged.pid" || true
  munge -n | unmunge >/dev/null
fi

host=$(hostname)
mem=$(awk '/MemTotal/ {print int($2/1024) - 512}' /proc/meminfo)
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=skillforge
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld
slurmd
for _ in $(seq 1 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done

# The corpus: the sample pipeline's inputs split over more files, so four shards have work.
mkdir -p "$work/project/samples"
"$bin" samples --to "$work/project/samples" --tasks 120 --seed 5 >/dev/null
cat > "$work/project/p.yaml" <<YAML
version: 1
name: slurm
inputs:
  - path: samples/part-*.jsonl
    outcomes: samples/outcomes.jsonl
outputs:
  sft: {style: trajectory-sft}
  instruct: {style: conifer}
YAML
"$bin" samples --to "$work/project/samples-b" --tasks 60 --seed 6 >/dev/null
for f in "$work"/project/samples-b/part-*.jsonl; do cp "$f" "$work/project/samples/part-b-$(basename "$f")"; done

cd "$work/project"
cat > shard.sh <<SH
#!/bin/bash
cd $work/project && exec $bin build p.yaml --out out --shard auto --shards 4 --quiet
SH
cat > merge.sh <<SH
#!/bin/bash
cd $work/project && exec $bin merge p.yaml --out out --shards 4 --quiet
SH
chmod +x shard.sh merge.sh
array=$(sbatch --parsable --array=0-3 -o "$work/shard-%a.log" shard.sh)
merge=$(sbatch --parsable --dependency=afterok:"$array" -o "$work/merge.log" merge.sh)
echo "submitted array job $array and merge job $merge"
for _ in $(seq 1 300); do
  [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
  if squeue -h -j "$merge" -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
    echo "slurm integration: a shard job failed, so the merge can never run" >&2
    cat "$work"/shard-*.log >&2 || true
    exit 1
  fi
  sleep 1
done
cat "$work"/shard-*.log "$work/merge.log" 2>/dev/null || true
ls out/shards/slurm/4/

"$bin" build p.yaml --out plain --quiet --no-cache
if diff -r out/datasets plain/datasets >/dev/null; then
  echo "slurm integration: 4 shards + merge give the same bytes as the unsharded build"
else
  echo "slurm integration: outputs differ" >&2
  diff -r out/datasets plain/datasets | head >&2
  exit 1
fi
