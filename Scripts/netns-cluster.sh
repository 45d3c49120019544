#!/usr/bin/env bash
# A cluster of "hosts" on one machine, made of Linux network namespaces, so multi-host Open MPI
# runs are tested for real: every host has its own network stack (loopback, one interface, an
# address on a private /24) and its own host name; the hosts reach each other only through a
# bridge, which lives in a namespace of its own, so the root namespace's network is never touched.
# Ranks must then talk over TCP: `mpirun-args` leaves out Open MPI's shared-memory BTL, which
# works between network namespaces of one kernel (Open MPI already keeps it within a host name,
# and each host has its own; `btl tcp,self` makes it certain).
#
#   Scripts/netns-cluster.sh up [HOSTS]     build HOSTS hosts (default 3), after removing any old ones
#   Scripts/netns-cluster.sh down           remove them (idempotent; kills what still runs inside)
#   Scripts/netns-cluster.sh status         hosts, addresses, link states, and how to run mpirun
#   Scripts/netns-cluster.sh exec HOST CMD  run CMD on HOST (e.g. mpirun or launch, as on a head node)
#   Scripts/netns-cluster.sh fail HOST      the host disappears: its link goes down, every process in it is killed
#
# Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2. Settings: NETNS_CLUSTER_PREFIX
# (namespace and host name prefix, default "llm"), NETNS_CLUSTER_SUBNET (first three octets,
# default 10.213.7), NETNS_CLUSTER_DIR (where hostfile, hosts and mpirun-args go,
# default /tmp/PREFIX-netns-cluster). `up` writes there:
#   hostfile      Open MPI hostfile, "PREFIX-node1 slots=2" per host
#   hosts         "ADDRESS NAME" per host; each host sees it as /etc/hosts (ip netns's /etc/netns)
#   mpirun-args   one argument a line: the rsh agent, TCP only, the bridge subnet only, short timeouts
set -euo pipefail

prefix=${NETNS_CLUSTER_PREFIX:-llm}
subnet=${NETNS_CLUSTER_SUBNET:-10.213.7}
dir=${NETNS_CLUSTER_DIR:-/tmp/$prefix-netns-cluster}
switch=$prefix-switch
scripts=$(cd "$(dirname "$0")" && pwd)

die() { echo "netns-cluster: $*" >&2; exit 1; }

# Hosts that exist now, from the namespaces (not from the state directory, which may be stale).
hosts() { ip netns list | awk '{print $1}' | grep -E "^$prefix-node[0-9]+$" | sort -V || true; }

down() {
    local ns
    for ns in $(hosts) $(ip netns list | awk '{print $1}' | grep -Fx "$switch" || true); do
        # Processes still inside (orted, ranks) would keep the namespace alive after `ip netns del`.
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
        rm -rf "/etc/netns/$ns"
    done
    # Only the files `up` writes: NETNS_CLUSTER_DIR may name a directory holding other things.
    rm -f "$dir/hostfile" "$dir/hosts" "$dir/mpirun-args"
    rmdir "$dir" /etc/netns 2>/dev/null || true
}

up() {
    local count=${1:-3} i ns
    [[ $count =~ ^[1-9]$ ]] || die "up: HOSTS must be 1..9, got '$count'"
    [[ $(id -u) == 0 ]] || die "needs root (network namespaces need CAP_NET_ADMIN); run as root"
    command -v ip >/dev/null || die "needs iproute2's ip (apt-get install iproute2)"
    down
    # A half-built cluster is removed again, whatever failed.
    trap 'down; echo "netns-cluster: up failed, removed what was built" >&2' ERR
    mkdir -p "$dir"
    ip netns add "$switch"
    ip -n "$switch" link add br0 type bridge
    ip -n "$switch" link set br0 up
    : > "$dir/hostfile"
    : > "$dir/hosts"
    for i in $(seq 1 "$count"); do
        echo "$subnet.$i $prefix-node$i" >> "$dir/hosts"
        echo "$prefix-node$i slots=2" >> "$dir/hostfile"
    done
    for i in $(seq 1 "$count"); do
        ns=$prefix-node$i
        ip netns add "$ns"
        ip -n "$switch" link add "port$i" type veth peer name eth0 netns "$ns"
        ip -n "$switch" link set "port$i" master br0 up
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$subnet.$i/24" dev eth0
        ip -n "$ns" link set eth0 up
        mkdir -p "/etc/netns/$ns"
        { echo "127.0.0.1 localhost"; cat "$dir/hosts"; } > "/etc/netns/$ns/hosts"
    done
    # Open MPI: start orted through the agent; TCP between hosts only (no shared memory), on the
    # bridge subnet only (never loopback or the machine's own interfaces); a lost host is noticed
    # in seconds (TCP keepalive on the daemons' connections) instead of minutes; and, as the hosts
    # share this machine's cores, idle ranks yield (busy-polling made every step ~4x slower).
    printf '%s\n' --mca plm_rsh_agent "$scripts/netns-rsh" --mca plm_rsh_no_tree_spawn 1 \
        --mca btl tcp,self --mca btl_tcp_if_include "$subnet.0/24" --mca oob_tcp_if_include "$subnet.0/24" \
        --mca oob_tcp_keepalive_time 2 --mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 3 \
        --mca mpi_yield_when_idle 1 \
        > "$dir/mpirun-args"
    trap - ERR
    status
}

status() {
    local ns
    [[ -n $(hosts) ]] || { echo "no hosts (run: $0 up)"; return 0; }
    for ns in $(hosts); do
        printf '%-14s %-16s link %s, %s processes\n' "$ns" \
            "$(ip -n "$ns" -4 -o addr show eth0 2>/dev/null | awk '{print $4}')" \
            "$(ip netns exec "$ns" cat /sys/class/net/eth0/operstate 2>/dev/null || echo gone)" \
            "$(ip netns pids "$ns" | wc -l)"
    done
    echo "hostfile: $dir/hostfile"
    echo "run:      $0 exec $(hosts | head -1) mpirun --hostfile $dir/hostfile \$(cat $dir/mpirun-args) -n 4 CMD"
}

# Runs a command on a host: in its network namespace and in a UTS namespace carrying its name,
# so Open MPI (which compares host names) sees separate machines.
exec_on() {
    local host=$1; shift
    hosts | grep -qFx "$host" || die "no host '$host' (hosts: $(hosts | tr '\n' ' '))"
    exec ip netns exec "$host" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" "$@"
}

fail() {
    local host=$1
    hosts | grep -qFx "$host" || die "no host '$host'"
    # The link first, as in a power loss: the processes' sockets then close without a word (no
    # FIN or RST reaches the other hosts), so the others must notice by their own timeouts.
    ip -n "$host" link set eth0 down
    ip netns pids "$host" | xargs -r kill -9 2>/dev/null || true
}

case ${1:-} in
    up) up "${2:-3}" ;;
    down) down ;;
    status) status ;;
    exec) [[ $# -ge 3 ]] || die "usage: $0 exec HOST CMD..."; shift; exec_on "$@" ;;
    fail) [[ $# -eq 2 ]] || die "usage: $0 fail HOST"; fail "$2" ;;
    *) die "usage: $0 up [HOSTS] | down | status | exec HOST CMD... | fail HOST" ;;
esac
