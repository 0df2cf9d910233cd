#!/usr/bin/env bash
# The floor: the same docker commands the built-in steps issue, from a plain
# shell over ssh, hosts in parallel where Swarm allows. One connection per node
# for the whole run (OpenSSH ControlMaster), as the harness keeps one per node:
# the first command to a node pays its handshake, the others do not. Every
# master is closed at exit.
# Arguments reach the node through its shell: quote what holds spaces twice.
# `converge` is the barrier floor: each step waits for every host of the step before.
# `converge-pipelined` is the same work ordered by the converge graph (the true critical path):
# the workers join as soon as the leader hands out a token, beside the serial manager joins,
# and each manager drains itself right after its own join.
# Usage: floor.sh converge|converge-pipelined|idempotence|node-roles|leave KEY LEADER "MANAGERS" "WORKERS"
set -euo pipefail
action=$1 key=$2 leader=$3 managers=$4 workers=$5
control=$(mktemp -d /tmp/sm-floor.XXXXXX)
opts=(-i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes
  -o ControlMaster=auto -o "ControlPath=$control/%h" -o ControlPersist=yes)
close() {
  for n in $leader $managers $workers; do ssh "${opts[@]}" -O exit "root@$n" >/dev/null 2>&1 || true; done
  rm -rf "$control"
}
trap close EXIT
s() { ssh "${opts[@]}" "root@$1" "${@:2}"; }
case "$action" in
  converge)
    s "$leader" docker swarm init --advertise-addr "$leader" --listen-addr "$leader:2377" >/dev/null
    mt=$(s "$leader" docker swarm join-token -q manager) && wt=$(s "$leader" docker swarm join-token -q worker)
    for m in $managers; do s "$m" docker swarm join --token "$mt" --advertise-addr "$m" --listen-addr "$m:2377" "$leader:2377" >/dev/null; done
    for w in $workers; do s "$w" docker swarm join --token "$wt" --advertise-addr "$w" --listen-addr "$w:2377" "$leader:2377" >/dev/null & done; wait
    for id in $(s "$leader" docker node ls --filter role=manager --format '{{.ID}}'); do s "$leader" docker node update --availability drain "$id" >/dev/null & done; wait
    ;;
  converge-pipelined)
    # A manager drains itself: it is one the moment it has joined (no round trip to the leader for its ID).
    drain_self='docker node update --availability drain $(docker info --format "{{.Swarm.NodeID}}") >/dev/null'
    s "$leader" docker swarm init --advertise-addr "$leader" --listen-addr "$leader:2377" >/dev/null
    s "$leader" "$drain_self" &
    wt=$(s "$leader" docker swarm join-token -q worker)
    for w in $workers; do s "$w" docker swarm join --token "$wt" --advertise-addr "$w" --listen-addr "$w:2377" "$leader:2377" >/dev/null & done
    mt=$(s "$leader" docker swarm join-token -q manager)
    for m in $managers; do
      s "$m" docker swarm join --token "$mt" --advertise-addr "$m" --listen-addr "$m:2377" "$leader:2377" >/dev/null
      s "$m" "$drain_self" &
    done
    wait
    ;;
  idempotence)
    for n in $leader $managers $workers; do s "$n" docker info --format "'{{json .Swarm}}'" >/dev/null & done; wait
    ;;
  node-roles)
    s "$leader" docker node ls >/dev/null
    ;;
  leave)
    for n in $workers $managers $leader; do s "$n" docker swarm leave --force >/dev/null 2>&1 || true; done
    ;;
esac
