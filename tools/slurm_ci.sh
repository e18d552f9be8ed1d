#!/usr/bin/env bash
# Install SLURM and munge (Debian packages) if missing, and write a single-node cluster with two fake GPUs
# into DIR: slurm.conf, gres.conf, a munge key, state and log directories. Needs root. Nothing is
# written outside DIR (the packages aside) and no daemon is started: tests/slurm_cluster.py starts
# them with SLURM_CONF=DIR/slurm.conf, stops them by PID and removes DIR (and its link to the config).
#
# The node is declared bigger than the machine (SlurmdParameters=config_overrides, memory not
# a consumable resource) so the paper-scale resource requests of profiles/slurm are accepted
# unchanged; only the partition names differ from a real cluster's (ci_cpu, ci_gpu).
set -euo pipefail
DIR=${1:?usage: tools/slurm_ci.sh DIR}

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    # The packages' scripts must not start their daemons: they would outlive the test.
    added_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
    if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# munged runs as user munge: it must reach DIR and own its private directory (key, seed, log) and its
# socket directory (which every client must be able to enter).
chmod 755 "$DIR"
mkdir -p "$DIR/ctld" "$DIR/d" "$DIR/log" "$DIR/munge" "$DIR/munge-socket"
mungekey --create --keyfile="$DIR/munge/munge.key"
chmod 600 "$DIR/munge/munge.key"
chmod 700 "$DIR/munge"
chmod 755 "$DIR/munge-socket"
chown -R munge:munge "$DIR/munge" "$DIR/munge-socket"
NODE=$(hostname -s)

cat >"$DIR/slurm.conf" <<CONF
# Written by tools/slurm_ci.sh: single-node CI cluster, daemons run as root without systemd.
ClusterName=latentfacts-ci
SlurmctldHost=$NODE
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge-socket/munge.socket.2
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
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
NodeName=$NODE CPUs=16 RealMemory=256000 Gres=gpu:fakegpu:2 State=UNKNOWN
PartitionName=ci_cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=ci_gpu Nodes=$NODE MaxTime=INFINITE State=UP
CONF

cat >"$DIR/gres.conf" <<CONF
AutoDetect=off
NodeName=$NODE Name=gpu Type=fakegpu File=/dev/null
NodeName=$NODE Name=gpu Type=fakegpu File=/dev/zero
CONF

echo "SLURM configured in $DIR (node $NODE, partitions ci_cpu, ci_gpu)"
