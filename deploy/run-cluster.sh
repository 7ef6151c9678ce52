#!/usr/bin/env bash
# A local OrleansRooms cluster on 127.0.0.1: one redis-server (Orleans membership, no persistence), N gateways (each
# co-hosting an Orleans silo) from one `dotnet publish`, optionally M grain-only silos (src/Silo/Host) and nginx in
# front (deploy/nginx). Needs dotnet, redis-server, curl, and nginx for --nginx.
#
#   deploy/run-cluster.sh [start] [-n N] [--silos M] [--base-port 3001] [--silo-port BASE+10000] [--redis-port 6379]
#                         [--nginx] [--nginx-port 3000] [--run-dir DIR] [--app DIR] [--silo-app DIR] [--foreground]
#   deploy/run-cluster.sh stop   [--run-dir DIR]
#   deploy/run-cluster.sh status [--run-dir DIR]
#
# start runs everything in the background and returns once every gateway's and silo's /healthz says Healthy. On a run
# directory whose cluster is up it changes nothing; where part of it is down (a gateway, a silo, nginx) it starts that
# part again, as it was; where redis is down it starts the whole cluster anew. --foreground stays attached and stops
# everything on Ctrl-C. status lists each process and exits 1 when any of them is down or unhealthy, 3 when nothing runs.
# Gateway i serves HTTP on base-port+i-1 and its silo listens on silo-port+i-1; grain-only silo j serves /healthz on
# base-port+N+j-1 and listens on silo-port+N+j-1. --app and --silo-app run existing build outputs (directories with
# OrleansRooms.Gateway.Host.dll, OrleansRooms.Silo.Host.dll) instead of publishing.
# Logs, pid files, redis's directory and nginx's prefix live in the run directory (default artifacts/cluster).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin" # Debian installs nginx in /usr/sbin, outside a normal user's PATH

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command="start"
gateways=3
silos=0
base_port=3001
silo_port=""
redis_port=6379
with_nginx=0
nginx_port=3000
run_dir="$root/artifacts/cluster"
app=""
silo_app=""
foreground=0
# One Orleans cluster per redis-server: the ids only have to match between the gateways and silos of this run.
cluster_id="orleansrooms-local"
service_id="orleansrooms"

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "run-cluster: $*" >&2; exit 1; }

if [[ $# -gt 0 && "$1" != -* ]]; then
  command="$1"
  shift
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n|--gateways) gateways="$2"; shift 2 ;;
    --silos) silos="$2"; shift 2 ;;
    --base-port) base_port="$2"; shift 2 ;;
    --silo-port) silo_port="$2"; shift 2 ;;
    --redis-port) redis_port="$2"; shift 2 ;;
    --nginx) with_nginx=1; shift ;;
    --nginx-port) nginx_port="$2"; with_nginx=1; shift 2 ;;
    --run-dir) run_dir="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    --silo-app) silo_app="$2"; shift 2 ;;
    --foreground) foreground=1; shift ;;
    -h|--help) usage ;;
    *) echo "run-cluster: unknown option $1" >&2; usage ;;
  esac
done
[[ "$gateways" =~ ^[1-9][0-9]?$ ]] || die "--gateways must be 1..99"
[[ "$silos" =~ ^[0-9][0-9]?$ ]] || die "--silos must be 0..99"
silo_port="${silo_port:-$((base_port + 10000))}"
for port in "$base_port" "$silo_port" "$redis_port" "$nginx_port"; do
  [[ "$port" =~ ^[1-9][0-9]*$ ]] || die "ports must be numbers: $port"
done
((silo_port + gateways + silos - 1 <= 65535)) || die "silo ports from $silo_port run past 65535 (use --silo-port)"
mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"
pids="$run_dir/pids"

# A pid file names a live process only if that pid still runs the command we started (pids get reused).
alive() {
  local file="$pids/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$2"
}

