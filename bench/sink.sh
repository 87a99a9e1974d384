# Sourced by the bench scripts: starts Postfix's smtp-sink on a free loopback port ($port,
# process $sink), waits until it accepts connections, and stops it on exit (stop_sink).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_option=()
[ "$(id -u)" = 0 ] && user_option=(-u postfix)
smtp-sink "${user_option[@]}" -c "127.0.0.1:$port" 1000 >/dev/null 2>&1 &
sink=$!
stop_sink() { kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null || true; }
trap stop_sink EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
