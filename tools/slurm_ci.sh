#!/usr/bin/env bash
# Install and configure a single-node SLURM with one fake GPU, for the SLURM profile's tests.
# Needs root (CI runs as root) and Debian packages. Idempotent. Does not start any daemon:
# tests/slurm_cluster.py starts and stops them by PID.
#
# The node is declared bigger than the machine (SlurmdParameters=config_overrides, memory not
# a consumable resource) so the paper-scale resource requests of profiles/slurm are accepted
# unchanged; only the partition names differ from a real cluster's (ci_cpu, ci_gpu).
set -euo pipefail

STATE=/var/lib/latentfacts-slurm-ci

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q slurmctld slurmd slurm-client munge
fi

# munge: a key (the package normally makes one) and the socket directory (no systemd here).
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 600 /etc/munge/munge.key
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge

mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" "$STATE/log"
NODE=$(hostname -s)

cat >/etc/slurm/slurm.conf <<EOF
# Written by tools/slurm_ci.sh: single-node CI cluster, daemons run as root without systemd.
ClusterName=latentfacts-ci
SlurmctldHost=$NODE
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay visible to squeue for 10 min (no slurmdbd, so no sacct).
MinJobAge=600
GresTypes=gpu
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
NodeName=$NODE CPUs=16 RealMemory=256000 Gres=gpu:fakegpu:1 State=UNKNOWN
PartitionName=ci_cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=ci_gpu Nodes=$NODE MaxTime=INFINITE State=UP
EOF

cat >/etc/slurm/gres.conf <<EOF
AutoDetect=off
NodeName=$NODE Name=gpu Type=fakegpu File=/dev/null
EOF

echo "SLURM configured: /etc/slurm/slurm.conf (node $NODE, partitions ci_cpu, ci_gpu), state in $STATE"