started() { ls "$pids"/*.pid >/dev/null 2>&1; }

# Process $1 runs: it exists and is not a zombie (a killed node whose parent, often init, has not reaped it yet).
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != [ZX] ]]
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Polls "$@" until it succeeds or `seconds` pass; fails with `what`.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || { echo "run-cluster: $what not ready within ${seconds}s" >&2; return 1; }
    sleep 0.2
  done
}

redis_pong() {
  local reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$redis_port"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [[ "$reply" == "+PONG"* ]]
}

healthy() { [[ "$(curl -fsS --max-time 2 "$1/healthz" 2>/dev/null)" == "Healthy" ]]; }

# Node `name` (gateway-i, silo-j) is healthy on `port`, and still running (a crash fails at once with its log).
node_ready() {
  running "$(cat "$pids/$1.pid")" || { tail -n 30 "$run_dir/logs/$1.log" >&2; die "$1 exited"; }
  healthy "http://127.0.0.1:$2"
}

# SIGTERM to every process of the group, then waits for each (20 s, then SIGKILL).
stop_group() {
  local name pid deadline
  for name in "$@"; do
    pid="$(cat "$pids/$name.pid")"
    if [[ -r "/proc/$pid/cmdline" ]]; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for name in "$@"; do
    pid="$(cat "$pids/$name.pid")"
    deadline=$((SECONDS + 20))
    while running "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    running "$pid" && { echo "run-cluster: $name ($pid) ignored SIGTERM, killing" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    rm -f "$pids/$name.pid"
    echo "stopped $name ($pid)"
  done
}

# Stops in order: nginx (no new requests), then the gateways and silos together (they leave the Orleans cluster
# cleanly, which needs the membership table), then redis.
stop_all() {
  [[ -d "$pids" ]] || return 0
  local nodes=() name
  [[ -f "$pids/nginx.pid" ]] && stop_group nginx
  while IFS= read -r name; do nodes+=("$name"); done < <(ls "$pids" | sed -n 's/^\(\(gateway\|silo\)-[0-9]*\)\.pid$/\1/p' | sort -V)
  ((${#nodes[@]} == 0)) || stop_group "${nodes[@]}"
  [[ -f "$pids/redis.pid" ]] && stop_group redis
  return 0
}

print_urls() {
  echo "redis      127.0.0.1:$(cat "$run_dir/redis-port")   (Orleans membership, cluster $cluster_id)"
  local kind i port silo
  while IFS=' ' read -r kind i port silo; do
    if [[ "$kind" == gateway ]]; then
      echo "gateway $i  http://127.0.0.1:$port   silo 127.0.0.1:$silo   log: $run_dir/logs/gateway-$i.log"
    else
      echo "silo $i     http://127.0.0.1:$port/silo   silo 127.0.0.1:$silo   log: $run_dir/logs/silo-$i.log"
    fi
  done <"$run_dir/nodes"
  [[ -f "$run_dir/nginx-port" ]] && echo "nginx      http://127.0.0.1:$(cat "$run_dir/nginx-port")   log: $run_dir/nginx/logs/"
  echo "stop with: $0 stop --run-dir $run_dir"
}

# gateways.conf for nginx.conf: one upstream per gateway, the pool, and the sid-prefix map.
write_gateways_conf() {
  local i
  {
    echo "# Written by deploy/run-cluster.sh for $gateways gateways from port $base_port."
    for ((i = 1; i <= gateways; i++)); do
      echo "upstream gw$i { server 127.0.0.1:$((base_port + i - 1)); keepalive 16; }"
    done
    echo "upstream gateways {"
    echo "    least_conn;"
    for ((i = 1; i <= gateways; i++)); do echo "    server 127.0.0.1:$((base_port + i - 1));"; done
    echo "    keepalive 32;"
    echo "}"
    echo "map \$arg_sid \$gateway {"
    for ((i = 1; i <= gateways; i++)); do echo "    ~^g$i\\.  gw$i;"; done
    echo "    default gateways;"
    echo "}"
  } >"$1"
}

# Publishes a host project to `output` unless a build output was given; echoes the directory holding `dll`.
publish() {
  local project="$1" output="$2" dll="$3"
  echo "publishing $project to $output" >&2
  dotnet publish "$root/$project" -c Release -o "$output" --nologo -v quiet </dev/null >"$run_dir/publish.log" 2>&1 \
    || { tail -n 30 "$run_dir/publish.log" >&2; die "dotnet publish $project failed (log: $run_dir/publish.log)"; }
  [[ -f "$output/$dll" ]] || die "$output has no $dll"
  echo "$output"
}

# The Orleans settings every node of this run shares: Redis membership, the cluster's ids, loopback addresses, and no
# client gateway endpoint (nothing here connects as an Orleans client).
orleans_environment() {
  export Orleans__ClusterId="$cluster_id"
  export Orleans__ServiceId="$service_id"
  export Orleans__Clustering__ProviderType=Redis
  export Orleans__Clustering__ConnectionString="127.0.0.1:$redis_port"
  export Orleans__Endpoints__AdvertisedIPAddress=127.0.0.1
  export Orleans__Endpoints__SiloPort="$1"
  export Orleans__Endpoints__GatewayPort=0
}

# Gateway i: HTTP on `port`, its silo on `silo`, from the published app in $app.
start_gateway() {
  local i="$1" port="$2" silo="$3"
  (
    cd "$app"
    export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
    orleans_environment "$silo"
    export SocketIO__SessionIdPrefix="g$i." # nginx routes a session's requests by this prefix
    exec dotnet OrleansRooms.Gateway.Host.dll --urls "http://127.0.0.1:$port"
  ) </dev/null >>"$run_dir/logs/gateway-$i.log" 2>&1 &
  echo $! >"$pids/gateway-$i.pid"
}

# Grain-only silo i: /healthz on `port`, the silo on `silo`, from the published app in $silo_app.
start_silo() {
  local i="$1" port="$2" silo="$3"
  (
    cd "$silo_app"
    export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
    orleans_environment "$silo"
    exec dotnet OrleansRooms.Silo.Host.dll --urls "http://127.0.0.1:$port"
  ) </dev/null >>"$run_dir/logs/silo-$i.log" 2>&1 &
  echo $! >"$pids/silo-$i.pid"
}

# nginx on $nginx_port in front of the $gateways gateways from $base_port.
start_nginx() {
  local prefix="$run_dir/nginx"
  mkdir -p "$prefix/logs" "$prefix/temp"
  # The committed config, listening on the chosen loopback port, with upstreams for these gateways.
  sed "s/^\(\s*\)listen 3000;/\1listen 127.0.0.1:$nginx_port;/" "$root/deploy/nginx/nginx.conf" >"$prefix/nginx.conf"
  write_gateways_conf "$prefix/gateways.conf"
  nginx -t -q -c "$prefix/nginx.conf" -p "$prefix/" -e "$prefix/logs/error.log" \
    || die "nginx rejected $prefix/nginx.conf (see $prefix/logs/error.log)"
  nginx -c "$prefix/nginx.conf" -p "$prefix/" -e "$prefix/logs/error.log" -g "daemon off;" </dev/null >/dev/null 2>&1 &
  echo $! >"$pids/nginx.pid"
  echo "$nginx_port" >"$run_dir/nginx-port"
}

# Waits until every node of the run is healthy (a node that exits fails at once, with its log).
wait_for_nodes() {
  local kind i port silo
  while IFS=' ' read -r kind i port silo; do
    wait_for 60 "$kind $i" node_ready "$kind-$i" "$port"
  done <"$run_dir/nodes"
}

# The parts of a started run that are down, started again as they were: its gateways, silos and nginx. Redis runs.
repair() {
  app="$(cat "$run_dir/app-dir")"
  silo_app="$(cat "$run_dir/silo-app-dir" 2>/dev/null || true)"
  # The run's own layout, whatever this call's options say.
  redis_port="$(cat "$run_dir/redis-port")"
  gateways="$(grep -c '^gateway ' "$run_dir/nodes")"
  base_port="$(awk '$1 == "gateway" && $2 == 1 { print $3 }' "$run_dir/nodes")"
  [[ -f "$run_dir/nginx-port" ]] && { with_nginx=1; nginx_port="$(cat "$run_dir/nginx-port")"; }

  local kind i port silo restarted=()
  while IFS=' ' read -r kind i port silo; do
    [[ -f "$pids/$kind-$i.pid" ]] && running "$(cat "$pids/$kind-$i.pid")" && continue
    ! port_busy "$port" || die "$kind $i is down but its port $port is in use"
    if [[ "$kind" == gateway ]]; then start_gateway "$i" "$port" "$silo"; else start_silo "$i" "$port" "$silo"; fi
    restarted+=("$kind-$i")
  done <"$run_dir/nodes"
  if ((with_nginx)) && ! alive nginx nginx; then
    ! port_busy "$nginx_port" || die "nginx is down but its port $nginx_port is in use"
    restarted+=(nginx)
  fi
  if ((${#restarted[@]} == 0)); then
    echo "already running (run dir $run_dir)"
    print_urls
    return 0
  fi

  echo "restarting what is down: ${restarted[*]}"
  wait_for_nodes
  if [[ " ${restarted[*]} " == *" nginx "* ]]; then
    start_nginx
    wait_for 10 "nginx on port $nginx_port" healthy "http://127.0.0.1:$nginx_port"
  fi
  print_urls
}

start() {
  if started; then
    if alive redis redis-server && [[ -f "$run_dir/app-dir" && -f "$run_dir/nodes" ]]; then
      repair
      return 0
    fi
    echo "redis of the previous run in $run_dir is down: starting the cluster anew"
    stop_all
  fi

  command -v dotnet >/dev/null || die "dotnet is not installed"
  command -v redis-server >/dev/null || die "redis-server is not installed (sudo apt-get install -y redis-server)"
  command -v curl >/dev/null || die "curl is not installed (sudo apt-get install -y curl)"
  ((with_nginx == 0)) || command -v nginx >/dev/null || die "nginx is not installed (sudo apt-get install -y nginx)"
  local ports=("$redis_port") i
  for ((i = 0; i < gateways + silos; i++)); do ports+=($((base_port + i)) $((silo_port + i))); done
  ((with_nginx == 0)) || ports+=("$nginx_port")
  for i in "${ports[@]}"; do
    ! port_busy "$i" || die "port $i is already in use"
  done

  if [[ -z "$app" ]]; then
    app="$(publish src/Gateway/Host "$run_dir/app" OrleansRooms.Gateway.Host.dll)"
  fi
  app="$(cd "$app" && pwd)"
  [[ -f "$app/OrleansRooms.Gateway.Host.dll" ]] || die "$app has no OrleansRooms.Gateway.Host.dll"
  if ((silos > 0)); then
    if [[ -z "$silo_app" ]]; then
      silo_app="$(publish src/Silo/Host "$run_dir/silo-app" OrleansRooms.Silo.Host.dll)"
    fi
    silo_app="$(cd "$silo_app" && pwd)"
    [[ -f "$silo_app/OrleansRooms.Silo.Host.dll" ]] || die "$silo_app has no OrleansRooms.Silo.Host.dll"
  fi

  # From here on, a failure (set -e, die, a crashed node) stops whatever was started.
  starting=1
  trap 'if ((starting)); then echo "run-cluster: start failed, stopping what was started" >&2; stop_all; fi' EXIT
  mkdir -p "$pids" "$run_dir/logs" "$run_dir/redis"
  # A new run's logs start empty; a node started again by a later start appends to its own.
  rm -f "$run_dir/nginx-port" "$run_dir/silo-app-dir" "$run_dir"/logs/*.log
  echo "$redis_port" >"$run_dir/redis-port"
  : >"$run_dir/nodes"

  # Children get /dev/null and log files, never this script's stdout: whoever reads it sees its end when we exit.
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir/redis" --save "" --appendonly no \
    --daemonize no --logfile "$run_dir/redis/redis.log" </dev/null >/dev/null 2>&1 &
  echo $! >"$pids/redis.pid"
  wait_for 10 "redis-server on port $redis_port" redis_pong

  echo "$app" >"$run_dir/app-dir"
  [[ -z "$silo_app" ]] || echo "$silo_app" >"$run_dir/silo-app-dir"

  local port silo
  for ((i = 1; i <= gateways; i++)); do
    port=$((base_port + i - 1))
    silo=$((silo_port + i - 1))
    start_gateway "$i" "$port" "$silo"
    echo "gateway $i $port $silo" >>"$run_dir/nodes"
  done
  for ((i = 1; i <= silos; i++)); do
    port=$((base_port + gateways + i - 1))
    silo=$((silo_port + gateways + i - 1))
    start_silo "$i" "$port" "$silo"
    echo "silo $i $port $silo" >>"$run_dir/nodes"
  done
  wait_for_nodes

  if ((with_nginx)); then
    start_nginx
    wait_for 10 "nginx on port $nginx_port" healthy "http://127.0.0.1:$nginx_port"
  fi
  starting=0

  print_urls
  if ((foreground)); then
    trap 'echo; stop_all; exit 0' INT TERM
    echo "running in the foreground: Ctrl-C stops everything"
    while alive redis redis-server; do sleep 1; done
    echo "redis-server exited" >&2
    stop_all
    exit 1
  fi
}

# Each process of the run, up or DOWN (a gateway or silo is up when it runs and its /healthz says Healthy).
status() {
  started || { echo "not running (run dir $run_dir)"; exit 3; }
  print_urls
  local down=0 f name up port
  for f in "$pids"/*.pid; do
    name="$(basename "$f" .pid)"
    up=0
    if running "$(cat "$f")"; then
      port="$(awk -v n="$name" '$1 "-" $2 == n { print $3 }' "$run_dir/nodes")"
      if [[ -z "$port" ]] || healthy "http://127.0.0.1:$port"; then up=1; fi
    fi
    if ((up)); then echo "$name up"; else echo "$name DOWN"; down=1; fi
  done
  ((down == 0)) || exit 1
}

case "$command" in
  start) start ;;
  stop) stop_all ;;
  status) status ;;
  *) usage ;;
esac
