#!/usr/bin/env bash
# A throwaway S3 API for tests, benchmarks and trying Portal with Storage:Kind=S3: a single-node Ceph
# (one monitor + one memstore OSD, data in memory) and radosgw, all on 127.0.0.1, no systemd.
# Debian 12: apt-get install -y radosgw ceph-mon ceph-osd   (ceph 16.2, about 30 s, 78 MB)
#
#   ops/s3/ceph-s3.sh start DIR [RGW_PORT] [MON_PORT]   prints "S3_ENDPOINT=http://127.0.0.1:PORT" when ready
#   ops/s3/ceph-s3.sh stop DIR                           stops exactly what start started (pid files in DIR/run)
# Keys: access PORTALKEY, secret PORTALSECRET (S3_ACCESS_KEY/S3_SECRET_KEY override them); region us-east-1,
# path-style. Ports default to free ones (each from a random start), so two runs on one machine do not collide.
set -euo pipefail
CMD=${1:?usage: ceph-s3.sh start|stop DIR [RGW_PORT] [MON_PORT]}
D=${2:?usage: ceph-s3.sh start|stop DIR [RGW_PORT] [MON_PORT]}
C="$D/ceph.conf"
export PATH="$PATH:/usr/sbin:/sbin"

stop() {
  local n pid
  for n in rgw osd mon; do
    pid=$(cat "$D/run/$n.pid" 2>/dev/null) || continue
    # only signal a live process of ours: the pid may have been reused since
    if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" =~ ^(radosgw|ceph-osd|ceph-mon)$ ]]; then
      kill "$pid" 2>/dev/null || true
      for _ in {1..20}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$D/run/$n.pid"
  done
}
if [[ $CMD == stop ]]; then stop; exit 0; fi
[[ $CMD == start ]] || { echo "unknown command $CMD" >&2; exit 2; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$1; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"; }
# A random start, as for the monitor: two of these starting at once (two test runs) must not both pick 7480.
RGW_PORT=${3:-$(free_port $((20000 + RANDOM % 20000)))}
# Not Ceph's usual 6789: a monitor of another cluster there (someone else's test) could answer our OSD.
MON_PORT=${4:-$(free_port $((20000 + RANDOM % 20000)))}
ACCESS=${S3_ACCESS_KEY:-PORTALKEY}
SECRET=${S3_SECRET_KEY:-PORTALSECRET}

rm -rf "$D"; mkdir -p "$D"/{run,log,mon,osd,rgw}
failed() {
  echo "ceph-s3: start failed; last lines of the logs in $D/log:" >&2
  tail -n 5 "$D"/log/*.log "$D"/log/*.stdout >&2 2>/dev/null || true
  stop
}
trap failed ERR
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$C" <<EOF
[global]
fsid = $FSID
mon initial members = a
mon host = v1:127.0.0.1:$MON_PORT
public network = 127.0.0.0/8
ms bind ipv6 = false
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 5
run dir = $D/run
admin socket = $D/run/\$cluster-\$name.asok
log file = $D/log/\$cluster-\$name.log
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$cluster-\$id
keyring = $D/keyring
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 256
osd max object namespace len = 64

[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
# Give up (and let the caller retry) rather than hang for radosgw's default 5 minutes.
rgw init timeout = 150
EOF
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon -c "$C" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
nohup ceph-mon -c "$C" -i a -f >"$D/log/mon.stdout" 2>&1 </dev/null & echo $! >"$D/run/mon.pid"
timeout 120 ceph -c "$C" mon stat >/dev/null
OSDUUID=$(cat /proc/sys/kernel/random/uuid)
ID=$(ceph -c "$C" osd new "$OSDUUID")
start_osd() {
  rm -rf "$D/osd/ceph-$ID"; mkdir -p "$D/osd/ceph-$ID"
  ceph-osd -c "$C" -i "$ID" --mkfs --osd-uuid "$OSDUUID" >>"$D/log/osd-mkfs.log" 2>&1
  nohup ceph-osd -c "$C" -i "$ID" -f >>"$D/log/osd.stdout" 2>&1 </dev/null & echo $! >"$D/run/osd.pid"
}
start_osd
osd_restarts=0
nohup radosgw -c "$C" -n client.rgw.gw -f >"$D/log/rgw.stdout" 2>&1 </dev/null & echo $! >"$D/run/rgw.pid"
ready=0
# Usually 12 s in all; on a busy machine (test.sh starts this while the solution builds) it has taken
# over 90 s, most of it radosgw creating its pools: wait up to 160 s (radosgw gives up after 150).
for _ in $(seq 1 640); do
  # Ours must still be running when the port answers (another radosgw could have taken the port meanwhile).
  kill -0 "$(cat "$D/run/rgw.pid")" 2>/dev/null || { echo "ceph-s3: radosgw exited" >&2; break; }
  # On a busy machine the OSD has sent its first command before it knew the cluster's fsid (the monitor logs
  # "handle_command on fsid 0000…"), and exited ("unable to update_crush_device_class"); radosgw would then wait
  # its whole init timeout for it. Start the OSD again instead.
  if ! kill -0 "$(cat "$D/run/osd.pid")" 2>/dev/null; then
    ((++osd_restarts <= 3)) || { echo "ceph-s3: the OSD exited $osd_restarts times" >&2; break; }
    echo "ceph-s3: the OSD exited during start-up; starting it again" >&2
    start_osd
  fi
  curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/" && kill -0 "$(cat "$D/run/rgw.pid")" 2>/dev/null && { ready=1; break; }
  sleep 0.25
done
((ready)) || { echo "ceph-s3: radosgw did not answer on 127.0.0.1:$RGW_PORT" >&2; false; }
# Bounded: without a working OSD it would wait for ever.
timeout 120 radosgw-admin -c "$C" user create --uid=portal --display-name="Portal" \
  --access-key="$ACCESS" --secret-key="$SECRET" >"$D/log/user.json"
trap - ERR
echo "S3_ENDPOINT=http://127.0.0.1:$RGW_PORT"
