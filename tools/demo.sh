#!/usr/bin/env bash
# The main job on the embedded default: a fresh deployment on 127.0.0.1, a hub, two inspectors
# who share a school and a supervisor, offline work, a conflict, a review, and the exports.
#
#   ./tools/demo.sh                 installs what is missing, builds (Release), runs the demo
#   ./tools/demo.sh --no-build      runs it with the binaries in $VS_BIN (default build-release/tools)
#   ./tools/demo.sh --dir DIR       keeps the deployment in DIR (default: a new folder in /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=1
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --dir) work="$2"; shift 2 ;;
    *) echo "demo: unknown option $1 (--no-build, --dir DIR)" >&2; exit 2 ;;
  esac
done

if [[ $build -eq 1 ]]; then
  ./tools/deps.sh
  echo "demo: building visitsync (Release)..."
  mkdir -p build-release
  if ! { cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVS_BUILD_TESTS=OFF &&
         cmake --build build-release -j2; } >build-release/demo-build.log 2>&1; then
    tail -n 40 build-release/demo-build.log >&2
    echo "demo: the build failed (whole log: build-release/demo-build.log)" >&2
    exit 1
  fi
fi
bin="${VS_BIN:-$root/build-release/tools}"
[[ "$bin" = /* ]] || bin="$root/$bin"
for t in visitsync visitsync-admin visitsync-hub; do
  [[ -x "$bin/$t" ]] || { echo "demo: $bin/$t is missing (build first)" >&2; exit 1; }
done

[[ -n "$work" ]] || work=$(mktemp -d /tmp/visitsync-demo.XXXXXX)
mkdir -p "$work"
work=$(cd "$work" && pwd)
hub_pid=""
stop_hub() {
  if [[ -n "$hub_pid" ]] && kill -0 "$hub_pid" 2>/dev/null; then
    kill -TERM "$hub_pid"
    for _ in $(seq 1 100); do kill -0 "$hub_pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$hub_pid" 2>/dev/null && kill -KILL "$hub_pid"
    wait "$hub_pid" 2>/dev/null || true
  fi
  hub_pid=""
}
trap stop_hub EXIT

if [[ -t 1 ]]; then bold=$'\033[1m'; plain=$'\033[0m'; else bold=""; plain=""; fi
say() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
run() { printf '  $ %s\n' "${*/#$bin\//}"; "$@" | sed 's/^/    /'; }
vs() { "$bin/visitsync" "$@"; }
admin() { "$bin/visitsync-admin" "$@"; }

# The project's sample deployment (schema/sample, made by `visitsync-admin sample`): its
# assignments start on 2026-09-01 and have no end, so the demo runs on any later date.
ref="$root/schema/sample"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hub="$work/hub"
school=S00011  # a junior secondary school in 代县, assigned to inspectors I0011 and I0021 (schema/sample)

ca="$work/hub-ca"  # the deployment CA's folder: init's default, beside the hub's folder

say "1. Headquarters sets up a deployment: a certificate authority, the hub's certificate and store."
run admin init --data "$hub" --hub-address "127.0.0.1:$port"
echo "    the hub's tls folder: $(ls "$hub/tls" | tr '\n' ' ')(its own key and certificate, the CA's certificate)"
echo "    the CA's folder, apart from the hub's: $(ls "$ca" | tr '\n' ' ')(the only copy of the CA's private key)"
say "   It imports the schools, inspectors and assignments, and publishes the four checklists."
for k in schools inspectors assignments; do run admin import --data "$hub" "$k" "$ref/$k.csv"; done
for t in "$root"/schema/templates/*.json; do run admin template publish --data "$hub" "$t"; done

say "2. The hub starts on 127.0.0.1:$port (TLS 1.3, every device shows its certificate)."
"$bin/visitsync-hub" --data "$hub" --listen "127.0.0.1:$port" >"$work/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/hub.log" && break; sleep 0.05; done
grep -q "listening on" "$work/hub.log" || { cat "$work/hub.log"; echo "demo: the hub did not start" >&2; exit 1; }
sed 's/^/    /' "$work/hub.log"

say "3. Three devices are enrolled: inspectors I0011 and I0021, who share school $school, and their supervisor I0001."
declare -A device
for who in a:I0011 b:I0021; do
  name=${who%%:*}; inspector=${who#*:}
  id=$(admin enroll-device --data "$hub" --ca "$ca" --inspector "$inspector" --out "$work/enroll-$name.json")
  echo "    enrolled $inspector as device $id, signed with the CA in hub-ca (its key and certificate in enroll-$name.json, mode 0600)"
  run vs init --data "$work/$name" --enroll "$work/enroll-$name.json"
  device[$name]="$work/$name"
done
say "   The CA folder now leaves the hub's machine (offline/ stands for a USB stick or an offline laptop)."
mkdir -p "$work/offline"
mv "$ca" "$work/offline/hub-ca"
echo "    moved hub-ca to offline/hub-ca; the hub keeps running without it"
printf '  $ admin enroll-request --data %s --inspector I0001 --out %s\n' "$hub" "$work/request-s.json"
id=$(admin enroll-request --data "$hub" --inspector I0001 --out "$work/request-s.json")
echo "    the hub registers device $id for supervisor I0001 and writes request-s.json (no key in it)"
run admin enroll-sign --ca "$work/offline/hub-ca" --request "$work/request-s.json" --out "$work/enroll-s.json"
echo "    signed on the offline side; enroll-s.json is carried back to the supervisor's device"
run vs init --data "$work/s" --enroll "$work/enroll-s.json"
device[s]="$work/s"
A=${device[a]}; B=${device[b]}; S=${device[s]}
say "   Each syncs once, at the county office, to receive its checklists, schools and assignments."
for d in "$A" "$B" "$S"; do run vs sync --data "$d"; done

say "4. In the field, without signal: inspector I0011 starts a school-conditions visit of $school."
v1=$(vs visit start --data "$A" --school $school --template school-conditions)
echo "    visit $v1"
for kv in dangerous_buildings=none sports_ground_surfaced=yes enrolled_students=412 class_count=9 \
          largest_class_size=58 canteen_licensed=yes overall_rating=3 issues_found=oversized_classes; do
  vs visit set --data "$A" "$v1" "${kv%%=*}" "${kv#*=}"
done
vs visit note --data "$A" "$v1" inspector_notes "三年级教室屋顶漏水 / roof leaks in a grade 3 room"
echo "    answered 8 items and noted a leaking roof; largest class 58 (a finding: above 55)"
say "   Back in range for a moment, I0011 syncs; I0021 syncs and now has the visit too."
run vs sync --data "$A"
run vs sync --data "$B"

say "5. Both go offline again and edit the same visit."
vs visit set --data "$A" "$v1" class_count 9
vs visit set --data "$B" "$v1" class_count 13
vs visit set --data "$B" "$v1" issues_found oversized_classes,water
vs visit note --data "$B" "$v1" inspector_notes "饮水机滤芯未更换 / water filter overdue"
echo "    I0011 counts 9 classes; I0021 counts 13, adds the water issue and a note."
v2=$(vs visit start --data "$A" --school $school --template campus-safety)
for kv in extinguishers_total=24 exits_clear=yes food_samples_kept_48h=yes cctv_full_coverage=no hazard_level=minor; do
  vs visit set --data "$A" "$v2" "${kv%%=*}" "${kv#*=}"
done
run vs visit submit --data "$A" "$v2"
echo "    I0011 also records and submits a campus-safety visit ($v2)."
v3=$(vs visit start --data "$B" --school $school --template rural-support)
for kv in boarders=86 left_behind_children=37 left_behind_records=yes rural_allowance_paid=yes overall_rating=4; do
  vs visit set --data "$B" "$v3" "${kv%%=*}" "${kv#*=}"
done
run vs visit submit --data "$B" "$v3"
echo "    I0021 records and submits a rural-support visit of its own ($v3): 37 left-behind children."

say "6. Both sync. The two class counts were written concurrently: the engine keeps both and flags them."
run vs sync --data "$A"
run vs sync --data "$B"
run vs sync --data "$A"
run vs conflicts --data "$A"
flagged=$(vs conflicts --data "$A" --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
run vs visit submit --data "$A" "$v1"
run vs sync --data "$A"

say "7. The supervisor syncs, settles the conflict, returns the first visit and approves the second."
run vs sync --data "$S"
run vs conflicts --data "$S"
run vs resolve --data "$S" "$v1" class_count 11
run vs visit review --data "$S" "$v1" return --comment "请复核大班额 / recount the oversized classes"
run vs visit review --data "$S" "$v2" approve
run vs sync --data "$S"

say "8. The inspectors sync and see the decisions."
run vs sync --data "$A"
run vs sync --data "$B"
run vs visit list --data "$A"
vs visit show --data "$B" "$v1" | sed -n '1,6p;/ class_count /p;/^reviews/,$p' | sed 's/^/    /'

say "9. Everyone exports: every replica shows the same visits."
for who in hub a b s; do
  if [[ $who == hub ]]; then
    admin export --data "$hub" --format jsonl --out "$work/export-$who.jsonl"
    admin export --data "$hub" --format csv --template school-conditions --out "$work/export-$who.csv"
  else
    vs export --data "$work/$who" --format jsonl --out "$work/export-$who.jsonl"
    vs export --data "$work/$who" --format csv --template school-conditions --out "$work/export-$who.csv"
  fi
done
same=yes
for who in a b s; do cmp -s "$work/export-hub.jsonl" "$work/export-$who.jsonl" || same=no; done
echo "    hub, I0011, I0021 and I0001 exports identical: $same"
echo "    school-conditions CSV (UTF-8 with BOM, for spreadsheets): $work/export-hub.csv"

say "10. The hub stops cleanly on SIGTERM."
stop_hub
sed -n '/session device=/p;/stopping/p;/stopped/p' "$work/hub.log" | tail -4 | sed 's/^/    /'

# The figures of the summary, counted from the hub's export and log.
counts=$(python3 -c '
import json, sys
v = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
count = lambda s: sum(1 for x in v if x["status"] == s)
print(len(v), len({x["started_by"] for x in v}), count("returned"), count("approved"), count("submitted"))
' "$work/export-hub.jsonl")
read -r visits inspectors returned approved submitted <<<"$counts"
sessions=$(grep -c "session device=" "$work/hub.log")
say "Summary"
echo "  $visits visits recorded offline by $inspectors inspectors, synced in $sessions TLS sessions with one hub;"
echo "  $flagged concurrent edit(s) flagged and settled by the supervisor;"
echo "  $returned visit returned, $approved approved, $submitted awaiting review;"
echo "  exports identical on the hub and all 3 devices: $same. Everything is in $work"
[[ $same == yes ]]
