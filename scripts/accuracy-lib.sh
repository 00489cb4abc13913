# Shared by the measurement scripts (scripts/*-table.sh): the binary they time and run, and
# `accuracy MODEL DATA.h5`, the top-1 % `modelpress eval` reports. Source it after `cd` to the root.
binary=${MODELPRESS:-.build/release/modelpress}
[[ -x $binary ]] || { echo "build first: swift build -c release --product modelpress" >&2; exit 2; }
accuracy() { "$binary" eval "$1" --data "$2" --json | python3 -c 'import json,sys; print("%.2f" % (100 * json.load(sys.stdin)["accuracy"]))'; }
