/**
 * PID 1 of a node that runs as a container (the vagrant docker provider, the
 * docker driver). It is part of the node image at INIT_PATH; netns nodes do not
 * use it (they boot the image's root filesystem from their own init).
 * - /sys and every cgroup hierarchy are remounted read-write: the node's own
 *   dockerd needs them, and `privileged` is not available (see the Vagrantfile).
 * - A fresh tmpfs on /run: a stale docker pid file broke dockerd after halt + up.
 * - Keys come from the read-only mount the driver provides.
 * - The default route is replaced by a route to the harness only.
 * - DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: tasks use local images instead of
 *   asking a registry nodes cannot (and must not) reach.
 */
export const CONTAINER_INIT = `#!/bin/sh
set -u
# A bind remount changes the flags of this mount only ("remount,rw" alone is refused: busy).
mount -o remount,bind,rw /sys 2>/dev/null || true
for d in /sys/fs/cgroup/*; do mount -o remount,bind,rw "$d" 2>/dev/null || true; done
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mkdir -p /run/sshd /run/lock
keys=/etc/swarm-molecule
if [ -r "$keys/authorized_keys" ]; then
  install -d -m 0700 /root/.ssh
  install -m 0600 "$keys/authorized_keys" /root/.ssh/authorized_keys
fi
if [ -r "$keys/ssh_host_ed25519_key" ]; then
  install -m 0600 "$keys/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key
elif [ ! -e /etc/ssh/ssh_host_ed25519_key ]; then
  ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
fi
if [ -n "\${SWARM_MOLECULE_HARNESS:-}" ]; then
  gw=$(ip -4 route show default | awk '{ print $3; exit }')
  if [ -n "$gw" ]; then
    ip route replace "$SWARM_MOLECULE_HARNESS" via "$gw"
    ip route del default
  fi
fi
DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd >>/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e -o HostKey=/etc/ssh/ssh_host_ed25519_key -o UseDNS=no \\
  -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o PrintMotd=no -o PrintLastLog=no \\
  -o MaxSessions=200 -o MaxStartups=200
`;

export const INIT_PATH = '/usr/local/sbin/swarm-molecule-init';
